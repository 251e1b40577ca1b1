//go:build !linux || arm

package backend

import "os"

// writebackEvery is how often startWriteback is called; see
// writeback_linux.go.
const writebackEvery = 1 << 20

// startWriteback does nothing where sync_file_range is missing (and on
// 32-bit ARM, where it is a different call).
func startWriteback(f *os.File, off, n int64) {}
