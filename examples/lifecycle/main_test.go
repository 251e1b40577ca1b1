package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/cellarhq/cellar"
)

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(ctx, &out, dir); err != nil {
		t.Fatalf("%v\noutput:\n%s", err, out.String())
	}
	text := out.String()
	t.Logf("\n%s", text)
	// Each step: what it did, and the class the three logs are in.
	steps := strings.Split(text, "\nday ")
	if len(steps) != 8 {
		t.Fatalf("%d steps in the output", len(steps)-1)
	}
	for i, want := range []struct{ head, did, class string }{
		{"0 ", "0 transitioned, 0 expired", "STANDARD"},
		{"29 ", "0 transitioned, 0 expired", "STANDARD"},
		{"30 ", "3 transitioned, 0 expired", "STANDARD_IA"},
		{"89 ", "0 transitioned, 0 expired", "STANDARD_IA"},
		{"90 ", "3 transitioned, 0 expired", "GLACIER"},
		{"364 ", "0 transitioned, 0 expired", "GLACIER"},
		{"365 ", "0 transitioned, 3 expired", ""},
	} {
		step := steps[i+1]
		if !strings.HasPrefix(step, want.head) || !strings.Contains(firstLine(step), want.did) {
			t.Errorf("step %d: %q, want day %s... %s", i, firstLine(step), want.head, want.did)
		}
		logs := 0
		for _, line := range strings.Split(step, "\n") {
			f := strings.Fields(line)
			if len(f) > 3 && f[0] == "app" && f[1] != "STANDARD" {
				logs++
				if f[1] != want.class || f[2] != "3" {
					t.Errorf("step %d: line %q, want the 3 logs in %s", i, line, want.class)
				}
			}
			if len(f) > 3 && f[0] == "app" && f[1] == "STANDARD" && want.class != "STANDARD" && f[2] != "1" {
				t.Errorf("step %d: STANDARD holds %s objects, want config.json alone", i, f[2])
			}
		}
		if want.class != "" && want.class != "STANDARD" && logs != 1 {
			t.Errorf("step %d: %d lines for the logs:\n%s", i, logs, step)
		}
	}
	for _, want := range []string{
		"put logs/2026-01-05-0.log: expires 2027-01-06 by rule \"Archive old logs\"",
		"get logs/2026-01-05-0.log: ErrInvalidObjectState",
		"5 minutes later: read",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
		}
	}

	// The store left behind holds only config.json: every log expired.
	st, err := cellar.Open(ctx, &cellar.Options{Dir: dir, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var keys []string
	for info, err := range st.Bucket("app").Objects(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, info.Key)
	}
	if strings.Join(keys, ",") != "config.json" {
		t.Errorf("left: %v", keys)
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
