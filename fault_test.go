package cellar_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cellarhq/cellar"
	"github.com/cellarhq/cellar/backend"
	"github.com/cellarhq/cellar/backend/faulty"
	"github.com/cellarhq/cellar/index"
)

// faultyStore is an in-memory store whose three zones can be broken.
func faultyStore(t testing.TB, opts *cellar.Options) (*cellar.Store, []*faulty.Backend) {
	t.Helper()
	if opts == nil {
		opts = smallOpts()
	}
	var zones []*faulty.Backend
	for range 3 {
		z := faulty.Wrap(backend.NewMemory())
		zones = append(zones, z)
		opts.Zones = append(opts.Zones, z)
	}
	return newStore(t, opts), zones
}

func TestZoneOfflineDuringPutAndGet(t *testing.T) {
	ctx := context.Background()
	s, zones := faultyStore(t, nil)
	b := newBucket(t, s, "zones")
	want := map[string][]byte{}
	// Write with each zone offline in turn; every put succeeds on quorum.
	for zi := range zones {
		zones[zi].SetOffline(true)
		for i := range 4 {
			key := fmt.Sprintf("z%d/k%d", zi, i)
			data := randBytes(uint64(zi*10+i), 150_000+i*1000)
			if _, err := b.Put(ctx, key, bytes.NewReader(data), nil); err != nil {
				t.Fatalf("put %s with zone %d offline: %v", key, zi, err)
			}
			want[key] = data
		}
		zones[zi].SetOffline(false)
	}
	// Read everything with all zones up, and with each zone offline in
	// turn the objects written while it was offline (they have no shards
	// there) and the one written with every zone up.
	if _, err := b.Put(ctx, "full", bytes.NewReader(randBytes(99, 300_000)), nil); err != nil {
		t.Fatal(err)
	}
	want["full"] = randBytes(99, 300_000)
	for zi := -1; zi < len(zones); zi++ {
		if zi >= 0 {
			zones[zi].SetOffline(true)
		}
		for key, data := range want {
			if zi >= 0 && key != "full" && !strings.HasPrefix(key, fmt.Sprintf("z%d/", zi)) {
				continue
			}
			if got := readAll(t, b, key, nil); !bytes.Equal(got, data) {
				t.Fatalf("%s with zone %d offline: wrong bytes", key, zi)
			}
		}
		if zi >= 0 {
			zones[zi].SetOffline(false)
		}
	}
	rep, err := s.Check(ctx)
	if err != nil || len(rep.Problems) > 0 {
		t.Fatalf("check: %+v %v", rep, err)
	}
	if rep.Degraded != 12 {
		t.Fatalf("%d degraded data sets, want the 12 written with a zone offline", rep.Degraded)
	}
	// Healing with a zone still down rebuilds what it can and keeps the
	// rest queued.
	zones[1].SetOffline(true)
	hrep, err := s.Heal(ctx)
	if err != nil || hrep.Pending == 0 {
		t.Fatalf("heal with a zone down: %+v %v", hrep, err)
	}
	zones[1].SetOffline(false)
	if hrep, err = s.Heal(ctx); err != nil || hrep.Pending != 0 || hrep.Healed == 0 {
		t.Fatalf("heal: %+v %v", hrep, err)
	}
	if rep, err = s.Check(ctx); err != nil || rep.Degraded != 0 || len(rep.Problems) > 0 {
		t.Fatalf("check after heal: %+v %v", rep, err)
	}
	// Full redundancy again: every object reads with any one zone offline.
	for zi := range zones {
		zones[zi].SetOffline(true)
		for key, data := range want {
			if got := readAll(t, b, key, nil); !bytes.Equal(got, data) {
				t.Fatalf("%s with zone %d offline after heal: wrong bytes", key, zi)
			}
		}
		zones[zi].SetOffline(false)
	}
	// Two zones down: a put fails with ErrQuorum and leaves the old object.
	zones[0].SetOffline(true)
	zones[2].SetOffline(true)
	if _, err := b.Put(ctx, "z0/k0", strings.NewReader("new"), nil); !errors.Is(err, cellar.ErrQuorum) {
		t.Fatalf("put with two zones offline: %v, want ErrQuorum", err)
	}
	_, err = b.Get(ctx, "z0/k0", nil)
	if err == nil {
		obj, _ := b.Get(ctx, "z0/k0", nil)
		_, err = io.ReadAll(obj)
		obj.Close()
	}
	if err == nil {
		t.Fatal("read with two of three zones offline succeeded")
	}
	zones[0].SetOffline(false)
	zones[2].SetOffline(false)
	if got := readAll(t, b, "z0/k0", nil); !bytes.Equal(got, want["z0/k0"]) {
		t.Fatal("failed put changed the object")
	}
	assertNoGarbage(t, s)
}

