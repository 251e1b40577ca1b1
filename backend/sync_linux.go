package backend

import (
	"os"
	"syscall"
)

// dataSync fdatasyncs f. It may run while another goroutine writes f.
func dataSync(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = retryEINTR(func() error { return syscall.Fdatasync(int(fd)) })
	}); err != nil {
		return err
	}
	return serr
}
