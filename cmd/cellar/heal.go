package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cellarhq/cellar"
)

// parseDirFlags parses the flags of the commands that work on a closed
// store directory: --dir and whatever more adds.
func parseDirFlags(name, usage string, args []string, stderr io.Writer, more func(*flag.FlagSet)) (string, error) {
	var dir string
	flags := flag.NewFlagSet(name, flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.StringVar(&dir, "dir", "", "the store's `directory` (the embedded default layout: D/index, D/az1..az3)")
	if more != nil {
		more(flags)
	}
	flags.Usage = func() { dirCommandUsage(flags, usage) }
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", err
		}
		return "", errUsageShown
	}
	switch {
	case flags.NArg() > 0:
		return "", &usageError{fmt.Sprintf("unexpected argument %q", flags.Arg(0))}
	case dir == "":
		return "", &usageError{"--dir is required"}
	}
	return dir, nil
}

func dirCommandUsage(flags *flag.FlagSet, usage string) {
	w := flags.Output()
	fmt.Fprint(w, usage, "\nFlags:\n")
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	flags.VisitAll(func(f *flag.Flag) {
		name, use := flag.UnquoteUsage(f)
		def := ""
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			def = " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(tw, "  --%s %s\t%s%s\n", f.Name, name, use, def)
	})
	tw.Flush()
}

// openStoreDir opens the closed store in dir for an admin command, with no
// background work. It refuses a directory without an index, which Open
// would take for a new, empty store (and fsck --repair would then see
// every shard as an orphan). A zone directory that is gone is recreated
// empty, and said so on stderr, so that its shards can be rebuilt.
func openStoreDir(ctx context.Context, cmd, dir string, stderr io.Writer) (*cellar.Store, error) {
	fi, err := os.Stat(filepath.Join(dir, "index"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%s holds no index (%s); it is not a cellar store directory", dir, filepath.Join(dir, "index"))
	case err != nil:
		return nil, err
	case !fi.IsDir():
		return nil, fmt.Errorf("%s is not a directory", filepath.Join(dir, "index"))
	}
	for i := 1; i <= cellar.DefaultZones; i++ {
		zd := filepath.Join(dir, fmt.Sprintf("az%d", i))
		if _, err := os.Stat(zd); errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(stderr, "cellar %s: zone directory %s is missing; recreating it empty\n", cmd, zd)
		}
	}
	return cellar.Open(ctx, &cellar.Options{
		Dir:           dir,
		SweepInterval: -1,
		ProbeInterval: -1,
		ScrubInterval: -1,
		// An admin heal runs as fast as the disks go.
		HealBytesPerSecond: -1,
	})
}

// progressEvery is how often a progress line is printed when stderr is
// not a terminal; on a terminal the line is redrawn every tenth of a
// second.
var progressEvery = 10 * time.Second

