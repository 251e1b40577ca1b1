package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/cellarhq/cellar"
)

func TestUsageCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := cellar.Open(ctx, &cellar.Options{Dir: dir, SweepInterval: -1, ProbeInterval: -1, ScrubInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateBucket(ctx, "logs", nil); err != nil {
		t.Fatal(err)
	}
	b := st.Bucket("logs")
	for i, class := range []string{"", "", "GLACIER"} {
		key := []string{"a", "b", "c"}[i]
		if _, err := b.Put(ctx, key, bytes.NewReader(make([]byte, 1<<20)), &cellar.PutOptions{StorageClass: class}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"usage", "--dir", dir}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	t.Logf("\n%s", out)
	lines := map[string][]string{}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) > 2 {
			lines[f[0]+" "+f[1]] = f
		}
	}
	// bucket, class, objects, logical (value unit), stored (value unit), cost
	for key, want := range map[string][]string{
		"logs STANDARD": {"2", "2.00", "MiB", "3.00", "MiB"},
		"logs GLACIER":  {"1", "1.00", "MiB", "1.50", "MiB"},
	} {
		f := lines[key]
		if len(f) != 8 || strings.Join(f[2:7], " ") != strings.Join(want, " ") {
			t.Errorf("%s: line %q, want %v", key, f, want)
		}
	}

	if code := run(ctx, []string{"usage", "--dir", t.TempDir()}, &stdout, &stderr); code != exitError {
		t.Errorf("usage of a directory without a store: exit %d", code)
	}
}
