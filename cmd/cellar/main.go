package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
)

// A command is one subcommand of cellar. run gets the arguments after the
// command's name; it reports a bad command line by returning a usageError
// (exit status 2) and -h or -help by returning flag.ErrHelp (exit status 0).
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands lists the subcommands in the order usage shows them.
var commands = []command{
	{name: "bench", summary: "measure the store against raw-disk baselines and print one table", run: runBench},
	{name: "serve", summary: "serve the S3 API over a store until SIGINT or SIGTERM", run: runServe},
	{name: "heal", summary: "bring every object of a closed store back to full redundancy", run: runHeal},
	{name: "scrub", summary: "verify every shard of a closed store; queue or heal the bad ones", run: runScrub},
	{name: "fsck", summary: "compare a closed store's index with its zones; --repair fixes", run: runFsck},
	{name: "usage", summary: "print a closed store's objects, bytes and monthly cost by bucket and storage class", run: runUsage},
	{name: "durability", summary: "annual probability of losing an object, from a Markov model of failures and repairs", run: runDurability},
	{name: "rebuild-index", summary: "make a closed store's index again from its zones alone", run: runRebuildIndex},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// usageError is a bad command line. Its message is printed with a pointer
// to the command's help, and cellar exits with status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// errUsageShown is a usageError whose message and usage text the flag
// package has printed already.
var errUsageShown = &usageError{}

// run dispatches args (without the program name) and returns the exit
// status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	help := false
	switch name {
	case "help", "-h", "-help", "--help":
		if len(rest) == 0 {
			usage(stdout)
			return exitOK
		}
		// "cellar help bench" is "cellar bench -h", on stdout.
		name, rest, help = rest[0], []string{"-h"}, true
	}
	cmd := lookup(name)
	if cmd == nil {
		fmt.Fprintf(stderr, "cellar: unknown command %q\nRun 'cellar help' for the list of commands.\n", name)
		return exitUsage
	}
	if help {
		stderr = stdout
	}
	err := cmd.run(ctx, rest, stdout, stderr)
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		if ue != errUsageShown {
			fmt.Fprintf(stderr, "cellar %s: %s\nRun 'cellar help %s' for usage.\n", cmd.name, ue.msg, cmd.name)
		}
		return exitUsage
	default:
		fmt.Fprintf(stderr, "cellar %s: %v\n", cmd.name, err)
		return exitError
	}
}

func lookup(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

func usage(w io.Writer) {
	fmt.Fprint(w, "cellar is an S3-style object store; this command runs and inspects one.\n\n")
	fmt.Fprint(w, "Usage:\n\n\tcellar <command> [flags]\n\nCommands:\n\n")
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "\t%s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
	fmt.Fprint(w, "\nRun 'cellar help <command>' for a command's flags.\n")
}
