//go:build !arm

package backend

import (
	"os"
	"syscall"
)

// writebackEvery is how many bytes of a blob a Writer lets pile up in the
// page cache before it asks the kernel to start writing them out. Without
// it a large blob goes to disk only in Commit's fsync, after the caller
// has produced all of it; with it the disk works meanwhile and the fsync
// finds little left to write. It makes nothing durable: fsync still does.
const writebackEvery = 1 << 20

// syncFileRangeWrite is SYNC_FILE_RANGE_WRITE: start writeback of the
// range's dirty pages, without waiting for it.
const syncFileRangeWrite = 2

// startWriteback asks the kernel to start writing n bytes of f at off to
// disk. It is a hint: a failure here shows again, if it matters, in fsync.
func startWriteback(f *os.File, off, n int64) {
	_ = syscall.SyncFileRange(int(f.Fd()), off, n, syncFileRangeWrite)
}
