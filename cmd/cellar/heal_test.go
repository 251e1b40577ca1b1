package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cellarhq/cellar"
)

// testStore makes a closed store in a temporary directory: a few objects
// in small blocks and an upload in progress with one part. It returns the
// directory and the objects' bytes by key.
func testStore(t *testing.T) (string, map[string][]byte) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := cellar.Open(ctx, &cellar.Options{Dir: dir, BlockSize: 64 << 10, SweepInterval: -1, ProbeInterval: -1, ScrubInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.CreateBucket(ctx, "bkt", nil); err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	rng := rand.New(rand.NewPCG(1, 2))
	for i, n := range []int{0, 10, 70_000, 200_000} {
		key := fmt.Sprintf("k%d", i)
		data := make([]byte, n)
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		if _, err := st.Bucket("bkt").Put(ctx, key, bytes.NewReader(data), nil); err != nil {
			t.Fatal(err)
		}
		want[key] = data
	}
	u, err := st.Bucket("bkt").CreateMultipartUpload(ctx, "upload", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.UploadPart(ctx, 1, bytes.NewReader(make([]byte, 100_000)), nil); err != nil {
		t.Fatal(err)
	}
	return dir, want
}

// What testStore writes: four objects and one part, of which the empty
// and the 10-byte object are small (RS(1,2): one shard in each zone) and
// the others RS(4,2) (two in each zone).
const (
	testDataSets   = 5
	testSmallSets  = 2
	testZoneShards = 2*(testDataSets-testSmallSets) + testSmallSets
	testShards     = 3 * testZoneShards
)

// readStore opens the store in dir and checks that every object reads.
func readStore(t *testing.T, dir string, want map[string][]byte) {
	t.Helper()
	ctx := context.Background()
	st, err := cellar.Open(ctx, &cellar.Options{Dir: dir, SweepInterval: -1, ProbeInterval: -1, ScrubInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for key, data := range want {
		obj, err := st.Bucket("bkt").Get(ctx, key, nil)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		got, err := io.ReadAll(obj)
		obj.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%s: wrong bytes (%v)", key, err)
		}
	}
}

// cellarCmd runs cellar with args in-process and returns its exit status,
// stdout and stderr.
func cellarCmd(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func wantRun(t *testing.T, wantCode int, wantOut string, args ...string) (string, string) {
	t.Helper()
	code, stdout, stderr := cellarCmd(args...)
	if code != wantCode || !strings.Contains(stdout, wantOut) {
		t.Fatalf("cellar %s: exit %d, want %d with %q on stdout\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, wantCode, wantOut, stdout, stderr)
	}
	return stdout, stderr
}

func removeZone(t *testing.T, dir string, zone int) {
	t.Helper()
	if err := os.RemoveAll(filepath.Join(dir, fmt.Sprintf("az%d", zone))); err != nil {
		t.Fatal(err)
	}
}

// corruptZone flips a byte in every shard file of a zone.
func corruptZone(t *testing.T, dir string, zone int) int {
	t.Helper()
	n := 0
	root := filepath.Join(dir, fmt.Sprintf("az%d", zone))
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() && e.Name() == "tmp" {
			return filepath.SkipDir
		}
		if e.IsDir() || !strings.HasPrefix(e.Name(), "data") {
			return nil // a directory or a zone metadata record, not a shard
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		b[len(b)/3] ^= 0x10
		n++
		return os.WriteFile(p, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestHealCommand(t *testing.T) {
	dir, want := testStore(t)
	stdout, _ := wantRun(t, exitOK, "every object is at full redundancy", "heal", "--dir", dir)
	if !strings.Contains(stdout, fmt.Sprintf("verified %d data sets: %d shards sound, 0 bad", testDataSets, testShards)) ||
		!strings.Contains(stdout, "healed 0 shards") {
		t.Fatalf("heal of a healthy store:\n%s", stdout)
	}

	// A zone directory deleted outright: recreated and rebuilt.
	removeZone(t, dir, 2)
	stdout, stderr := wantRun(t, exitOK, "every object is at full redundancy", "heal", "--dir", dir)
	if !strings.Contains(stderr, "az2 is missing; recreating it empty") ||
		!strings.Contains(stdout, fmt.Sprintf("%d bad", testZoneShards)) ||
		!strings.Contains(stdout, fmt.Sprintf("healed %d shards", testZoneShards)) {
		t.Fatalf("heal after deleting az2:\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
	wantRun(t, exitOK, "index and zones agree", "fsck", "--dir", dir)

	// Another zone goes: everything reads, and heals again.
	removeZone(t, dir, 3)
	readStore(t, dir, want)
	wantRun(t, exitOK, "every object is at full redundancy", "heal", "--dir", dir)
	removeZone(t, dir, 1)
	readStore(t, dir, want)

	// Two zones gone: beyond repair.
	removeZone(t, dir, 1)
	removeZone(t, dir, 2)
	stdout, stderr = wantRun(t, exitError, "lost: ", "heal", "--dir", dir)
	if !strings.Contains(stderr, "cellar heal: not at full redundancy") {
		t.Fatalf("heal of a store beyond repair: stderr:\n%s", stderr)
	}
	// The small objects keep a whole copy on the third zone.
	if n := strings.Count(stdout, "lost: "); n != testDataSets-testSmallSets {
		t.Fatalf("%d data sets reported lost, want the %d large ones:\n%s", n, testDataSets-testSmallSets, stdout)
	}
}

func TestHealProgress(t *testing.T) {
	dir, _ := testStore(t)
	removeZone(t, dir, 1)
	old := progressEvery
	defer func() { progressEvery = old }()
	progressEvery = 0
	_, stderr := wantRun(t, exitOK, "every object is at full redundancy", "heal", "--dir", dir)
	for _, want := range []string{
		fmt.Sprintf("verify: %d/%d data sets", testDataSets, testDataSets),
		fmt.Sprintf("heal: %d/%d data sets", testDataSets, testDataSets),
		"/s",
	} {
		if !strings.Contains(stderr, want) {
			t.Fatalf("progress on stderr lacks %q:\n%s", want, stderr)
		}
	}
}

func TestScrubCommand(t *testing.T) {
	dir, want := testStore(t)
	wantRun(t, exitOK, "every shard verified", "scrub", "--dir", dir, "--rate", "100MiB")

	// Corruption is found and queued; --heal fixes it.
	if n := corruptZone(t, dir, 1); n != testZoneShards {
		t.Fatalf("%d shard files in az1, want %d", n, testZoneShards)
	}
	stdout, stderr := wantRun(t, exitError, fmt.Sprintf("az1: %d shards sound, %d bad", 0, testZoneShards), "scrub", "--dir", dir)
	if !strings.Contains(stderr, fmt.Sprintf("cellar scrub: %d bad shards", testZoneShards)) {
		t.Fatalf("scrub of a corrupt zone:\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
	wantRun(t, exitOK, "every object is at full redundancy", "scrub", "--dir", dir, "--heal")
	wantRun(t, exitOK, "every shard verified", "scrub", "--dir", dir)
	removeZone(t, dir, 3)
	readStore(t, dir, want)

	// Beyond repair.
	removeZone(t, dir, 1)
	wantRun(t, exitError, "lost: ", "scrub", "--dir", dir, "--heal")

	if code, _, stderr := cellarCmd("scrub", "--dir", dir, "--rate", "fast"); code != exitUsage || !strings.Contains(stderr, "bad size") {
		t.Fatalf("bad --rate: exit %d\n%s", code, stderr)
	}
}

func TestFsckCommand(t *testing.T) {
	dir, want := testStore(t)
	wantRun(t, exitOK, "index and zones agree", "fsck", "--dir", dir)

	// An orphaned shard file and a corrupt shard.
	st, err := cellar.Open(context.Background(), &cellar.Options{Dir: dir, SweepInterval: -1, ProbeInterval: -1, ScrubInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	w, err := st.Zones()[1].Create(context.Background(), "data/0123456789abcdef0123456789abcdef/3")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("left by a crash"))
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	st.Close()
	corruptZone(t, dir, 3)

	stdout, _ := wantRun(t, exitError, "problem: zone 1: orphaned shard 3 of data 0123456789abcdef0123456789abcdef", "fsck", "--dir", dir)
	if !strings.Contains(stdout, fmt.Sprintf("problem: %d data sets have missing or corrupt shards", testDataSets)) {
		t.Fatalf("fsck:\n%s", stdout)
	}
	stdout, _ = wantRun(t, exitOK, "after repair:", "fsck", "--dir", dir, "--repair")
	if !strings.Contains(stdout, "removed 1 orphaned shard files") || !strings.Contains(stdout, fmt.Sprintf("healed %d shards", testZoneShards)) ||
		!strings.HasSuffix(stdout, "index and zones agree\n") {
		t.Fatalf("fsck --repair:\n%s", stdout)
	}
	wantRun(t, exitOK, "index and zones agree", "fsck", "--dir", dir)
	removeZone(t, dir, 2)
	readStore(t, dir, want)

	// Beyond repair: two zones gone. The small objects heal from the
	// copy left on the third; the large ones are lost.
	removeZone(t, dir, 1)
	wantRun(t, exitError, "more than the 2 it can lose", "fsck", "--dir", dir)
	if _, stderr := wantRun(t, exitError, "after repair:", "fsck", "--dir", dir, "--repair"); !strings.Contains(stderr, fmt.Sprintf("cellar fsck: %d problems left after repair", testDataSets-testSmallSets)) {
		t.Fatalf("fsck --repair beyond repair: stderr:\n%s", stderr)
	}
}

func TestDirCommandsRefuse(t *testing.T) {
	empty := t.TempDir()
	for _, cmd := range []string{"heal", "scrub", "fsck"} {
		if code, _, stderr := cellarCmd(cmd, "--dir", empty); code != exitError || !strings.Contains(stderr, "not a cellar store directory") {
			t.Fatalf("%s of an empty directory: exit %d\n%s", cmd, code, stderr)
		}
		if _, err := os.Stat(filepath.Join(empty, "index")); err == nil {
			t.Fatalf("%s made a store in an empty directory", cmd)
		}
		if code, _, _ := cellarCmd(cmd); code != exitUsage {
			t.Fatalf("%s without --dir: exit %d", cmd, code)
		}
		if code, stdout, _ := cellarCmd("help", cmd); code != exitOK || !strings.Contains(stdout, "Usage: cellar "+cmd) {
			t.Fatalf("help %s: exit %d\n%s", cmd, code, stdout)
		}
	}
}
