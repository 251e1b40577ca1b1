package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestBenchRepair runs heal, scrub and heal-10k at a tiny size and checks
// their rows and what their notes say was done.
func TestBenchRepair(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bench")
	args := []string{"bench", "--dir", dir, "--only", "heal,scrub,heal-10k", "--heal-size", "3MiB", "--heal-object", "1MiB", "--heal-count", "40", "--small-size", "2KiB"}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), args, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit status %d\nstderr:\n%s\nstdout:\n%s", code, stderr.String(), stdout.String())
	}
	out := stdout.String()
	t.Logf("output:\n%s", out)
	rows := tableRows(t, out)
	if len(rows) != 3 {
		t.Errorf("rows %v: want heal, scrub and heal-10k", rows)
	}
	for w, unit := range map[string]string{wHeal: "MB/s", wScrub: "MB/s", wHeal10k: "obj/s"} {
		f := rows[w]
		if len(f) != 6 || f[2] != unit || f[4] != unit {
			t.Errorf("%s row %q: want value %s value %s ratio", w, f, unit, unit)
			continue
		}
		c, base, ratio := number(t, w, f[1]), number(t, w, f[3]), number(t, w, f[5])
		if c <= 0 || base <= 0 || ratio <= 0 {
			t.Errorf("%s: cellar %v, baseline %v, ratio %v: want all positive", w, c, base, ratio)
		}
		if got := c / base; got < ratio*0.95-0.01 || got > ratio*1.05+0.01 {
			t.Errorf("%s: ratio %v, but cellar/baseline = %v", w, ratio, got)
		}
	}
	for _, want := range []string{
		"heal: 3 objects of 1 MiB (3 MiB)", "queued its 6 shards", "rebuilt 6 shards",
		"scrub: cellar", "18 shards of 3 data sets",
		"heal-10k: 40 objects of 2 KiB", "leaving 40 shards queued", "writing the 40 missed shard blobs", // small: one shard each in az2
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("bench left %s behind (%v)", dir, err)
	}
}

func TestBenchRepairFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		errs string
	}{
		{[]string{"--heal-object", "0"}, "--heal-object 0 B"},
		{[]string{"--heal-size", "1MiB", "--heal-object", "2MiB"}, "--heal-size 1 MiB: must be at least --heal-object 2 MiB"},
		{[]string{"--heal-count", "0"}, "--heal-count"},
		{[]string{"--heal-size", "big"}, "bad size"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append([]string{"bench", "--dir", "x"}, tc.args...), &stdout, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), tc.errs) {
			t.Errorf("cellar bench %q: status %d, stderr %q; want %d and %q", tc.args, code, stderr.String(), exitUsage, tc.errs)
		}
	}
}

func TestRepairRow(t *testing.T) {
	for _, tc := range []struct {
		c, r  float64
		ratio string
	}{
		{50, 100, "0.50"}, {300, 100, "3.00"}, {1, 400, "0.0025"}, {3, 100, "0.03"},
	} {
		got := repairRow(tc.c, tc.r, "%.1f MB/s")
		if got.ratio != tc.ratio || got.cellar != strconv.FormatFloat(tc.c, 'f', 1, 64)+" MB/s" {
			t.Errorf("repairRow(%v, %v) = %+v, want ratio %s", tc.c, tc.r, got, tc.ratio)
		}
	}
}
