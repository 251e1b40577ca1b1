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

// TestBench runs the whole bench with tiny sizes and checks that the table
// has a sane row for every workload and that nothing is left behind.
func TestBench(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bench") // bench must create it
	args := []string{"bench", "--dir", dir, "--size", "12MiB", "--small-count", "50", "--list-keys", "3000", "--part-size", "5MiB",
		"--s3-small", "64KiB", "--s3-large", "1MiB", "--s3-count", "4", "--lifecycle-objects", "500", "--heal-size", "4MiB", "--heal-object", "1MiB", "--heal-count", "20"}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), args, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit status %d\nstderr:\n%s\nstdout:\n%s", code, stderr.String(), stdout.String())
	}
	out := stdout.String()
	t.Logf("output:\n%s", out)

	rows := tableRows(t, out)
	units := map[string]string{
		wPutLarge: "MB/s", wMultipart: "MB/s", wGetLarge: "MB/s", wGetDegraded: "MB/s",
		wPutSmall: "obj/s", wList: "keys/s", wPutLargeMem: "MiB",
		wS3Put + " 64KiB": "MB/s", wS3Put + " 1MiB": "MB/s", wS3Get + " 64KiB": "MB/s", wS3Get + " 1MiB": "MB/s",
		wLifecycle: "obj/s", wLifecycleIdle: "ms",
		wHeal: "MB/s", wScrub: "MB/s",
		wS3Put + " 64KiB/TLS": "MB/s", wS3Put + " 1MiB/TLS": "MB/s", wS3Get + " 64KiB/TLS": "MB/s", wS3Get + " 1MiB/TLS": "MB/s",
	}
	if len(rows) != len(units) {
		t.Errorf("table has %d rows, want %d", len(rows), len(units))
	}
	for w := range units {
		f, ok := rows[w]
		if !ok {
			t.Errorf("no %s row", w)
			continue
		}
		// workload, cellar value, unit, baseline value, unit, ratio
		if len(f) != 6 || f[2] != units[w] || f[4] != units[w] {
			t.Errorf("%s row %q: want value %s value %s ratio", w, f, units[w], units[w])
			continue
		}
		c, base := number(t, w, f[1]), number(t, w, f[3])
		if w == wPutLargeMem {
			// The baseline holds six 1 MiB buffers; cellar a few stripes.
			if c < 0 || base < 0 || c > 512 || base > 512 || f[5] != "-" {
				t.Errorf("%s: implausible %v MiB / %v MiB, ratio %q", w, c, base, f[5])
			}
			continue
		}
		ratio := number(t, w, f[5])
		if c <= 0 || base <= 0 || ratio <= 0 {
			t.Errorf("%s: cellar %v, baseline %v, ratio %v: want all positive", w, c, base, ratio)
		}
		if got := c / base; got < ratio*0.95-0.01 || got > ratio*1.05+0.01 {
			t.Errorf("%s: ratio %v, but cellar/baseline = %v", w, ratio, got)
		}
	}
	for _, want := range []string{
		"cellar bench: go", "GOMAXPROCS=", "RS(4,2)", "1 MiB blocks", "large 12 MiB", "reads cold",
		"get-large: cold", "MiB from disk", "best of 3", "zone az2 offline",
		"s3-put: 1MiB: cellar-HTTP best", "s3-get: 64KiB: Go API best", "x-amz-checksum-crc32",
		"s3-put: 1MiB: peer gofakes3", "s3-get: 1MiB: peer gofakes3",
		"command: cellar bench --dir " + dir + " --size 12MiB --small-count 50 --list-keys 3000 --part-size 5MiB --s3-small 64KiB --s3-large 1MiB --s3-count 4 --lifecycle-objects 500 --heal-size 4MiB --heal-object 1MiB --heal-count 20\n",
		"lifecycle: cellar", "RunLifecycle passes",
		"s3-put: 1MiB/TLS: cellar-HTTP best", "over TLS (HTTP/1.1)", "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out, "no figure") {
		t.Errorf("the gofakes3 peer gave no figure")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		ents, _ := os.ReadDir(dir)
		t.Errorf("bench left %s behind (%v): %v", dir, err, ents)
	}
}

// TestBenchOnlyKeep checks --only, --warm and --keep, and that a second run
// refuses to overwrite what --keep left.
func TestBenchOnlyKeep(t *testing.T) {
	dir := t.TempDir()
	args := []string{"bench", "--dir", dir, "--only", "put-small,list", "--small-count", "20", "--list-keys", "100", "--warm", "--keep"}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), args, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit status %d\nstderr:\n%s", code, stderr.String())
	}
	rows := tableRows(t, stdout.String())
	if len(rows) != 2 || rows[wPutSmall] == nil || rows[wList] == nil {
		t.Errorf("--only put-small,list printed rows %v", rows)
	}
	for _, sub := range []string{subSmall, subRawSmall, subList} {
		if _, err := os.Stat(filepath.Join(dir, sub)); err != nil {
			t.Errorf("--keep: %v", err)
		}
	}
	stderr.Reset()
	if code := run(context.Background(), args, &stdout, &stderr); code != exitError || !strings.Contains(stderr.String(), "exists") {
		t.Errorf("second run into a kept directory: status %d, stderr %q; want 1 and a message that it exists", code, stderr.String())
	}
}

