package backendtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cellarhq/cellar/backend"
)

// Run runs the conformance suite against the backends that newBackend
// makes, one fresh backend per subtest.
func Run(t *testing.T, newBackend func(t *testing.T) backend.Backend) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, b backend.Backend)
	}{
		{"CreateOpen", testCreateOpen},
		{"ReadAtRanges", testReadAtRanges},
		{"ReadAtConcurrent", testReadAtConcurrent},
		{"ReaderClose", testReaderClose},
		{"Stat", testStat},
		{"Delete", testDelete},
		{"List", testList},
		{"ListCallbackError", testListCallbackError},
		{"ListCallbackUsesBackend", testListCallbackUsesBackend},
		{"Overwrite", testOverwrite},
		{"Abort", testAbort},
		{"AbortKeepsOld", testAbortKeepsOld},
		{"UncommittedInvisible", testUncommittedInvisible},
		{"InvalidNames", testInvalidNames},
		{"EdgeNames", testEdgeNames},
		{"Missing", testMissing},
		{"ConcurrentDifferentNames", testConcurrentDifferentNames},
		{"ConcurrentSameName", testConcurrentSameName},
		{"CancelledContext", testCancelledContext},
		{"WriterContextCancelled", testWriterContextCancelled},
		{"ReaderContextCancelled", testReaderContextCancelled},
		{"Empty", testEmpty},
		{"Large", testLarge},
		{"SpentAfterCommit", testSpentAfterCommit},
		{"SpentAfterAbort", testSpentAfterAbort},
		{"WriteDoesNotRetain", testWriteDoesNotRetain},
		{"Probe", testProbe},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBackend(t)
			if b == nil {
				t.Fatal("newBackend returned nil")
			}
			tc.fn(t, b)
		})
	}
}

