package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/cellarhq/cellar"
)

// fsckUsage is the help text of cellar fsck.
const fsckUsage = `Usage: cellar fsck --dir D [--repair]

Fsck compares the index of the closed store in D with its zones
(Store.Check): every version's and every uploaded part's shards are
present and verify, every latest pointer names the newest live version,
every shard file belongs to a record, and the metadata records on the
zones (bucket settings, delete markers, changed versions, tombstones of
deletions not yet swept: what rebuild-index reads) agree with the index.
It prints each problem on
stdout and exits 0 when index and zones agree, 1 when it finds a problem.
With --repair it removes orphaned shard files and temporary files left by
interrupted writes, rebuilds missing and corrupt shards, rewrites zone
metadata records that are missing or disagree, removes stale tombstones
and unreadable records, checks again,
and exits 0 if that check is clean.
`

// runFsck is the fsck command:
//
//	cellar fsck --dir D [--repair]
func runFsck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var repair bool
	dir, err := parseDirFlags("fsck", fsckUsage, args, stderr, func(f *flag.FlagSet) {
		f.BoolVar(&repair, "repair", false, "remove orphans, rebuild bad shards and check again")
	})
	if err != nil {
		return err
	}
	st, err := openStoreDir(ctx, "fsck", dir, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	rep, err := st.Check(ctx)
	if err != nil {
		return err
	}
	n := printCheck(stdout, rep)
	if n == 0 {
		fmt.Fprintln(stdout, "index and zones agree")
		return nil
	}
	if !repair {
		return fmt.Errorf("%d problems; run with --repair to fix what can be", n)
	}

	// Nothing else writes: the index's lock keeps other processes out, so
	// every unreferenced shard is an orphan whatever its age.
	sw, err := st.SweepOrphans(ctx, time.Now().Add(time.Hour))
	if err != nil {
		return err
	}
	temps := 0
	for _, z := range st.Zones() {
		if ts, ok := z.(interface {
			SweepTemp(time.Duration) (int, error)
		}); ok {
			n, err := ts.SweepTemp(0)
			if err != nil {
				return err
			}
			temps += n
		}
	}
	hrep, err := heal(ctx, st, stderr)
	if err != nil {
		return err
	}
	metaFixed, err := st.RepairMeta(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "repair: removed %d orphaned shard files and %d temporary files; healed %d shards (%s), %d pending; fixed %d zone metadata records\n",
		sw.Orphans, temps, hrep.Healed, fmtBytes(hrep.Bytes), hrep.Pending, metaFixed)
	rep, err = st.Check(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "after repair:")
	if n := printCheck(stdout, rep); n > 0 {
		return fmt.Errorf("%d problems left after repair", n)
	}
	fmt.Fprintln(stdout, "index and zones agree")
	return nil
}

// printCheck prints a check's findings and returns how many problems it
// found: each problem line, each degraded data set, each unreachable zone.
func printCheck(w io.Writer, rep *cellar.CheckReport) int {
	fmt.Fprintf(w, "checked %d versions, %d shards\n", rep.Versions, rep.Shards)
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "problem: %s\n", p)
	}
	if rep.Degraded > 0 {
		fmt.Fprintf(w, "problem: %d data sets have missing or corrupt shards (readable; queued for healing)\n", rep.Degraded)
	}
	if rep.MetaDegraded > 0 {
		fmt.Fprintf(w, "problem: %d zone metadata records are missing or unreadable on some zone (queued for healing)\n", rep.MetaDegraded)
	}
	for _, z := range rep.Unreachable {
		fmt.Fprintf(w, "problem: zone az%d could not be listed\n", z+1)
	}
	return len(rep.Problems) + rep.Degraded + rep.MetaDegraded + len(rep.Unreachable)
}
