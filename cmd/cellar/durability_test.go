package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestDurabilityCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"durability", "--data", "4", "--parity", "2", "--zones", "3", "--afr", "0.02", "--repair-hours", "24", "--objects", "1e9", "--trials", "20000", "--seed", "3"}
	if code := run(context.Background(), args, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit status %d\nstderr:\n%s", code, stderr.String())
	}
	out := stdout.String()
	t.Logf("output:\n%s", out)
	rows := map[string][]string{}
	for line := range strings.Lines(out) {
		for _, label := range []string{"one object", "disk failures alone", "zone events alone", "at least one of 1e+09 objects", "S3's stated design durability"} {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), label); ok {
				rows[label] = strings.Fields(rest)
			}
		}
	}
	if len(rows) != 5 {
		t.Fatalf("rows %v: want five", rows)
	}
	one := number(t, "one object", rows["one object"][0])
	n := number(t, "nines", rows["one object"][1])
	if one <= 0 || one > 1e-4 || n < 4 || n > 12 {
		t.Errorf("one object: P %v, nines %v", one, n)
	}
	if disk := number(t, "disk", rows["disk failures alone"][0]); disk >= one {
		t.Errorf("disks alone %v not below the whole %v", disk, one)
	}
	if many := number(t, "many", rows["at least one of 1e+09 objects"][0]); many <= one || many > 1 {
		t.Errorf("at least one of 1e9: %v, one object %v", many, one)
	}
	if rows["S3's stated design durability"][1] != "11.00" {
		t.Errorf("S3 row %v", rows["S3's stated design durability"])
	}
	for _, want := range []string{"RS(4,2) over 3 zones (2+2+2 shards)", "zone-event AFR 0.001", "batch", "Monte Carlo check at failure rates x", "20000 trials, seed 3", ": agree"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestDurabilityFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		errs string
	}{
		{[]string{"--afr", "0"}, "--afr 0: must be in (0, 1)"},
		{[]string{"--afr", "1.5"}, "--afr 1.5"},
		{[]string{"--afr", "lots"}, "invalid value"},
		{[]string{"--zone-afr", "-0.1"}, "--zone-afr -0.1"},
		{[]string{"--repair-hours", "0"}, "--repair-hours 0"},
		{[]string{"--data", "0"}, "--data 0"},
		{[]string{"--parity", "-1"}, "--parity -1"},
		{[]string{"--zones", "0"}, "--zones 0"},
		{[]string{"--objects", "0"}, "--objects 0"},
		{[]string{"--trials", "-1"}, "--trials -1"},
		{[]string{"--years", "0"}, "--years 0"},
		{[]string{"--repair-mode", "serial"}, `--repair-mode "serial"`},
		{[]string{"--zones", "1"}, "--weak-placement"},
		{[]string{"--data", "200", "--parity", "100"}, "RS(200,100)"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append([]string{"durability"}, tc.args...), &stdout, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), tc.errs) {
			t.Errorf("cellar durability %q: status %d, stderr %q; want %d and %q", tc.args, code, stderr.String(), exitUsage, tc.errs)
		}
	}
}