// pattern returns n bytes that depend on seed and on their position, so
// that a misplaced or missing range shows.
func pattern(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	p := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			p[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n &^ 7; i < n; i++ {
		p[i] = byte(r.Uint32())
	}
	return p
}

// put writes data to name in one Write and commits it.
func put(t testing.TB, b backend.Backend, name string, data []byte) {
	t.Helper()
	putChunks(t, b, name, data, len(data))
}

// putChunks writes data to name in chunks of at most chunk bytes.
func putChunks(t testing.TB, b backend.Backend, name string, data []byte, chunk int) {
	t.Helper()
	if err := tryPut(t.Context(), b, name, data, chunk); err != nil {
		t.Fatal(err)
	}
}

func tryPut(ctx context.Context, b backend.Backend, name string, data []byte, chunk int) error {
	w, err := b.Create(ctx, name)
	if err != nil {
		return fmt.Errorf("Create(%q): %w", name, err)
	}
	defer w.Abort()
	for len(data) > 0 {
		n := min(chunk, len(data))
		m, err := w.Write(data[:n])
		if err != nil {
			return fmt.Errorf("Write to %q: %w", name, err)
		}
		if m != n {
			return fmt.Errorf("Write to %q wrote %d of %d bytes without an error", name, m, n)
		}
		data = data[n:]
	}
	if err := w.Commit(); err != nil {
		return fmt.Errorf("Commit(%q): %w", name, err)
	}
	return nil
}

// get reads the whole blob called name.
func get(t testing.TB, b backend.Backend, name string) []byte {
	t.Helper()
	data, err := tryGet(t.Context(), b, name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func tryGet(ctx context.Context, b backend.Backend, name string) ([]byte, error) {
	r, err := b.Open(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("Open(%q): %w", name, err)
	}
	defer r.Close()
	size := r.Size()
	if size < 0 {
		return nil, fmt.Errorf("Open(%q): Size() = %d", name, size)
	}
	buf := make([]byte, size)
	n, err := r.ReadAt(buf, 0)
	if n != len(buf) || (err != nil && err != io.EOF) {
		return nil, fmt.Errorf("ReadAt of all %d bytes of %q = %d, %v", size, name, n, err)
	}
	// Nothing may follow the end the Reader announced.
	var one [1]byte
	if n, err := r.ReadAt(one[:], size); n != 0 || err != io.EOF {
		return nil, fmt.Errorf("ReadAt(1 byte, off %d = Size) of %q = %d, %v; want 0, io.EOF", size, name, n, err)
	}
	return buf, nil
}

// list returns name -> Info of the blobs under prefix, failing on
// duplicates.
func list(t testing.TB, b backend.Backend, prefix string) map[string]backend.Info {
	t.Helper()
	got := make(map[string]backend.Info)
	err := b.List(t.Context(), prefix, func(info backend.Info) error {
		if _, dup := got[info.Name]; dup {
			t.Errorf("List(%q) reported %q twice", prefix, info.Name)
		}
		got[info.Name] = info
		return nil
	})
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return got
}

func names(m map[string]backend.Info) []string {
	s := make([]string, 0, len(m))
	for name := range m {
		s = append(s, name)
	}
	sort.Strings(s)
	return s
}

func wantNotExist(t testing.TB, what string, err error) {
	t.Helper()
	if !errors.Is(err, fs.ErrNotExist) || !errors.Is(err, backend.ErrNotExist) {
		t.Errorf("%s: error %v does not match fs.ErrNotExist and backend.ErrNotExist", what, err)
	}
}

func wantAbsent(t testing.TB, b backend.Backend, name string) {
	t.Helper()
	_, err := b.Stat(t.Context(), name)
	wantNotExist(t, fmt.Sprintf("Stat(%q)", name), err)
	r, err := b.Open(t.Context(), name)
	if err == nil {
		r.Close()
	}
	wantNotExist(t, fmt.Sprintf("Open(%q)", name), err)
	if _, ok := list(t, b, name)[name]; ok {
		t.Errorf("List(%q) reports %q, which should not exist", name, name)
	}
}

func wantContent(t testing.TB, b backend.Backend, name string, want []byte) {
	t.Helper()
	got := get(t, b, name)
	if !bytes.Equal(got, want) {
		t.Errorf("blob %q: got %d bytes, want %d bytes (first difference at %d)", name, len(got), len(want), firstDiff(got, want))
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func testCreateOpen(t *testing.T, b backend.Backend) {
	data := pattern(1, 10_000)
	putChunks(t, b, "obj/one", data, 777)
	r, err := b.Open(t.Context(), "obj/one")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Size() != int64(len(data)) {
		t.Errorf("Size() = %d, want %d", r.Size(), len(data))
	}
	wantContent(t, b, "obj/one", data)
}

func testReadAtRanges(t *testing.T, b backend.Backend) {
	const size = 1000
	data := pattern(2, size)
	put(t, b, "ranges", data)
	r, err := b.Open(t.Context(), "ranges")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, tc := range []struct {
		off    int64
		len    int
		wantN  int
		eofOK  bool // io.EOF or nil allowed (the read ends exactly at the end)
		eof    bool // io.EOF required
		errReq bool // a non-EOF error required
	}{
		{off: 0, len: 10, wantN: 10},
		{off: 123, len: 456, wantN: 456},
		{off: 0, len: size, wantN: size, eofOK: true},
		{off: 990, len: 10, wantN: 10, eofOK: true},
		{off: 999, len: 1, wantN: 1, eofOK: true},
		{off: 995, len: 10, wantN: 5, eof: true},
		{off: 0, len: size + 1, wantN: size, eof: true},
		{off: size, len: 10, wantN: 0, eof: true},
		{off: size + 1, len: 10, wantN: 0, eof: true},
		{off: 1 << 40, len: 10, wantN: 0, eof: true},
		{off: 500, len: 0, wantN: 0},
		{off: -1, len: 10, wantN: 0, errReq: true},
	} {
		p := make([]byte, tc.len)
		n, err := r.ReadAt(p, tc.off)
		what := fmt.Sprintf("ReadAt(len %d, off %d)", tc.len, tc.off)
		if n != tc.wantN {
			t.Errorf("%s: n = %d, want %d (err %v)", what, n, tc.wantN, err)
			continue
		}
		switch {
		case tc.errReq:
			if err == nil || err == io.EOF {
				t.Errorf("%s: err = %v, want a non-EOF error", what, err)
			}
		case tc.eof:
			if err != io.EOF {
				t.Errorf("%s: err = %v, want io.EOF", what, err)
			}
		case tc.eofOK:
			if err != nil && err != io.EOF {
				t.Errorf("%s: err = %v, want nil or io.EOF", what, err)
			}
		default:
			if err != nil {
				t.Errorf("%s: err = %v, want nil", what, err)
			}
		}
		if tc.off >= 0 && n > 0 && !bytes.Equal(p[:n], data[tc.off:tc.off+int64(n)]) {
			t.Errorf("%s: wrong bytes", what)
		}
	}
}

func testReadAtConcurrent(t *testing.T, b backend.Backend) {
	data := pattern(3, 256<<10)
	put(t, b, "concurrent-reads", data)
	r, err := b.Open(t.Context(), "concurrent-reads")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 0))
			for range 50 {
				off := rng.IntN(len(data))
				n := rng.IntN(len(data) - off + 1)
				p := make([]byte, n)
				got, err := r.ReadAt(p, int64(off))
				if got != n || (err != nil && err != io.EOF) {
					t.Errorf("ReadAt(len %d, off %d) = %d, %v", n, off, got, err)
					return
				}
				if !bytes.Equal(p, data[off:off+n]) {
					t.Errorf("ReadAt(len %d, off %d): wrong bytes", n, off)
					return
				}
			}
		})
	}
	wg.Wait()
}

