package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRebuildIndexCommand(t *testing.T) {
	dir, want := testStore(t)

	// An index is there: refused, and left alone.
	code, out, errOut := cellarCmd("rebuild-index", "--dir", dir)
	if code != exitError || !strings.Contains(errOut, "--force") {
		t.Fatalf("rebuild over an index: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "index")); err != nil {
		t.Fatal(err)
	}

	// The index and a zone are lost.
	for _, p := range []string{"index", "az3"} {
		if err := os.RemoveAll(filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut = cellarCmd("rebuild-index", "--dir", dir)
	if code != exitOK {
		t.Fatalf("rebuild: exit %d\n%s%s", code, out, errOut)
	}
	for _, line := range []string{"buckets:            1\n", "versions:           4\n", "uploads dropped:    1 (1 parts)\n", "records unreadable: 0\n"} {
		if !strings.Contains(out, line) {
			t.Errorf("output lacks %q:\n%s", line, out)
		}
	}
	if !strings.Contains(errOut, "az3 is missing") {
		t.Errorf("stderr does not name the missing zone: %s", errOut)
	}
	readStore(t, dir, want)
	wantRun(t, exitOK, "", "heal", "--dir", dir)
	wantRun(t, exitOK, "index and zones agree", "fsck", "--dir", dir)

	// --force moves the index aside and rebuilds the same store.
	code, out, errOut = cellarCmd("rebuild-index", "--dir", dir, "--force")
	if code != exitOK || !strings.Contains(out, "old index moved to ") || !strings.Contains(out, "versions:           4\n") {
		t.Fatalf("rebuild --force: exit %d\n%s%s", code, out, errOut)
	}
	old, _ := filepath.Glob(filepath.Join(dir, "index.old-*"))
	if len(old) != 1 {
		t.Errorf("old indexes kept: %v", old)
	}
	readStore(t, dir, want)
	wantRun(t, exitOK, "index and zones agree", "fsck", "--dir", dir)
}
