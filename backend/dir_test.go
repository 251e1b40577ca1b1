package backend_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cellarhq/cellar/backend"
	"github.com/cellarhq/cellar/backend/backendtest"
)

func newDir(t testing.TB) *backend.Dir {
	t.Helper()
	d, err := backend.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDir(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Backend { return newDir(t) })
}

func BenchmarkDir(b *testing.B) {
	backendtest.RunBenchmarks(b, func(b *testing.B) backend.Backend { return newDir(b) })
}

// blobFile is where the documented layout puts the blob called name:
// root/<hex of SHA-256[0]>/<name with '/' as '+'>.
func blobFile(root, name string) string {
	return filepath.Join(leafOf(root, name), strings.ReplaceAll(name, "/", "+"))
}

// leafOf is the fan-out directory of the blob called name.
func leafOf(root, name string) string {
	h := sha256.Sum256([]byte(name))
	return filepath.Join(root, hex.EncodeToString(h[:1]))
}

// rootEntries lists the root of a Dir: it must hold tmp and the 256
// fan-out directories, all directories.
func checkRootEntries(t testing.TB, root string) {
	t.Helper()
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"tmp"}
	for b := range 256 {
		want = append(want, fmt.Sprintf("%02x", b))
	}
	slices.Sort(want)
	var got []string
	for _, e := range ents {
		if !e.IsDir() {
			t.Errorf("root holds %s, not a directory", e.Name())
		}
		got = append(got, e.Name())
	}
	if !slices.Equal(got, want) {
		t.Errorf("root holds %d entries %q..., want tmp and the 256 fan-out directories", len(got), got[:min(len(got), 5)])
	}
}