func testReaderClose(t *testing.T, b backend.Backend) {
	put(t, b, "closing", pattern(4, 100))
	r, err := b.Open(t.Context(), "closing")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	p := make([]byte, 10)
	if _, err := r.ReadAt(p, 0); err == nil {
		t.Error("ReadAt after Close succeeded")
	}
	// The blob itself is untouched.
	wantContent(t, b, "closing", pattern(4, 100))
}

func testStat(t *testing.T, b backend.Backend) {
	before := time.Now()
	data := pattern(5, 4321)
	put(t, b, "stat/me", data)
	after := time.Now()
	info, err := b.Stat(t.Context(), "stat/me")
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "stat/me" || info.Size != int64(len(data)) {
		t.Errorf("Stat = %+v, want name %q size %d", info, "stat/me", len(data))
	}
	// File systems keep coarse clocks; allow a little slack.
	const slack = 2 * time.Second
	if info.ModTime.Before(before.Add(-slack)) || info.ModTime.After(after.Add(slack)) {
		t.Errorf("Stat ModTime = %v, want between %v and %v", info.ModTime, before, after)
	}
	l := list(t, b, "stat/")["stat/me"]
	if l.Name != info.Name || l.Size != info.Size || !l.ModTime.Equal(info.ModTime) {
		t.Errorf("List gives %+v, Stat gives %+v", l, info)
	}
}

func testDelete(t *testing.T, b backend.Backend) {
	put(t, b, "del/a", pattern(6, 10))
	put(t, b, "del/b", pattern(7, 10))
	if err := b.Delete(t.Context(), "del/a"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantAbsent(t, b, "del/a")
	wantNotExist(t, "second Delete", b.Delete(t.Context(), "del/a"))
	wantContent(t, b, "del/b", pattern(7, 10))
	if got := names(list(t, b, "")); len(got) != 1 || got[0] != "del/b" {
		t.Errorf("List after Delete = %q, want [del/b]", got)
	}
	// The name can be used again.
	put(t, b, "del/a", pattern(8, 20))
	wantContent(t, b, "del/a", pattern(8, 20))
}

func testList(t *testing.T, b backend.Backend) {
	all := []string{"a", "a/b", "a/b/c", "a/bc", "a.b", "ab", "b", "b/a", "x-y_z.0", "Z"}
	for i, name := range all {
		put(t, b, name, pattern(uint64(i), i*10))
	}
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"", all},
		{"a", []string{"a", "a/b", "a/b/c", "a/bc", "a.b", "ab"}},
		{"a/", []string{"a/b", "a/b/c", "a/bc"}},
		{"a/b", []string{"a/b", "a/b/c", "a/bc"}},
		{"a/b/", []string{"a/b/c"}},
		{"b", []string{"b", "b/a"}},
		{"Z", []string{"Z"}},
		{"z", nil},
		{"nothing", nil},
		{"a/b/c/d", nil},
		{"../", nil},
		{"/", nil},
	} {
		got := list(t, b, tc.prefix)
		want := append([]string(nil), tc.want...)
		sort.Strings(want)
		if g := names(got); strings.Join(g, " ") != strings.Join(want, " ") {
			t.Errorf("List(%q) = %q, want %q", tc.prefix, g, want)
		}
		for name, info := range got {
			for i, n := range all {
				if n == name && info.Size != int64(i*10) {
					t.Errorf("List(%q): %q has size %d, want %d", tc.prefix, name, info.Size, i*10)
				}
			}
		}
	}
}

