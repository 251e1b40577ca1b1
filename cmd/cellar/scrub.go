package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"
)

// scrubUsage is the help text of cellar scrub.
const scrubUsage = `Usage: cellar scrub --dir D [--heal] [--rate 100MiB]

Scrub verifies every shard of the closed store in D that the index
references: header, the BLAKE3 of every block, trailer and length, parity
shards included. Shards found missing or corrupt are queued for healing
(the next cellar heal, or the store's healer, rebuilds them); with --heal
they are rebuilt before scrub exits. Progress is drawn on stderr; a
summary, with a line per zone, goes to stdout. Scrub exits 0 if every
shard verified (or, with --heal, was healed) and 1 otherwise.
`

// runScrub is the scrub command:
//
//	cellar scrub --dir D [--heal] [--rate 100MiB]
func runScrub(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var doHeal bool
	var rate byteSize
	dir, err := parseDirFlags("scrub", scrubUsage, args, stderr, func(f *flag.FlagSet) {
		f.BoolVar(&doHeal, "heal", false, "rebuild the shards found bad before exiting")
		f.Var(&rate, "rate", "read at most `size` a second, such as 100MiB (default unlimited)")
	})
	if err != nil {
		return err
	}
	st, err := openStoreDir(ctx, "scrub", dir, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	srep, err := verify(ctx, st, int64(rate), stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "verified %d data sets: %d shards sound, %d bad, %d not verified (zone offline), %s read in %s\n",
		srep.DataSets, srep.Shards, srep.Bad, srep.Skipped, fmtBytes(srep.Bytes), srep.Elapsed.Round(time.Millisecond))
	for zi, z := range srep.Zones {
		fmt.Fprintf(stdout, "  az%d: %d shards sound, %d bad, %s read\n", zi+1, z.Shards, z.Bad, fmtBytes(z.Bytes))
	}
	for _, l := range srep.Lost {
		fmt.Fprintf(stdout, "lost: %s\n", l)
	}
	if doHeal {
		hrep, err := heal(ctx, st, stderr)
		if err != nil {
			return err
		}
		return healSummary(stdout, st, srep, hrep)
	}
	if srep.Bad > 0 || srep.Skipped > 0 {
		return fmt.Errorf("%d bad shards, %d data sets lost, %d shards not verified; the bad shards of the others are queued: run cellar heal", srep.Bad, len(srep.Lost), srep.Skipped)
	}
	fmt.Fprintln(stdout, "every shard verified")
	return nil
}