// progress draws one phase's progress line on stderr.
type progress struct {
	w     io.Writer
	tty   bool
	phase string
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer, phase string) *progress {
	now := time.Now()
	return &progress{w: w, tty: isTerminal(w), phase: phase, start: now, last: now}
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// update shows that done of total items and bytes of totalBytes are done.
// It draws only as often as the output allows, unless final.
func (p *progress) update(done, total int, bytes, totalBytes int64, unit string, final bool) {
	now := time.Now()
	every := progressEvery
	if p.tty {
		every = 100 * time.Millisecond
	}
	if !final && now.Sub(p.last) < every {
		return
	}
	p.last = now
	elapsed := now.Sub(p.start)
	rate := 0.0
	if elapsed > 0 {
		rate = float64(bytes) / elapsed.Seconds()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: ", p.phase)
	if p.tty {
		frac := 1.0
		if final {
			// Done, whatever the estimate said.
		} else if totalBytes > 0 {
			frac = min(float64(bytes)/float64(totalBytes), 1)
		} else if total > 0 {
			frac = min(float64(done)/float64(total), 1)
		}
		const width = 24
		n := int(frac * width)
		fmt.Fprintf(&b, "[%s%s] %3.0f%% ", strings.Repeat("=", n), strings.Repeat(" ", width-n), frac*100)
	}
	if final {
		fmt.Fprintf(&b, "%d/%d %s, %s in %s, %s/s", done, total, unit, fmtBytes(bytes), elapsed.Round(time.Millisecond), fmtBytes(int64(rate)))
	} else {
		// totalBytes is an estimate: shards that turn out missing are
		// never read, rebuilt blobs carry their record too.
		fmt.Fprintf(&b, "%d/%d %s, %s of about %s, %s/s", done, total, unit, fmtBytes(bytes), fmtBytes(totalBytes), fmtBytes(int64(rate)))
		if rate > 0 && totalBytes > bytes {
			left := time.Duration(float64(totalBytes-bytes) / rate * float64(time.Second))
			fmt.Fprintf(&b, ", %s left", left.Round(time.Second))
		}
	}
	if p.tty {
		fmt.Fprintf(p.w, "\r%s\x1b[K", b.String())
		if final {
			fmt.Fprintln(p.w)
		}
		return
	}
	fmt.Fprintln(p.w, b.String())
}

func fmtBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// verify runs a scrub pass that queues every bad shard for healing,
// drawing its progress on stderr.
func verify(ctx context.Context, st *cellar.Store, rate int64, stderr io.Writer) (cellar.ScrubReport, error) {
	p := newProgress(stderr, "verify")
	var last cellar.ScrubProgress
	rep, err := st.Scrub(ctx, &cellar.ScrubOptions{BytesPerSecond: rate, Progress: func(sp cellar.ScrubProgress) {
		last = sp
		p.update(sp.DataSets, sp.TotalDataSets, sp.Bytes, sp.TotalBytes, "data sets", false)
	}})
	if err == nil {
		p.update(last.DataSets, last.TotalDataSets, last.Bytes, last.TotalBytes, "data sets", true)
	}
	return rep, err
}

// heal drains the heal queue, drawing its progress on stderr from the
// store's Stats.
func heal(ctx context.Context, st *cellar.Store, stderr io.Writer) (cellar.HealReport, error) {
	before := st.Stats()
	if before.Err != nil {
		return cellar.HealReport{}, before.Err
	}
	p := newProgress(stderr, "heal")
	type result struct {
		rep cellar.HealReport
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := st.Heal(ctx)
		done <- result{rep, err}
	}()
	// Stats counts the queue, which after a zone loss holds entries for
	// every object: poll it no more than keeps its cost to a twentieth.
	every := 100 * time.Millisecond
	show := func(final bool) {
		t0 := time.Now()
		now := st.Stats()
		every = max(100*time.Millisecond, 20*time.Since(t0))
		sets := max(before.HealQueueSets-now.HealQueueSets, 0)
		p.update(sets, before.HealQueueSets, now.BytesHealed-before.BytesHealed, before.HealQueueBytes, "data sets", final)
	}
	for {
		t := time.NewTimer(every)
		select {
		case r := <-done:
			t.Stop()
			show(true)
			return r.rep, r.err
		case <-t.C:
			show(false)
		}
	}
}

// healUsage is the help text of cellar heal.
const healUsage = `Usage: cellar heal --dir D

Heal brings every object of the closed store in D back to full
redundancy. It verifies every shard the index references (as cellar
scrub), queues each data set with a missing or corrupt shard, and
rebuilds those shards from the others. A zone directory that was deleted
is recreated empty and all its shards are rebuilt. Progress (data sets,
bytes, rate, time left) is drawn on stderr; a summary goes to stdout.
Heal exits 0 once every object is at full redundancy and 1 if any could
not be brought back.
`

// runHeal is the heal command:
//
//	cellar heal --dir D
func runHeal(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	dir, err := parseDirFlags("heal", healUsage, args, stderr, nil)
	if err != nil {
		return err
	}
	st, err := openStoreDir(ctx, "heal", dir, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	srep, err := verify(ctx, st, 0, stderr)
	if err != nil {
		return err
	}
	hrep, err := heal(ctx, st, stderr)
	if err != nil {
		return err
	}
	return healSummary(stdout, st, srep, hrep)
}

// healSummary prints what verifying and healing did and fails unless the
// store is back at full redundancy.
func healSummary(w io.Writer, st *cellar.Store, srep cellar.ScrubReport, hrep cellar.HealReport) error {
	fmt.Fprintf(w, "verified %d data sets: %d shards sound, %d bad, %s read in %s\n",
		srep.DataSets, srep.Shards, srep.Bad, fmtBytes(srep.Bytes), srep.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "healed %d shards (%s); %d found sound on a second look; %d pending\n",
		hrep.Healed, fmtBytes(hrep.Bytes), hrep.Intact, hrep.Pending)
	for _, l := range srep.Lost {
		fmt.Fprintf(w, "lost: %s\n", l)
	}
	for _, p := range hrep.Problems {
		fmt.Fprintf(w, "not healed: %s\n", p)
	}
	stats := st.Stats()
	if stats.Err != nil {
		return stats.Err
	}
	if len(srep.Lost) > 0 || stats.HealQueue > 0 || srep.Skipped > 0 {
		return fmt.Errorf("not at full redundancy: %d data sets lost, %d shards still queued for healing, %d shards not verified", len(srep.Lost), stats.HealQueue, srep.Skipped)
	}
	fmt.Fprintln(w, "every object is at full redundancy")
	return nil
}