func testListCallbackError(t *testing.T, b backend.Backend) {
	for i := range 5 {
		put(t, b, fmt.Sprintf("stop/%d", i), nil)
	}
	errStop := errors.New("stop here")
	calls := 0
	err := b.List(t.Context(), "stop/", func(backend.Info) error {
		calls++
		return fmt.Errorf("wrapped: %w", errStop)
	})
	if !errors.Is(err, errStop) {
		t.Errorf("List returned %v, want the callback's error", err)
	}
	if calls != 1 {
		t.Errorf("List went on after the callback failed: %d calls", calls)
	}
}

func testListCallbackUsesBackend(t *testing.T, b backend.Backend) {
	for i := range 10 {
		put(t, b, fmt.Sprintf("walk/%d", i), pattern(uint64(i), 3))
	}
	seen := 0
	err := b.List(t.Context(), "walk/", func(info backend.Info) error {
		seen++
		if _, err := b.Stat(t.Context(), info.Name); err != nil {
			return err
		}
		return b.Delete(t.Context(), info.Name)
	})
	if err != nil {
		t.Fatalf("List with a callback that deletes: %v", err)
	}
	if seen != 10 {
		t.Errorf("List reported %d blobs, want 10", seen)
	}
	if left := list(t, b, "walk/"); len(left) != 0 {
		t.Errorf("blobs left after deleting each while listing: %q", names(left))
	}
}

func testOverwrite(t *testing.T, b backend.Backend) {
	old, updated := pattern(9, 5000), pattern(10, 3000)
	put(t, b, "over", old)
	w, err := b.Create(t.Context(), "over")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if _, err := w.Write(updated[:1000]); err != nil {
		t.Fatal(err)
	}
	// Until Commit, the old blob is what everyone sees.
	wantContent(t, b, "over", old)
	if _, err := w.Write(updated[1000:]); err != nil {
		t.Fatal(err)
	}
	wantContent(t, b, "over", old)
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	wantContent(t, b, "over", updated)
	info, err := b.Stat(t.Context(), "over")
	if err != nil || info.Size != int64(len(updated)) {
		t.Errorf("Stat after overwrite = %+v, %v; want size %d", info, err, len(updated))
	}
	if got := list(t, b, ""); len(got) != 1 || got["over"].Size != int64(len(updated)) {
		t.Errorf("List after overwrite = %+v", got)
	}
}

func testAbort(t *testing.T, b backend.Backend) {
	w, err := b.Create(t.Context(), "aborted")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(pattern(11, 2000)); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	wantAbsent(t, b, "aborted")
	if got := list(t, b, ""); len(got) != 0 {
		t.Errorf("List after Abort = %q, want nothing", names(got))
	}
}

func testAbortKeepsOld(t *testing.T, b backend.Backend) {
	old := pattern(12, 100)
	put(t, b, "keep", old)
	w, err := b.Create(t.Context(), "keep")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(pattern(13, 50)); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	wantContent(t, b, "keep", old)
}