func TestCorruptShards(t *testing.T) {
	ctx := context.Background()
	s, zones := faultyStore(t, nil)
	b := newBucket(t, s, "corrupt")
	want := map[string][]byte{}
	for i := range 6 {
		key := fmt.Sprintf("k%d", i)
		want[key] = randBytes(uint64(100+i), 64<<10*i+i)
		if _, err := b.Put(ctx, key, bytes.NewReader(want[key]), nil); err != nil {
			t.Fatal(err)
		}
	}
	// Every read of one zone flips a bit: the hashes catch it and parity
	// repairs it.
	for zi := range zones {
		zones[zi].SetBitFlip(1)
		for key, data := range want {
			if got := readAll(t, b, key, nil); !bytes.Equal(got, data) {
				t.Fatalf("%s with zone %d corrupt: wrong bytes", key, zi)
			}
		}
		zones[zi].SetBitFlip(0)
	}
	// One zone offline and another corrupt is more than RS(4,2) can
	// repair: an error that says so, never wrong bytes.
	zones[0].SetOffline(true)
	zones[1].SetCorrupt(func(string) bool { return true })
	failed := 0
	for key, data := range want {
		if len(data) == 0 {
			continue
		}
		obj, err := b.Get(ctx, key, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(obj)
		obj.Close()
		if err == nil && !bytes.Equal(got, data) {
			t.Fatalf("%s: wrong bytes without an error", key)
		}
		if err != nil {
			failed++
			if !errors.Is(err, cellar.ErrCorrupt) && !errors.Is(err, cellar.ErrQuorum) {
				t.Fatalf("%s: error %v does not say corrupt", key, err)
			}
		}
	}
	if failed == 0 {
		t.Fatal("no read failed with four of six shards unusable")
	}
}

// cancelReader cancels its context after n bytes.
type cancelReader struct {
	r      io.Reader
	n      int
	cancel func()
}

func (c *cancelReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		c.cancel()
	}
	n, err := c.r.Read(p[:min(len(p), max(c.n, 1))])
	c.n -= n
	return n, err
}

func TestCancelMidPut(t *testing.T) {
	s := newStore(t, nil)
	b := newBucket(t, s, "cancel")
	old := randBytes(1, 300_000)
	if _, err := b.Put(context.Background(), "k", bytes.NewReader(old), nil); err != nil {
		t.Fatal(err)
	}
	for _, after := range []int{0, 1, 64 << 10, 200_000} {
		ctx, cancel := context.WithCancel(context.Background())
		r := &cancelReader{r: bytes.NewReader(randBytes(2, 400_000)), n: after, cancel: cancel}
		_, err := b.Put(ctx, "k", r, nil)
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancel after %d: err %v", after, err)
		}
	}
	if got := readAll(t, b, "k", nil); !bytes.Equal(got, old) {
		t.Fatal("cancelled puts changed the object")
	}
	assertNoGarbage(t, s)
}

