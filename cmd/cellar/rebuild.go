package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/cellarhq/cellar"
)

// rebuildUsage is the help text of cellar rebuild-index.
const rebuildUsage = `Usage: cellar rebuild-index --dir D [--force]

Rebuild-index makes a new index for the closed store in D from its zones
alone (cellar.RebuildIndex): the shard trailers' version records and the
metadata records beside them give back every bucket and its settings,
every version and delete marker; data deleted but not yet swept stays
deleted; missing shards are queued for healing. Multipart uploads in
progress are dropped, their parts queued for deletion, and counted.

It refuses to run when D/index exists, unless --force, which moves the
old index aside to D/index.old-<time> (it is never deleted). It prints
what it recovered and exits 0 on success. Run cellar heal afterwards if
shards are missing.
`

// runRebuildIndex is the rebuild-index command:
//
//	cellar rebuild-index --dir D [--force]
func runRebuildIndex(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var force bool
	dir, err := parseDirFlags("rebuild-index", rebuildUsage, args, stderr, func(f *flag.FlagSet) {
		f.BoolVar(&force, "force", false, "move an existing D/index aside and rebuild anyway")
	})
	if err != nil {
		return err
	}
	if fi, err := os.Stat(dir); err != nil {
		return err
	} else if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	for i := 1; i <= cellar.DefaultZones; i++ {
		zd := filepath.Join(dir, fmt.Sprintf("az%d", i))
		if _, err := os.Stat(zd); errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(stderr, "cellar rebuild-index: zone directory %s is missing; recreating it empty\n", zd)
		}
	}
	rep, err := cellar.RebuildIndex(ctx, &cellar.Options{Dir: dir}, &cellar.RebuildOptions{Replace: force})
	if errors.Is(err, cellar.ErrIndexExists) {
		return fmt.Errorf("%w; run with --force to move it aside and rebuild", err)
	}
	if err != nil {
		return err
	}
	printRebuild(stdout, &rep)
	return nil
}

func printRebuild(w io.Writer, rep *cellar.RebuildReport) {
	if rep.OldIndex != "" {
		fmt.Fprintf(w, "old index moved to %s\n", rep.OldIndex)
	}
	fmt.Fprintf(w, "buckets:            %d", rep.Buckets)
	if rep.BucketsInferred > 0 {
		fmt.Fprintf(w, " (%d without a zone record, made with default settings)", rep.BucketsInferred)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "versions:           %d\n", rep.Versions)
	fmt.Fprintf(w, "delete markers:     %d\n", rep.DeleteMarkers)
	fmt.Fprintf(w, "kept deleted:       %d versions\n", rep.Removed)
	fmt.Fprintf(w, "queued for delete:  %d data sets\n", rep.Garbage)
	fmt.Fprintf(w, "uploads dropped:    %d (%d parts)\n", rep.UploadsDropped, rep.PartsDropped)
	fmt.Fprintf(w, "shards missing:     %d (queued for healing)\n", rep.ShardsMissing)
	fmt.Fprintf(w, "records unreadable: %d\n", rep.RecordsUnreadable)
	fmt.Fprintf(w, "data incomplete:    %d (writes cut short by a crash; left for the orphan sweep)\n", rep.DataIncomplete)
	for _, z := range rep.ZonesUnreachable {
		fmt.Fprintf(w, "zone az%d could not be listed\n", z+1)
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "problem: %s\n", p)
	}
}