func TestCommandLine(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		code      int
		out, errs string // substrings of stdout and stderr
	}{
		{args: nil, code: exitUsage, errs: "Usage:"},
		{args: []string{"help"}, code: exitOK, out: "bench"},
		{args: []string{"-h"}, code: exitOK, out: "Commands:"},
		{args: []string{"help", "bench"}, code: exitOK, out: "--small-count"},
		{args: []string{"help", "nope"}, code: exitUsage, errs: `unknown command "nope"`},
		{args: []string{"nope"}, code: exitUsage, errs: `unknown command "nope"`},
		{args: []string{"bench"}, code: exitUsage, errs: "--dir is required"},
		{args: []string{"bench", "--dir", "x", "--size", "lots"}, code: exitUsage, errs: "bad size"},
		{args: []string{"bench", "--dir", "x", "--size", "6GiB"}, code: exitUsage, errs: "a single put"},
		{args: []string{"bench", "--dir", "x", "--s3-large", "0"}, code: exitUsage, errs: "--s3-large 0 B"},
		{args: []string{"bench", "--dir", "x", "--s3-count", "-1"}, code: exitUsage, errs: "--s3-count"},
		{args: []string{"bench", "--dir", "x", "--only", "put-huge"}, code: exitUsage, errs: `unknown workload "put-huge"`},
		{args: []string{"bench", "--dir", "x", "extra"}, code: exitUsage, errs: `unexpected argument "extra"`},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tc.args, &stdout, &stderr)
		if code != tc.code || !strings.Contains(stdout.String(), tc.out) || !strings.Contains(stderr.String(), tc.errs) {
			t.Errorf("cellar %q: status %d, stdout %q, stderr %q; want %d, %q, %q",
				tc.args, code, stdout.String(), stderr.String(), tc.code, tc.out, tc.errs)
		}
	}
	var stdout bytes.Buffer
	run(context.Background(), []string{"help", "bench"}, &stdout, &stdout)
	if strings.Contains(stdout.String(), "cpuprofile") {
		t.Errorf("bench usage shows the hidden --cpuprofile flag:\n%s", stdout.String())
	}
}

func TestParseByteSize(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "4096": 4096, "4KiB": 4096, "8MiB": 8 << 20, "1GiB": 1 << 30, "1 GiB": 1 << 30,
		"1.5GiB": 3 << 29, "2k": 2048, "1MB": 1e6, "3gb": 3e9, "10B": 10,
	} {
		if got, err := parseByteSize(in); err != nil || got != want {
			t.Errorf("parseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "-1", "1XB", "1e30GiB", "NaN"} {
		if got, err := parseByteSize(in); err == nil {
			t.Errorf("parseByteSize(%q) = %d, want an error", in, got)
		}
	}
	for n, want := range map[int64]string{1 << 30: "1 GiB", 8 << 20: "8 MiB", 4096: "4 KiB", 100: "100 B", 3 << 29: "1.50 GiB"} {
		if got := byteSize(n).String(); got != want {
			t.Errorf("byteSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestGenerator(t *testing.T) {
	g := newGenerator()
	var a, b [100]byte
	g.fill(a[:], genPeriod-50) // wraps
	g.fill(b[:50], genPeriod-50)
	g.fill(b[50:], 0)
	if a != b {
		t.Error("fill does not wrap around the pattern")
	}
	r := g.reader(genPeriod-50, genPeriod+50)
	var c bytes.Buffer
	if n, err := c.ReadFrom(r); n != 100 || err != nil || !bytes.Equal(c.Bytes(), a[:]) {
		t.Errorf("reader read %d bytes, %v; differ from fill", n, err)
	}
}

// tableRows returns the fields of each table row, by workload.
func tableRows(t *testing.T, out string) map[string][]string {
	t.Helper()
	rows := make(map[string][]string)
	in := false
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		switch {
		case len(f) > 0 && f[0] == "workload":
			in = true
		case len(f) == 0:
			in = false
		case in && strings.HasPrefix(f[0], "s3-") && len(f) > 1:
			// "s3-put 64MiB": the label is two fields.
			f = append([]string{f[0] + " " + f[1]}, f[2:]...)
			rows[f[0]] = f
		case in:
			rows[f[0]] = f
		}
	}
	return rows
}

func number(t *testing.T, w, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Errorf("%s: %q is not a number", w, s)
	}
	return v
}
