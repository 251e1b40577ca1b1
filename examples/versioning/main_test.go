package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/cellarhq/cellar"
)

func TestVersioning(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(ctx, &out, dir); err != nil {
		t.Fatalf("%v\noutput:\n%s", err, out.String())
	}
	for _, want := range []string{
		"created bucket notes with versioning Enabled",
		"overwrote todo.txt by mistake",
		`holds "buy milk\nwalk the dog\n"`,
		"restored todo.txt from version",
		"get draft.txt: ErrNoSuchKey, hidden by delete marker",
		`draft.txt is back: "Dear diary,\n"`,
		"delete marker (latest)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}

	// The store left in dir holds what the program says.
	st, err := cellar.Open(ctx, &cellar.Options{Dir: dir, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b := st.Bucket("notes")
	for key, want := range map[string]string{"todo.txt": "buy milk\nwalk the dog\n", "draft.txt": "Dear diary,\n"} {
		obj, err := b.Get(ctx, key, nil)
		if err != nil {
			t.Fatalf("get %s after the run: %v", key, err)
		}
		got, err := io.ReadAll(obj)
		obj.Close()
		if err != nil || string(got) != want {
			t.Fatalf("%s after the run: %q %v, want %q", key, got, err, want)
		}
	}
	page, err := b.ListVersions(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var todos, drafts, markers int
	for _, v := range page.Versions {
		switch {
		case v.DeleteMarker:
			markers++
		case v.Key == "todo.txt":
			todos++
		case v.Key == "draft.txt":
			drafts++
		}
	}
	if todos != 3 || drafts != 1 || markers != 0 {
		t.Fatalf("after the run: %d versions of todo.txt, %d of draft.txt, %d delete markers; want 3, 1, 0", todos, drafts, markers)
	}
}
