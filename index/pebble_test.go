package index_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/cellarhq/cellar/index"
	"github.com/cellarhq/cellar/index/indextest"
)

// testLogger sends log records to t.Log, so they show only for failed or
// verbose tests.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func openDisk(t testing.TB, dir string) *index.Pebble {
	t.Helper()
	p, err := index.OpenPebble(dir, &index.PebbleOptions{Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("OpenPebble: %v", err)
	}
	return p
}

func openMemory(t testing.TB) *index.Pebble {
	t.Helper()
	p, err := index.OpenPebbleMemory(&index.PebbleOptions{Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("OpenPebbleMemory: %v", err)
	}
	return p
}

func TestPebbleDisk(t *testing.T) {
	indextest.Run(t, func(t *testing.T) index.Index { return openDisk(t, t.TempDir()) })
}

func TestPebbleMemory(t *testing.T) {
	indextest.Run(t, func(t *testing.T) index.Index { return openMemory(t) })
}

func TestPebblePersistence(t *testing.T) {
	indextest.RunPersistence(t, func(t *testing.T, dir string) index.Index { return openDisk(t, dir) })
}

func TestOpenPebbleBadOptions(t *testing.T) {
	cases := []struct {
		dir  string
		opts *index.PebbleOptions
		want string
	}{
		{"", nil, "empty directory"},
		{t.TempDir(), &index.PebbleOptions{CacheSize: -1}, "CacheSize"},
		{t.TempDir(), &index.PebbleOptions{MemTableSize: -1}, "MemTableSize"},
		{t.TempDir(), &index.PebbleOptions{MemTableSize: 4 << 30}, "MemTableSize"},
	}
	for _, c := range cases {
		p, err := index.OpenPebble(c.dir, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("OpenPebble(%q, %+v): err = %v, want one naming %s", c.dir, c.opts, err, c.want)
		}
		if p != nil {
			p.Close()
		}
	}
	if _, err := index.OpenPebbleMemory(&index.PebbleOptions{CacheSize: -1}); err == nil {
		t.Errorf("OpenPebbleMemory with a negative CacheSize succeeded")
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestPebbleLogging checks that Pebble's informational chatter goes to the
// logger at debug level, so an Info-level logger stays quiet.
func TestPebbleLogging(t *testing.T) {
	dir := t.TempDir()
	var buf syncBuffer
	run := func(level slog.Level) {
		log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: level}))
		p, err := index.OpenPebble(dir, &index.PebbleOptions{Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		var b index.Batch
		b.Set([]byte("k"), []byte("v"))
		if err := p.Apply(t.Context(), &b); err != nil {
			t.Fatal(err)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
	run(slog.LevelInfo)
	run(slog.LevelInfo) // reopening replays the WAL, which Pebble reports
	if s := buf.String(); s != "" {
		t.Errorf("an Info-level logger received:\n%s", s)
	}
	run(slog.LevelDebug)
	if s := buf.String(); !strings.Contains(s, "level=DEBUG") || !strings.Contains(s, "pebble: ") {
		t.Errorf("a Debug-level logger received no Pebble messages; got:\n%s", s)
	}
}

// TestPebbleCloseWhileBusy closes the index while other goroutines use it
// and its iterators and snapshots: nothing may panic or race, and every
// error must be ErrClosed.
func TestPebbleCloseWhileBusy(t *testing.T) {
	for _, disk := range []bool{false, true} {
		t.Run(fmt.Sprintf("disk=%v", disk), func(t *testing.T) {
			var p *index.Pebble
			if disk {
				p = openDisk(t, t.TempDir())
			} else {
				p = openMemory(t)
			}
			ctx := t.Context()
			var b index.Batch
			for i := range 100 {
				b.Set(fmt.Appendf(nil, "%03d", i), []byte("v"))
			}
			if err := p.Apply(ctx, &b); err != nil {
				t.Fatal(err)
			}
			check := func(err error) bool {
				if err != nil && !errors.Is(err, index.ErrClosed) {
					t.Errorf("unexpected error: %v", err)
				}
				return err == nil
			}
			// walk iterates over r and reports whether it could start.
			walk := func(r index.Reader) bool {
				it, err := r.NewIter(ctx, nil, nil)
				if !check(err) {
					return false
				}
				for ok := it.First(); ok; ok = it.Next() {
					_ = it.Key()
					_ = it.Value()
				}
				check(it.Error())
				check(it.Close())
				return true
			}
			started := make(chan struct{})
			var wg sync.WaitGroup
			for g := range 4 {
				wg.Go(func() {
					var once sync.Once
					for n := 0; ; n++ {
						if n == 3 {
							once.Do(func() { started <- struct{}{} })
						}
						switch g {
						case 0:
							var b index.Batch
							b.Set(fmt.Appendf(nil, "w%d", n), []byte("v"))
							if !check(p.Apply(ctx, &b)) {
								return
							}
						case 1:
							_, err := p.Get(ctx, []byte("050"))
							if !check(err) {
								return
							}
						case 2:
							if !walk(p) {
								return
							}
						case 3:
							s, err := p.Snapshot(ctx)
							if !check(err) {
								return
							}
							ok := walk(s)
							check(s.Close())
							if !ok {
								return
							}
						}
					}
				})
			}
			for range 4 {
				<-started
			}
			if err := p.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			wg.Wait()
		})
	}
}

func BenchmarkPebbleApply(b *testing.B) {
	for _, disk := range []bool{false, true} {
		b.Run(map[bool]string{false: "memory", true: "disk"}[disk], func(b *testing.B) {
			var p *index.Pebble
			if disk {
				p = openDisk(b, b.TempDir())
			} else {
				p = openMemory(b)
			}
			defer p.Close()
			ctx := b.Context()
			// A PUT's commit: the version record, the latest pointer and a
			// deferred deletion.
			record := bytes.Repeat([]byte("r"), 300)
			var batch index.Batch
			var key []byte
			b.ReportAllocs()
			n := uint64(0)
			for b.Loop() {
				n++
				batch.Reset()
				key = index.AppendEscapedString(append(key[:0], 'v'), "bucket")
				key = index.AppendEscapedString(key, "some/object/key")
				batch.Set(index.AppendUint64(key, ^n), record)
				key = index.AppendEscapedString(append(key[:0], 'l'), "bucket")
				batch.Set(index.AppendEscapedString(key, "some/object/key"), index.AppendUint64(nil, n))
				batch.Set(index.AppendUint64(append(key[:0], 'q'), n), []byte("data-id"))
				if err := p.Apply(ctx, &batch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkPebbleIterate100k(b *testing.B) {
	const n = 100_000
	p := openMemory(b)
	defer p.Close()
	ctx := b.Context()
	var batch index.Batch
	val := bytes.Repeat([]byte("v"), 100)
	for i := range n {
		batch.Set(fmt.Appendf(nil, "bucket\x00\x01key/%08d", i), val)
		if batch.Len() == 5000 {
			if err := p.Apply(ctx, &batch); err != nil {
				b.Fatal(err)
			}
			batch.Reset()
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		it, err := p.NewIter(ctx, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		count := 0
		for ok := it.First(); ok; ok = it.Next() {
			count++
		}
		if err := it.Close(); err != nil || count != n {
			b.Fatalf("iterated %d keys, err %v", count, err)
		}
	}
	b.SetBytes(n * int64(len(val)+20))
}
