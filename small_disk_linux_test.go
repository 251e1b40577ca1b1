package cellar

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestSmallObjectDiskUse backs the claim in doc.go that the small layout
// costs no more disk: on the embedded default, the shard files of a
// SmallObjectSize object take no more filesystem blocks than those of an
// object one byte larger, stored as RS(4,2).
func TestSmallObjectDiskUse(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, &Options{Dir: dir, SweepInterval: -1, ProbeInterval: -1, ScrubInterval: -1, LifecycleInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateBucket(ctx, "disk", nil); err != nil {
		t.Fatal(err)
	}
	use := func(size int) (files int, bytes int64) {
		t.Helper()
		info, err := s.Bucket("disk").Put(ctx, "k", strings.NewReader(strings.Repeat("x", size)), nil)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := s.keyVersions(ctx, "disk", info.Key)
		if err != nil || len(recs) != 1 {
			t.Fatal(recs, err)
		}
		id := recs[0].Segments[0].DataID
		err = filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() || !strings.Contains(p, id) {
				return err
			}
			var st syscall.Stat_t
			if err := syscall.Stat(p, &st); err != nil {
				return err
			}
			files++
			bytes += st.Blocks * 512
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return files, bytes
	}
	smallFiles, small := use(SmallObjectSize)
	largeFiles, large := use(SmallObjectSize + 1)
	if smallFiles != 3 || largeFiles != 6 {
		t.Fatalf("%d and %d shard files, want 3 and 6", smallFiles, largeFiles)
	}
	if large < int64(largeFiles)*4096 {
		// The claim is for filesystems that give every file at least a
		// 4 KiB block (ext4, xfs, tmpfs); this one packs small files.
		t.Skipf("filesystem under %s keeps six shard files in %d bytes", dir, large)
	}
	if small > large {
		t.Errorf("a %d-byte object takes %d bytes of disk in RS(1,2), more than the %d of a %d-byte one in RS(4,2)", SmallObjectSize, small, large, SmallObjectSize+1)
	}
	t.Logf("disk use: %d bytes in RS(1,2), %d in RS(4,2)", small, large)
}
