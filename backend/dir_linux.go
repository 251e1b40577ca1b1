package backend

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// The helpers below do with raw system calls what os does with more of
// them; a Dir's small blobs pay for every call on each commit. An
// os.OpenFile on Linux adds four fcntl calls and an epoll_ctl that fails
// for files and directories (the poller does not take them), and
// os.Rename an lstat of the target. dir_other.go has the plain versions,
// also for Darwin, where File.Sync is not a plain fsync.

// createTemp creates a new file, prefix + random digits + suffix, in dir,
// open for writing.
func createTemp(dir, prefix, suffix string) (*os.File, error) {
	for try := 0; ; try++ {
		name := filepath.Join(dir, prefix+strconv.FormatUint(rand.Uint64(), 36)+suffix)
		var fd int
		err := retryEINTR(func() (err error) {
			fd, err = syscall.Open(name, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL|syscall.O_CLOEXEC, 0o600)
			return err
		})
		if errors.Is(err, syscall.EEXIST) && try < 100 {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		// NewFile adds one fcntl, and does not try the poller.
		return os.NewFile(uintptr(fd), name), nil
	}
}

// syncDir fsyncs a directory, making the entries in it durable.
func syncDir(path string) error {
	var fd int
	err := retryEINTR(func() (err error) {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return &fs.PathError{Op: "open", Path: path, Err: err}
	}
	if err := retryEINTR(func() error { return syscall.Fsync(fd) }); err != nil {
		syscall.Close(fd)
		return &fs.PathError{Op: "sync", Path: path, Err: err}
	}
	if err := syscall.Close(fd); err != nil {
		return &fs.PathError{Op: "close", Path: path, Err: err}
	}
	return nil
}

// rename is os.Rename without its lstat of newname, which is there to
// refuse replacing a directory; rename(2) refuses that too.
func rename(oldname, newname string) error {
	if err := retryEINTR(func() error { return syscall.Rename(oldname, newname) }); err != nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
	}
	return nil
}

func retryEINTR(f func() error) error {
	for {
		if err := f(); err != syscall.EINTR {
			return err
		}
	}
}
