//go:build !linux

package backend

import "os"

// dataSync syncs f. It may run while another goroutine writes f.
func dataSync(f *os.File) error { return f.Sync() }