// TestFailEveryStep breaks one or two zones at every operation count in
// turn. Each put either succeeds and reads back, or fails and leaves the
// previous object; the store never needs more than a sweep to be clean.
func TestFailEveryStep(t *testing.T) {
	ctx := context.Background()
	for _, broken := range [][]int{{1}, {0, 2}} {
		t.Run(fmt.Sprint(broken), func(t *testing.T) {
			s, zones := faultyStore(t, nil)
			b := newBucket(t, s, "steps")
			cur := randBytes(0, 200_000)
			if _, err := b.Put(ctx, "k", bytes.NewReader(cur), nil); err != nil {
				t.Fatal(err)
			}
			successes := 0
			// failed holds the puts that failed since the last success: a
			// rebuild may let one of them take effect (doc.go, "Index
			// rebuild": shards whose removal failed too may come back).
			var failed [][]byte
			tookEffect := 0
			for n := int64(0); n < 60; n++ {
				next := randBytes(uint64(n+1), 200_000+int(n))
				for _, zi := range broken {
					zones[zi].SetFailAfter(n)
				}
				_, err := b.Put(ctx, "k", bytes.NewReader(next), nil)
				for _, zi := range broken {
					zones[zi].SetFailAfter(-1)
				}
				if err == nil {
					cur = next
					failed = nil
					successes++
				} else if len(broken) == 1 {
					t.Fatalf("step %d: one broken zone failed a put: %v", n, err)
				} else {
					failed = append(failed, next)
				}
				if got := readAll(t, b, "k", nil); !bytes.Equal(got, cur) {
					t.Fatalf("step %d (put err %v): object is neither old nor new", n, err)
				}
				assertNoGarbage(t, s)
				// An index rebuilt from a copy of the zones as they are now
				// holds the acknowledged object, or a failed put after it.
				got := rebuiltObject(t, zones, "steps", "k")
				if !bytes.Equal(got, cur) {
					if !slices.ContainsFunc(failed, func(f []byte) bool { return bytes.Equal(got, f) }) {
						t.Fatalf("step %d (put err %v): after a rebuild the object is %d bytes, neither the acknowledged one nor a failed put", n, err, len(got))
					}
					tookEffect++
				}
			}
			t.Logf("%d of 60 puts succeeded; after %d rebuilds a failed put took effect", successes, tookEffect)
			if successes == 0 {
				t.Fatal("no put ever succeeded")
			}
		})
	}
}

func TestReaderSurvivesOverwriteAndDelete(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil) // DeleteGrace < 0: data goes at the next sweep
	b := newBucket(t, s, "mid")
	data := randBytes(9, 1<<20)
	if _, err := b.Put(ctx, "k", bytes.NewReader(data), nil); err != nil {
		t.Fatal(err)
	}
	obj, err := b.Get(ctx, "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	first := make([]byte, 100_000)
	if _, err := io.ReadFull(obj, first); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Put(ctx, "k", strings.NewReader("replacement"), nil); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Sweep(ctx)
	if err != nil || rep.Held != 1 || rep.Deleted != 0 {
		t.Fatalf("sweep while reading: %+v %v", rep, err)
	}
	if _, err := b.Delete(ctx, "k", nil); err != nil {
		t.Fatal(err)
	}
	s.Sweep(ctx)
	rest, err := io.ReadAll(obj)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(append(first, rest...), data) {
		t.Fatal("reader saw different bytes after overwrite and delete")
	}
	obj.Close()
	rep, err = s.Sweep(ctx)
	if err != nil || rep.Deleted != 1 {
		t.Fatalf("sweep after close: %+v %v", rep, err)
	}
	assertNoGarbage(t, s)
	if n := countBlobs(t, s); n != 0 {
		t.Fatalf("%d blobs left", n)
	}
}

func TestDeleteGraceByClock(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	opts := smallOpts()
	opts.DeleteGrace = time.Minute
	opts.Clock = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := newStore(t, opts)
	b := newBucket(t, s, "grace")
	b.Put(ctx, "k", strings.NewReader("one"), nil)
	b.Put(ctx, "k", strings.NewReader("two"), nil)
	if rep, _ := s.Sweep(ctx); rep.Deleted != 0 {
		t.Fatalf("deleted before the grace period: %+v", rep)
	}
	mu.Lock()
	now = now.Add(61 * time.Second)
	mu.Unlock()
	if rep, _ := s.Sweep(ctx); rep.Deleted != 1 {
		t.Fatalf("not deleted after the grace period: %+v", rep)
	}
}