func dirPut(t testing.TB, b backend.Backend, name string, data []byte) {
	t.Helper()
	w, err := b.Create(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}

func dirGet(t testing.TB, b backend.Backend, name string) []byte {
	t.Helper()
	r, err := b.Open(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p := make([]byte, r.Size())
	if n, err := r.ReadAt(p, 0); n != len(p) || (err != nil && err != io.EOF) {
		t.Fatalf("ReadAt(%q) = %d, %v", name, n, err)
	}
	return p
}

func listNames(t testing.TB, b backend.Backend, prefix string) []string {
	t.Helper()
	var names []string
	if err := b.List(t.Context(), prefix, func(info backend.Info) error {
		names = append(names, info.Name)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return names
}

func tmpFiles(t testing.TB, root string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(root, "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestDirNewDir(t *testing.T) {
	t.Run("CreatesMissingParents", func(t *testing.T) {
		root := filepath.Join(t.TempDir(), "x", "y", "zone")
		d, err := backend.NewDir(root)
		if err != nil {
			t.Fatal(err)
		}
		if d.Path() != root {
			t.Errorf("Path() = %q, want %q", d.Path(), root)
		}
		if fi, err := os.Stat(filepath.Join(root, "tmp")); err != nil || !fi.IsDir() {
			t.Errorf("no tmp directory: %v", err)
		}
		dirPut(t, d, "x", []byte("y"))
	})
	t.Run("ReopenKeepsBlobs", func(t *testing.T) {
		root := t.TempDir()
		d1, err := backend.NewDir(root)
		if err != nil {
			t.Fatal(err)
		}
		dirPut(t, d1, "keep/me", []byte("data"))
		d2, err := backend.NewDir(root)
		if err != nil {
			t.Fatal(err)
		}
		if got := dirGet(t, d2, "keep/me"); string(got) != "data" {
			t.Errorf("reopened Dir reads %q", got)
		}
	})
	t.Run("MakesFanOutDirs", func(t *testing.T) {
		root := t.TempDir()
		if _, err := backend.NewDir(root); err != nil {
			t.Fatal(err)
		}
		checkRootEntries(t, root)
		// Reopening is idempotent, and makes again what went missing.
		for _, gone := range []string{"00", "7f", "ff", "tmp"} {
			if err := os.Remove(filepath.Join(root, gone)); err != nil {
				t.Fatal(err)
			}
		}
		d, err := backend.NewDir(root)
		if err != nil {
			t.Fatal(err)
		}
		checkRootEntries(t, root)
		dirPut(t, d, "x", []byte("y"))
		if _, err := backend.NewDir(root); err != nil {
			t.Fatal(err)
		}
		checkRootEntries(t, root)
	})
	t.Run("RefusesOldLayout", func(t *testing.T) {
		// An older cellar put blobs in root/<h0>/<h1>/; this one would not
		// see them, so it must not open such a root.
		root := t.TempDir()
		name := "data/0123/4"
		h := sha256.Sum256([]byte(name))
		old := filepath.Join(root, hex.EncodeToString(h[:1]), hex.EncodeToString(h[1:2]), "data+0123+4")
		if err := os.MkdirAll(filepath.Dir(old), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(old, []byte("shard"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := backend.NewDir(root); err == nil || !strings.Contains(err.Error(), "two-level layout") {
			t.Errorf("NewDir on the old layout = %v, want an error naming it", err)
		}
	})
	t.Run("FanOutIsAFile", func(t *testing.T) {
		root := t.TempDir()
		if err := os.WriteFile(filepath.Join(root, "ab"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := backend.NewDir(root); err == nil {
			t.Error("NewDir with a file in place of a fan-out directory succeeded")
		}
	})
	t.Run("PathIsAFile", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(file, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := backend.NewDir(file); err == nil {
			t.Error("NewDir on a regular file succeeded")
		}
		if _, err := backend.NewDir(filepath.Join(file, "below")); err == nil {
			t.Error("NewDir below a regular file succeeded")
		}
	})
	t.Run("EmptyPath", func(t *testing.T) {
		if _, err := backend.NewDir(""); err == nil {
			t.Error(`NewDir("") succeeded`)
		}
	})
}

func TestDirLayout(t *testing.T) {
	d := newDir(t)
	root := d.Path()
	checkRootEntries(t, root)
	const writers, each = 8, 75 // 600 blobs: more than fit in a flat root
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				name := fmt.Sprintf("shards/%02d/%04d.s", g, i)
				w, err := d.Create(t.Context(), name)
				if err != nil {
					t.Error(err)
					return
				}
				w.Write([]byte(name))
				if err := w.Commit(); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	checkRootEntries(t, root)
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, e := range ents {
		if e.Name() == "tmp" {
			continue
		}
		leaf, err := os.ReadDir(filepath.Join(root, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range leaf {
			if !f.Type().IsRegular() {
				t.Errorf("leaf %s holds %s, not a regular file", e.Name(), f.Name())
			}
		}
		// 600 blobs over 256 leaves, 2.3 a leaf: a crowded leaf means no
		// fan-out.
		if len(leaf) > 12 {
			t.Errorf("leaf %s holds %d blobs", e.Name(), len(leaf))
		}
		total += len(leaf)
	}
	if total != writers*each {
		t.Errorf("the leaves hold %d files, want %d", total, writers*each)
	}
	for g := range writers {
		for i := range each {
			name := fmt.Sprintf("shards/%02d/%04d.s", g, i)
			got, err := os.ReadFile(blobFile(root, name))
			if err != nil || string(got) != name {
				t.Fatalf("blob %q not at its documented path: %q, %v", name, got, err)
			}
		}
	}
	if n := len(listNames(t, d, "shards/")); n != writers*each {
		t.Errorf("List found %d blobs, want %d", n, writers*each)
	}
}

func TestDirTempFilesNotListed(t *testing.T) {
	d := newDir(t)
	dirPut(t, d, "done", []byte("x"))
	w, err := d.Create(t.Context(), "pending")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	w.Write([]byte("half a blob"))
	// A leftover of a crashed writer, too.
	if err := os.WriteFile(filepath.Join(d.Path(), "tmp", "blob-123.tmp"), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if n := len(tmpFiles(t, d.Path())); n != 2 {
		t.Fatalf("tmp holds %d files, want 2", n)
	}
	if got := listNames(t, d, ""); !slices.Equal(got, []string{"done"}) {
		t.Errorf("List = %q, want [done]", got)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if got := tmpFiles(t, d.Path()); !slices.Equal(got, []string{"blob-123.tmp"}) {
		t.Errorf("after Abort tmp holds %q, want only the leftover", got)
	}
}

func TestDirForeignFilesIgnored(t *testing.T) {
	d := newDir(t)
	dirPut(t, d, "real", []byte("x"))
	root := d.Path()
	leaf := leafOf(root, "real")
	for path, data := range map[string]string{
		filepath.Join(root, "README"):        "not a blob",
		filepath.Join(root, "zz", "a"):       "not a fan-out directory",
		filepath.Join(leaf, "misplaced"):     "hash does not lead here",
		filepath.Join(leaf, "bad name"):      "not a valid name",
		filepath.Join(root, "ab", "x~"):      "not a valid name",
		filepath.Join(root, "ab", "cd", "x"): "in a subdirectory of a leaf",
	} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(leaf, "subdir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := listNames(t, d, ""); !slices.Equal(got, []string{"real"}) {
		t.Errorf("List = %q, want [real]", got)
	}
}

func TestDirSweepTemp(t *testing.T) {
	d := newDir(t)
	tmp := filepath.Join(d.Path(), "tmp")
	old := time.Now().Add(-2 * time.Hour)
	for _, name := range []string{"blob-1.tmp", "blob-2.tmp", "probe-3.tmp"} {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, []byte("left by a crash"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, "blob-fresh.tmp"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// A live writer whose temp file looks ancient must survive any sweep.
	w, err := d.Create(t.Context(), "live")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	w.Write([]byte("still writing"))
	for _, name := range tmpFiles(t, d.Path()) {
		if !strings.HasPrefix(name, "blob-") || name == "blob-1.tmp" || name == "blob-2.tmp" || name == "blob-fresh.tmp" {
			continue
		}
		p := filepath.Join(tmp, name)
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}

	n, err := d.SweepTemp(time.Hour)
	if err != nil || n != 3 {
		t.Errorf("SweepTemp(1h) = %d, %v; want 3 removed", n, err)
	}
	if got := len(tmpFiles(t, d.Path())); got != 2 {
		t.Errorf("after SweepTemp(1h) tmp holds %d files, want the fresh one and the live writer's", got)
	}
	n, err = d.SweepTemp(-time.Minute)
	if err != nil || n != 1 {
		t.Errorf("SweepTemp(everything) = %d, %v; want 1 removed", n, err)
	}
	if err := w.Commit(); err != nil {
		t.Fatalf("Commit after sweeps: %v", err)
	}
	if got := dirGet(t, d, "live"); string(got) != "still writing" {
		t.Errorf("live blob = %q", got)
	}
	if got := tmpFiles(t, d.Path()); len(got) != 0 {
		t.Errorf("tmp still holds %q", got)
	}
}

// TestDirCrashMidWrite kills a process in the middle of writing a blob and
// checks that the old blob survives whole, the torn one never shows, and the
// leftover is swept.
func TestDirCrashMidWrite(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("needs a killable subprocess")
	}
	root := t.TempDir()
	d, err := backend.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	old := bytes.Repeat([]byte("old!"), 100_000)
	dirPut(t, d, "victim", old)

	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestDirCrashHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+root)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(out)
	for sc.Scan() && sc.Text() != "mid-write" {
	}
	if sc.Err() != nil || sc.Text() != "mid-write" {
		t.Fatalf("helper never got to the middle of its write: %v", sc.Err())
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	d2, err := backend.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if got := dirGet(t, d2, "victim"); !bytes.Equal(got, old) {
		t.Errorf("after the crash victim holds %d bytes, want the old %d", len(got), len(old))
	}
	for _, name := range []string{"fresh", "victim2"} {
		if _, err := d2.Stat(t.Context(), name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat(%q) after the crash = %v, want not exist", name, err)
		}
	}
	if got := listNames(t, d2, ""); !slices.Equal(got, []string{"victim"}) {
		t.Errorf("List after the crash = %q, want [victim]", got)
	}
	if len(tmpFiles(t, root)) != 2 {
		t.Errorf("crash left %q in tmp, want the two torn writes", tmpFiles(t, root))
	}
	if n, err := d2.SweepTemp(0); err != nil || n != 2 {
		t.Errorf("SweepTemp(0) = %d, %v; want 2", n, err)
	}
}

const crashEnv = "CELLAR_BACKEND_CRASH_DIR"

// TestDirCrashHelper is the process that TestDirCrashMidWrite kills.
func TestDirCrashHelper(t *testing.T) {
	root := os.Getenv(crashEnv)
	if root == "" {
		t.Skip("run by TestDirCrashMidWrite")
	}
	d, err := backend.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, name := range []string{"victim", "victim2"} {
		w, err := d.Create(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(bytes.Repeat([]byte("new!"), 300_000)); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Println("mid-write")
	time.Sleep(time.Minute)
	t.Fatal("not killed")
}

// TestDirTornWriteNeverVisible polls a blob while it is overwritten in
// small pieces, and checks that no reader ever sees a partial version.
func TestDirTornWriteNeverVisible(t *testing.T) {
	d := newDir(t)
	version := func(v byte) []byte { return bytes.Repeat([]byte{v}, 200_000+int(v)) }
	dirPut(t, d, "flip", version(0))
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			r, err := d.Open(t.Context(), "flip")
			if err != nil {
				t.Errorf("Open during overwrites: %v", err)
				return
			}
			p := make([]byte, r.Size())
			n, err := r.ReadAt(p, 0)
			r.Close()
			if n != len(p) || (err != nil && err != io.EOF) {
				t.Errorf("ReadAt = %d, %v", n, err)
				return
			}
			if !bytes.Equal(p, version(p[0])) {
				t.Errorf("reader saw a torn blob: %d bytes starting with %d", len(p), p[0])
				return
			}
		}
	})
	for v := byte(1); v <= 20; v++ {
		w, err := d.Create(t.Context(), "flip")
		if err != nil {
			t.Fatal(err)
		}
		data := version(v)
		for i := 0; i < len(data); i += 4096 {
			w.Write(data[i:min(i+4096, len(data))])
		}
		if v%5 == 0 {
			w.Abort() // some writers give up half way
			continue
		}
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	readers.Wait()
	if got := dirGet(t, d, "flip"); !bytes.Equal(got, version(19)) {
		t.Errorf("final blob is %d bytes of %d, want version 19", len(got), got[0])
	}
	if got := tmpFiles(t, d.Path()); len(got) != 0 {
		t.Errorf("tmp holds %q after all writers finished", got)
	}
}

func TestDirReaderOutlivesOverwriteAndDelete(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("open files cannot be replaced on Windows")
	}
	d := newDir(t)
	dirPut(t, d, "held", []byte("first"))
	r, err := d.Open(t.Context(), "held")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	dirPut(t, d, "held", []byte("second version"))
	if err := d.Delete(t.Context(), "held"); err != nil {
		t.Fatal(err)
	}
	p := make([]byte, r.Size())
	if n, err := r.ReadAt(p, 0); n != 5 || string(p) != "first" || (err != nil && err != io.EOF) {
		t.Errorf("held reader reads %q, %v", p[:n], err)
	}
}

func TestDirLeafRemovedUnderneath(t *testing.T) {
	d := newDir(t)
	dirPut(t, d, "a", []byte("1"))
	if _, err := os.Stat(blobFile(d.Path(), "a")); err != nil {
		t.Fatal(err)
	}
	// An operator wipes the zone's blobs while the Dir is running.
	ents, err := os.ReadDir(d.Path())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Name() != "tmp" {
			if err := os.RemoveAll(filepath.Join(d.Path(), e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	dirPut(t, d, "a", []byte("2"))
	if got := dirGet(t, d, "a"); string(got) != "2" {
		t.Errorf("blob = %q, want 2", got)
	}
	if got, err := os.ReadFile(blobFile(d.Path(), "a")); err != nil || string(got) != "2" {
		t.Errorf("blob not at its documented path after its leaf was made again: %q, %v", got, err)
	}
}

func TestDirProbe(t *testing.T) {
	root := filepath.Join(t.TempDir(), "zone")
	d, err := backend.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Probe(t.Context()); err != nil {
		t.Fatalf("Probe: %v", err)
	}
	if got := tmpFiles(t, root); len(got) != 0 {
		t.Errorf("Probe left %q", got)
	}
	// The zone's disk goes away...
	if err := os.Rename(root, root+".gone"); err != nil {
		t.Fatal(err)
	}
	if err := d.Probe(t.Context()); err == nil {
		t.Error("Probe of a vanished root succeeded")
	}
	// ...and an empty directory takes its place, as when a disk is
	// unmounted from under its mount point.
	if err := os.MkdirAll(filepath.Join(root, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := d.Probe(t.Context()); err == nil {
		t.Error("Probe of a replaced root succeeded")
	}
	// The disk comes back.
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(root+".gone", root); err != nil {
		t.Fatal(err)
	}
	if err := d.Probe(t.Context()); err != nil {
		t.Errorf("Probe after the root came back: %v", err)
	}
}
