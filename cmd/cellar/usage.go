package main

import (
	"context"
	"io"
)

// usageUsage is the help text of cellar usage.
const usageUsage = `Usage: cellar usage --dir D

Usage prints what the closed store in D holds (Store.Usage): per bucket and
storage class the objects (every version, delete markers aside), their
logical bytes, the bytes stored on the zones with parity, and an estimated
monthly cost from S3's public per-GB-month prices, then the totals.
`

// runUsage is the usage command:
//
//	cellar usage --dir D
func runUsage(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	dir, err := parseDirFlags("usage", usageUsage, args, stderr, nil)
	if err != nil {
		return err
	}
	st, err := openStoreDir(ctx, "usage", dir, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := st.Usage(ctx)
	if err != nil {
		return err
	}
	return u.WriteTable(stdout)
}
