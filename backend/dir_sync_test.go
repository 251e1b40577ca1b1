package backend

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"sync/atomic"
	"testing"
)

// writeBlob writes size bytes of a pattern to name in d in 1 MiB writes
// and commits it, returning the first error.
func writeBlob(d *Dir, name string, size int) error {
	w, err := d.Create(context.Background(), name)
	if err != nil {
		return err
	}
	chunk := bytes.Repeat([]byte("cellar-sync-"), (1<<20)/12+1)[:1<<20]
	for n := 0; n < size; n += len(chunk) {
		if _, err := w.Write(chunk[:min(len(chunk), size-n)]); err != nil {
			w.Abort()
			return err
		}
	}
	return w.Commit()
}

// Blobs larger than syncEvery are synced in the background while they are
// written, and read back whole.
func TestDirSyncBehind(t *testing.T) {
	var calls atomic.Int32
	syncFile = func(f *os.File) error { calls.Add(1); return dataSync(f) }
	t.Cleanup(func() { syncFile = dataSync })
	d, err := NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	size := 3*syncEvery + 12345
	if err := writeBlob(d, "big", size); err != nil {
		t.Fatal(err)
	}
	if calls.Load() == 0 {
		t.Errorf("no background sync while writing %d bytes", size)
	}
	r, err := d.Open(context.Background(), "big")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
	if err != nil || len(got) != size {
		t.Fatalf("read %d bytes, %v; want %d", len(got), err, size)
	}
	calls.Store(0)
	if err := writeBlob(d, "small", syncEvery-1); err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("%d background syncs of a blob under %d bytes", n, syncEvery)
	}
}

// A failed background sync fails the blob: the kernel may have dropped the
// pages it could not write, so a later fsync could succeed without them.
func TestDirSyncBehindFailure(t *testing.T) {
	errDisk := errors.New("injected fdatasync failure")
	syncFile = func(*os.File) error { return errDisk }
	t.Cleanup(func() { syncFile = dataSync })
	d, err := NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := writeBlob(d, "big", 2*syncEvery); !errors.Is(err, errDisk) {
		t.Fatalf("write with a failing background sync: %v, want %v", err, errDisk)
	}
	if _, err := d.Stat(context.Background(), "big"); !errors.Is(err, ErrNotExist) {
		t.Fatalf("Stat after the failed write: %v, want ErrNotExist", err)
	}
	n := 0
	if err := d.List(context.Background(), "", func(Info) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("List after the failed write: %d blobs, %v", n, err)
	}
	left, _ := os.ReadDir(d.tmp)
	if len(left) != 0 {
		t.Fatalf("temp files left: %v", left)
	}
}
