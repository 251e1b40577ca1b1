//go:build !linux

package backend

import (
	"errors"
	"os"
)

// createTemp creates a new file, prefix + random digits + suffix, in dir,
// open for writing.
func createTemp(dir, prefix, suffix string) (*os.File, error) {
	return os.CreateTemp(dir, prefix+"*"+suffix)
}

// syncDir fsyncs a directory, making the entries in it durable.
func syncDir(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	serr := f.Sync()
	cerr := f.Close()
	return errors.Join(serr, cerr)
}

func rename(oldname, newname string) error { return os.Rename(oldname, newname) }
