//go:build !linux

package main

import (
	"errors"
	"time"
)

var errNotLinux = errors.New("needs Linux")

func evictDir(root string) (int, error) {
	return 0, errors.New("cold reads need Linux's fadvise to evict the page cache; pass --warm")
}

func syncAll() {}

func fsName(dir string) (string, bool) { return "unknown filesystem", true }

func readRSS() (int64, error) { return 0, errNotLinux }

func diskReadBytes() (int64, bool) { return 0, false }

func cpuTimes() (user, sys time.Duration) { return 0, 0 }
