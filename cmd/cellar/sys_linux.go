//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// evictDir drops every regular file under root from the page cache, so
// that the next read of it comes from the disk: it fsyncs each file (the
// kernel keeps dirty pages whatever the advice) and then advises
// FADV_DONTNEED over the whole file. It returns how many files it evicted.
// Files that vanish during the walk (Pebble removes obsolete ones) are
// skipped.
func evictDir(root string) (int, error) {
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		defer f.Close()
		if err := f.Sync(); err != nil {
			return fmt.Errorf("evict %s: fsync: %w", p, err)
		}
		if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
			return fmt.Errorf("evict %s: fadvise: %w", p, err)
		}
		n++
		return nil
	})
	return n, err
}

// syncAll flushes every filesystem's dirty data, so that writeback left by
// one phase does not land in the next one's timing.
func syncAll() { unix.Sync() }

// fsName names the filesystem holding dir, and whether page-cache eviction
// can work on it (not on tmpfs, where the page cache is the storage).
func fsName(dir string) (name string, evictable bool) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return "unknown filesystem", true
	}
	switch int64(st.Type) {
	case unix.EXT4_SUPER_MAGIC:
		return "ext4", true // also ext2 and ext3, which share the magic
	case unix.XFS_SUPER_MAGIC:
		return "xfs", true
	case unix.BTRFS_SUPER_MAGIC:
		return "btrfs", true
	case unix.F2FS_SUPER_MAGIC:
		return "f2fs", true
	case unix.NFS_SUPER_MAGIC:
		return "nfs", true
	case unix.OVERLAYFS_SUPER_MAGIC:
		return "overlayfs", true
	case unix.TMPFS_MAGIC:
		return "tmpfs", false
	}
	return fmt.Sprintf("filesystem 0x%x", st.Type), true
}

// cpuTimes returns the user and system CPU time the process has used.
func cpuTimes() (user, sys time.Duration) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// readRSS returns the process's resident set size (VmRSS) in bytes.
func readRSS() (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	v, err := procField(b, "VmRSS:")
	return v * 1024, err // the kernel reports kB
}

// diskReadBytes returns how many bytes this process has made the kernel
// fetch from storage (read_bytes of /proc/self/io), or ok false where the
// kernel does not account for it.
func diskReadBytes() (n int64, ok bool) {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0, false
	}
	v, err := procField(b, "read_bytes:")
	return v, err == nil
}

// procField parses the number after name in a /proc file of "name value"
// lines.
func procField(b []byte, name string) (int64, error) {
	for line := range bytes.Lines(b) {
		rest, ok := bytes.CutPrefix(line, []byte(name))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) == 0 {
			break
		}
		return strconv.ParseInt(string(f[0]), 10, 64)
	}
	return 0, fmt.Errorf("no %s line", name)
}