func testUncommittedInvisible(t *testing.T, b backend.Backend) {
	w, err := b.Create(t.Context(), "pending/x")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	data := pattern(14, 1000)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	wantAbsent(t, b, "pending/x")
	if got := list(t, b, ""); len(got) != 0 {
		t.Errorf("List shows uncommitted blobs: %q", names(got))
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	wantContent(t, b, "pending/x", data)
}

func testInvalidNames(t *testing.T, b backend.Backend) {
	ctx := t.Context()
	bad := []string{
		"", "/", "/a", "a/", "a//b", ".", "..", "./a", "a/.", "a/../b", "../a",
		"a b", "a\x00b", "a\\b", "a:b", "a+b", "a*b", "ü", "a\nb", "~",
		strings.Repeat("x", 256),
	}
	for _, name := range bad {
		if w, err := b.Create(ctx, name); !errors.Is(err, backend.ErrInvalidName) {
			t.Errorf("Create(%q) = %v, want ErrInvalidName", name, err)
			if err == nil {
				w.Abort()
			}
		}
		if r, err := b.Open(ctx, name); !errors.Is(err, backend.ErrInvalidName) {
			t.Errorf("Open(%q) = %v, want ErrInvalidName", name, err)
			if err == nil {
				r.Close()
			}
		}
		if _, err := b.Stat(ctx, name); !errors.Is(err, backend.ErrInvalidName) {
			t.Errorf("Stat(%q) = %v, want ErrInvalidName", name, err)
		}
		if err := b.Delete(ctx, name); !errors.Is(err, backend.ErrInvalidName) {
			t.Errorf("Delete(%q) = %v, want ErrInvalidName", name, err)
		}
	}
	if got := list(t, b, ""); len(got) != 0 {
		t.Errorf("invalid names left blobs: %q", names(got))
	}
}

func testEdgeNames(t *testing.T, b backend.Backend) {
	long := strings.Repeat("n", 255)
	deep := strings.Repeat("d/", 100) + "end"
	edge := []string{"a", "a/b", "a/b/c", "A", "...", "a/...", ".a", "a.", "-", "_", "-_.", "0", long, deep}
	for i, name := range edge {
		put(t, b, name, pattern(uint64(100+i), i))
	}
	for i, name := range edge {
		wantContent(t, b, name, pattern(uint64(100+i), i))
	}
	got := names(list(t, b, ""))
	want := append([]string(nil), edge...)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("List = %q, want %q", got, want)
	}
	// Deleting one name leaves the names it prefixes alone.
	if err := b.Delete(t.Context(), "a"); err != nil {
		t.Fatal(err)
	}
	wantAbsent(t, b, "a")
	wantContent(t, b, "a/b", pattern(101, 1))
	wantContent(t, b, "A", pattern(103, 3))
}

func testMissing(t *testing.T, b backend.Backend) {
	ctx := t.Context()
	put(t, b, "present", nil)
	for _, name := range []string{"absent", "present/child", "a/b/c"} {
		r, err := b.Open(ctx, name)
		if err == nil {
			r.Close()
		}
		wantNotExist(t, fmt.Sprintf("Open(%q)", name), err)
		_, err = b.Stat(ctx, name)
		wantNotExist(t, fmt.Sprintf("Stat(%q)", name), err)
		wantNotExist(t, fmt.Sprintf("Delete(%q)", name), b.Delete(ctx, name))
	}
}

func testConcurrentDifferentNames(t *testing.T, b backend.Backend) {
	const writers, each = 8, 12
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				name := fmt.Sprintf("cw/%d/%d", g, i)
				data := pattern(uint64(g*1000+i), 100+g*i*37)
				if err := tryPut(t.Context(), b, name, data, 64); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	got := list(t, b, "cw/")
	if len(got) != writers*each {
		t.Errorf("List found %d blobs, want %d", len(got), writers*each)
	}
	for g := range writers {
		for i := range each {
			wantContent(t, b, fmt.Sprintf("cw/%d/%d", g, i), pattern(uint64(g*1000+i), 100+g*i*37))
		}
	}
}

// sameNameContent is writer g's version of the contested blob: every byte
// is g and the length is unique to g, so a mix of versions shows.
func sameNameContent(g int) []byte {
	return bytes.Repeat([]byte{byte(g)}, 20_000+g*1_111)
}

func checkSameName(data []byte) error {
	if len(data) == 0 {
		return errors.New("empty")
	}
	g := int(data[0])
	if !bytes.Equal(data, sameNameContent(g)) {
		return fmt.Errorf("%d bytes starting with version %d: a torn or mixed blob", len(data), g)
	}
	return nil
}

