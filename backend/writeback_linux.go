//go:build !arm

package backend

import (
	"os"
	"syscall"
)

// syncFileRangeWrite is SYNC_FILE_RANGE_WRITE: start writeback of the
// range's dirty pages, without waiting for it to finish.
const syncFileRangeWrite = 2

// startWriteback asks the kernel to start writing n bytes of f at off to
// disk. It is a hint: a failure here shows again, if it matters, in fsync.
// The call can block while the device is busy (behind a cache flush, say),
// so Writers make it off their own goroutine.
func startWriteback(f *os.File, off, n int64) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = syscall.SyncFileRange(int(fd), off, n, syncFileRangeWrite)
	})
}