func TestOrphansSwept(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "orph")
	if _, err := b.Put(ctx, "k", strings.NewReader("keep"), nil); err != nil {
		t.Fatal(err)
	}
	before := countBlobs(t, s)
	// A crash mid-write leaves shard blobs that no record references.
	w, err := s.Zones()[0].Create(ctx, "data/0123456789abcdef0123456789abcdef/0")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("partial"))
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Check(ctx)
	if err != nil || len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], "orphan") {
		t.Fatalf("check did not report the orphan: %+v %v", rep, err)
	}
	// Not yet old enough.
	if rep, _ := s.SweepOrphans(ctx, time.Now().Add(-time.Hour)); rep.Orphans != 0 {
		t.Fatalf("swept a fresh blob: %+v", rep)
	}
	if rep, _ := s.SweepOrphans(ctx, time.Now().Add(time.Second)); rep.Orphans != 1 {
		t.Fatalf("orphan not swept: %+v", rep)
	}
	if got := countBlobs(t, s); got != before {
		t.Fatalf("%d blobs, want %d", got, before)
	}
	assertNoGarbage(t, s)
}

// TestOnDiskDamage breaks shard files of the embedded layout: truncated,
// with a corrupted header, with corrupted data, and a whole zone deleted.
func TestOnDiskDamage(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	open := func() *cellar.Store {
		s, err := cellar.Open(ctx, &cellar.Options{Dir: dir, BlockSize: 64 << 10, SweepInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	if err := s.CreateBucket(ctx, "disk", nil); err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	for i := range 5 {
		key := fmt.Sprintf("k%d", i)
		want[key] = randBytes(uint64(i), 100_000*i+5)
		if _, err := s.Bucket("disk").Put(ctx, key, bytes.NewReader(want[key]), nil); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	var files []string
	filepath.WalkDir(filepath.Join(dir, "az1"), func(p string, d os.DirEntry, err error) error {
		if rel, _ := filepath.Rel(filepath.Join(dir, "az1"), p); err == nil && !d.IsDir() && !strings.HasPrefix(rel, "tmp") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) == 0 {
		t.Fatal("no shard files found in az1")
	}
	for i, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		switch i % 3 {
		case 0: // truncated
			data = data[:len(data)/2]
		case 1: // header corrupted
			data[3] ^= 0xff
		case 2: // a byte in the middle flipped
			data[len(data)/2] ^= 0x01
		}
		if err := os.WriteFile(f, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s = open()
	for key, data := range want {
		if got := readAll(t, s.Bucket("disk"), key, nil); !bytes.Equal(got, data) {
			t.Fatalf("%s: wrong bytes with damaged az1", key)
		}
	}
	rep, err := s.Check(ctx)
	if err != nil || len(rep.Problems) > 0 || rep.Degraded != len(want) {
		t.Fatalf("check with damaged az1: %+v %v", rep, err)
	}
	s.Close()
	// Now lose a different zone outright as well as the damage: reads of
	// objects whose az1 shards were damaged may fail, but never return
	// wrong bytes.
	os.RemoveAll(filepath.Join(dir, "az3"))
	s = open()
	defer s.Close()
	for key, data := range want {
		obj, err := s.Bucket("disk").Get(ctx, key, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(obj)
		obj.Close()
		if err == nil && !bytes.Equal(got, data) {
			t.Fatalf("%s: wrong bytes returned without an error", key)
		}
	}
}

func TestReopenWithOtherShardSettings(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	settings := []cellar.Options{
		{DataShards: 4, ParityShards: 2, BlockSize: 64 << 10},
		{DataShards: 2, ParityShards: 1, BlockSize: 1 << 20},
		{DataShards: 3, ParityShards: 3, BlockSize: 100_000},
	}
	want := map[string][]byte{}
	for i, o := range settings {
		o.Dir = dir
		o.SweepInterval = -1
		s, err := cellar.Open(ctx, &o)
		if err != nil {
			t.Fatalf("open with %+v: %v", o, err)
		}
		if i == 0 {
			if err := s.CreateBucket(ctx, "reopen", nil); err != nil {
				t.Fatal(err)
			}
		}
		key := fmt.Sprintf("k%d", i)
		want[key] = randBytes(uint64(i), 333_333)
		if _, err := s.Bucket("reopen").Put(ctx, key, bytes.NewReader(want[key]), nil); err != nil {
			t.Fatal(err)
		}
		for k, data := range want {
			if got := readAll(t, s.Bucket("reopen"), k, nil); !bytes.Equal(got, data) {
				t.Fatalf("settings %d: %s reads wrong", i, k)
			}
		}
		s.Close()
	}
}

func TestOptionsValidation(t *testing.T) {
	ctx := context.Background()
	for _, o := range []cellar.Options{
		{Zones: []backend.Backend{backend.NewMemory()}},                                  // RS(4,2) on one zone is weak
		{Zones: []backend.Backend{nil, backend.NewMemory(), backend.NewMemory()}},        // nil zone
		{DataShards: 4, ParityShards: 2, WriteQuorum: 7, Zones: threeZones()},            // quorum over k+m
		{DataShards: 4, ParityShards: 2, WriteQuorum: 3, Zones: threeZones()},            // quorum under k
		{DataShards: 300, ParityShards: 2, Zones: threeZones()},                          // too many shards
		{DataShards: 4, ParityShards: 2, BlockSize: -1, Zones: threeZones()},             // bad block size
		{DataShards: 6, ParityShards: 1, AllowWeakPlacement: false, Zones: threeZones()}, // a zone would hold 3 > m shards
	} {
		if _, err := cellar.OpenMemory(ctx, &o); !errors.Is(err, cellar.ErrInvalidOptions) {
			t.Errorf("options %+v: err %v, want ErrInvalidOptions", o, err)
		}
	}
	if _, err := cellar.Open(ctx, &cellar.Options{}); !errors.Is(err, cellar.ErrInvalidOptions) {
		t.Errorf("Open without Dir: %v", err)
	}
	s, err := cellar.OpenMemory(ctx, &cellar.Options{Zones: []backend.Backend{backend.NewMemory()}, AllowWeakPlacement: true, SweepInterval: -1})
	if err != nil {
		t.Fatalf("one zone with AllowWeakPlacement: %v", err)
	}
	s.Close()
}

func threeZones() []backend.Backend {
	return []backend.Backend{backend.NewMemory(), backend.NewMemory(), backend.NewMemory()}
}

// rebuiltObject copies the zones, rebuilds an index from the copy alone,
// and returns what the rebuilt store reads for bucket/key.
func rebuiltObject(t *testing.T, zones []*faulty.Backend, bucket, key string) []byte {
	t.Helper()
	ctx := context.Background()
	opts := smallOpts()
	for _, z := range zones {
		c := backend.NewMemory()
		var names []string
		if err := z.List(ctx, "", func(info backend.Info) error { names = append(names, info.Name); return nil }); err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			r, err := z.Open(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			b := make([]byte, r.Size())
			_, err = r.ReadAt(b, 0)
			r.Close()
			if err != nil && !(err == io.EOF && len(b) == int(r.Size())) {
				t.Fatal(err)
			}
			writeBlob(t, c, name, b)
		}
		opts.Zones = append(opts.Zones, c)
	}
	idx, err := index.OpenPebbleMemory(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	opts.Index = idx
	if _, err := cellar.RebuildIndex(ctx, opts, nil); err != nil {
		t.Fatalf("rebuild: %v", err)
	}
	st, err := cellar.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	return readAll(t, st.Bucket(bucket), key, nil)
}