func testConcurrentSameName(t *testing.T, b backend.Backend) {
	const writers, rounds = 6, 4
	const name = "contested/blob"
	put(t, b, name, sameNameContent(0))
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				data, err := tryGet(t.Context(), b, name)
				if err != nil {
					t.Errorf("reading while others overwrite: %v", err)
					return
				}
				if err := checkSameName(data); err != nil {
					t.Errorf("reader saw %v", err)
					return
				}
			}
		})
	}
	var wg sync.WaitGroup
	for g := 1; g <= writers; g++ {
		wg.Go(func() {
			for range rounds {
				// Small chunks, so that a non-atomic publish would be seen.
				if err := tryPut(t.Context(), b, name, sameNameContent(g), 1000); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	data := get(t, b, name)
	if err := checkSameName(data); err != nil {
		t.Errorf("after all writers: %v", err)
	} else if data[0] == 0 {
		t.Error("after all writers the initial version is still there")
	}
	if got := list(t, b, ""); len(got) != 1 {
		t.Errorf("List = %q, want the one contested name", names(got))
	}
}

func testCancelledContext(t *testing.T, b backend.Backend) {
	put(t, b, "there", pattern(15, 10))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if w, err := b.Create(ctx, "new"); !errors.Is(err, context.Canceled) {
		t.Errorf("Create with a cancelled ctx = %v, want context.Canceled", err)
		if err == nil {
			w.Abort()
		}
	}
	if r, err := b.Open(ctx, "there"); !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a cancelled ctx = %v, want context.Canceled", err)
		if err == nil {
			r.Close()
		}
	}
	if _, err := b.Stat(ctx, "there"); !errors.Is(err, context.Canceled) {
		t.Errorf("Stat with a cancelled ctx = %v, want context.Canceled", err)
	}
	if err := b.Delete(ctx, "there"); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete with a cancelled ctx = %v, want context.Canceled", err)
	}
	called := false
	if err := b.List(ctx, "", func(backend.Info) error { called = true; return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("List with a cancelled ctx = %v, want context.Canceled", err)
	}
	if called {
		t.Error("List with a cancelled ctx called fn")
	}
	if err := b.Probe(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Probe with a cancelled ctx = %v, want context.Canceled", err)
	}
	wantContent(t, b, "there", pattern(15, 10))
	wantAbsent(t, b, "new")
}

func testWriterContextCancelled(t *testing.T, b backend.Backend) {
	t.Run("BeforeWrite", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		w, err := b.Create(ctx, "wctx/a")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(pattern(16, 100)); err != nil {
			t.Fatal(err)
		}
		cancel()
		if _, err := w.Write(pattern(17, 100)); !errors.Is(err, context.Canceled) {
			t.Errorf("Write after cancel = %v, want context.Canceled", err)
		}
		if err := w.Commit(); !errors.Is(err, context.Canceled) {
			t.Errorf("Commit after cancel = %v, want context.Canceled", err)
		}
		if err := w.Abort(); err != nil {
			t.Errorf("Abort after a failed Commit = %v, want nil", err)
		}
		wantAbsent(t, b, "wctx/a")
	})
	t.Run("BeforeCommit", func(t *testing.T) {
		put(t, b, "wctx/b", pattern(18, 10))
		ctx, cancel := context.WithCancel(t.Context())
		w, err := b.Create(ctx, "wctx/b")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(pattern(19, 100)); err != nil {
			t.Fatal(err)
		}
		cancel()
		if err := w.Commit(); !errors.Is(err, context.Canceled) {
			t.Errorf("Commit after cancel = %v, want context.Canceled", err)
		}
		if err := w.Abort(); err != nil {
			t.Errorf("Abort after a failed Commit = %v, want nil", err)
		}
		wantContent(t, b, "wctx/b", pattern(18, 10))
	})
}

func testReaderContextCancelled(t *testing.T, b backend.Backend) {
	put(t, b, "rctx", pattern(20, 100))
	ctx, cancel := context.WithCancel(t.Context())
	r, err := b.Open(ctx, "rctx")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p := make([]byte, 10)
	if _, err := r.ReadAt(p, 0); err != nil {
		t.Fatalf("ReadAt before cancel: %v", err)
	}
	cancel()
	if _, err := r.ReadAt(p, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("ReadAt after cancel = %v, want context.Canceled", err)
	}
}

func testEmpty(t *testing.T, b backend.Backend) {
	w, err := b.Create(t.Context(), "empty")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	info, err := b.Stat(t.Context(), "empty")
	if err != nil || info.Size != 0 {
		t.Errorf("Stat(empty) = %+v, %v; want size 0", info, err)
	}
	r, err := b.Open(t.Context(), "empty")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Size() != 0 {
		t.Errorf("Size() = %d, want 0", r.Size())
	}
	if n, err := r.ReadAt(make([]byte, 1), 0); n != 0 || err != io.EOF {
		t.Errorf("ReadAt of an empty blob = %d, %v; want 0, io.EOF", n, err)
	}
	if got := list(t, b, "emp"); len(got) != 1 || got["empty"].Size != 0 {
		t.Errorf("List = %+v, want the empty blob", got)
	}
	// Empty writes are fine too.
	w, err = b.Create(t.Context(), "empty2")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := w.Write(nil); n != 0 || err != nil {
		t.Errorf("Write(nil) = %d, %v", n, err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	wantContent(t, b, "empty2", nil)
}

func testLarge(t *testing.T, b backend.Backend) {
	const size = 5<<20 + 12345
	data := pattern(21, size)
	w, err := b.Create(t.Context(), "large/blob")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	rng := rand.New(rand.NewPCG(21, 0))
	for rest := data; len(rest) > 0; {
		n := min(1+rng.IntN(300<<10), len(rest))
		if m, err := w.Write(rest[:n]); m != n || err != nil {
			t.Fatalf("Write = %d, %v", m, err)
		}
		rest = rest[n:]
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	wantContent(t, b, "large/blob", data)
	r, err := b.Open(t.Context(), "large/blob")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for range 40 {
		off := rng.IntN(size + 100)
		n := rng.IntN(1 << 20)
		p := make([]byte, n)
		got, err := r.ReadAt(p, int64(off))
		want := max(0, min(n, size-off))
		if got != want {
			t.Fatalf("ReadAt(len %d, off %d) = %d, %v; want %d bytes", n, off, got, err, want)
		}
		if got < n && err != io.EOF {
			t.Errorf("short ReadAt(len %d, off %d) = %d, %v; want io.EOF", n, off, got, err)
		}
		if got == n && err != nil && err != io.EOF {
			t.Errorf("ReadAt(len %d, off %d): %v", n, off, err)
		}
		if got > 0 && !bytes.Equal(p[:got], data[off:off+got]) {
			t.Fatalf("ReadAt(len %d, off %d): wrong bytes", n, off)
		}
	}
}

func testSpentAfterCommit(t *testing.T, b backend.Backend) {
	data := pattern(22, 64)
	w, err := b.Create(t.Context(), "spent")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("more")); !errors.Is(err, backend.ErrSpent) {
		t.Errorf("Write after Commit = %v, want ErrSpent", err)
	}
	if err := w.Commit(); !errors.Is(err, backend.ErrSpent) {
		t.Errorf("second Commit = %v, want ErrSpent", err)
	}
	if err := w.Abort(); !errors.Is(err, backend.ErrSpent) {
		t.Errorf("Abort after Commit = %v, want ErrSpent", err)
	}
	wantContent(t, b, "spent", data)
}

func testSpentAfterAbort(t *testing.T, b backend.Backend) {
	w, err := b.Create(t.Context(), "spent")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("abc")); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("more")); !errors.Is(err, backend.ErrSpent) {
		t.Errorf("Write after Abort = %v, want ErrSpent", err)
	}
	if err := w.Commit(); !errors.Is(err, backend.ErrSpent) {
		t.Errorf("Commit after Abort = %v, want ErrSpent", err)
	}
	if err := w.Abort(); err != nil {
		t.Errorf("second Abort = %v, want nil", err)
	}
	wantAbsent(t, b, "spent")
}

func testWriteDoesNotRetain(t *testing.T, b backend.Backend) {
	want := pattern(23, 3000)
	buf := make([]byte, 1000)
	w, err := b.Create(t.Context(), "retain")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	for i := 0; i < len(want); i += len(buf) {
		copy(buf, want[i:])
		if _, err := w.Write(buf); err != nil {
			t.Fatal(err)
		}
		clear(buf)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	wantContent(t, b, "retain", want)
}

func testProbe(t *testing.T, b backend.Backend) {
	if err := b.Probe(t.Context()); err != nil {
		t.Errorf("Probe of a working backend: %v", err)
	}
	if got := list(t, b, ""); len(got) != 0 {
		t.Errorf("Probe left blobs behind: %q", names(got))
	}
}
