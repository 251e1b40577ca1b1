package cellar

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/cellarhq/cellar/backend"
	"github.com/cellarhq/cellar/backend/faulty"
)

// smallEnv is a store over three faulty memory zones.
func smallEnv(t *testing.T) (*Store, []*faulty.Backend) {
	t.Helper()
	var zones []*faulty.Backend
	var bs []backend.Backend
	for range 3 {
		z := faulty.Wrap(backend.NewMemory())
		zones = append(zones, z)
		bs = append(bs, z)
	}
	s, err := OpenMemory(context.Background(), &Options{Zones: bs, BlockSize: 64 << 10, SweepInterval: -1, ProbeInterval: -1, ScrubInterval: -1, LifecycleInterval: -1, DeleteGrace: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.CreateBucket(context.Background(), "small", nil); err != nil {
		t.Fatal(err)
	}
	return s, zones
}

// layoutOf returns the RS parameters and shard count on the zones of the
// current version of key.
func layoutOf(t *testing.T, s *Store, key string) (k, m, blobs int) {
	t.Helper()
	ctx := context.Background()
	recs, err := s.keyVersions(ctx, "small", key)
	if err != nil || len(recs) != 1 || len(recs[0].Segments) != 1 {
		t.Fatalf("versions of %s: %+v %v", key, recs, err)
	}
	seg := recs[0].Segments[0]
	for _, z := range s.zones {
		z.List(ctx, "data/"+seg.DataID+"/", func(backend.Info) error { blobs++; return nil })
	}
	return seg.K, seg.M, blobs
}

// onlyReader hides a reader's other methods, so that a put cannot learn
// its length.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// TestSmallObjectLayout: an object of at most SmallObjectSize bytes is
// stored as RS(1,2) in three shards, whether its length is declared or
// learnt from the body; one byte more is RS(4,2) in six, and every body
// reads back exactly.
func TestSmallObjectLayout(t *testing.T) {
	ctx := context.Background()
	s, _ := smallEnv(t)
	b := s.Bucket("small")
	rng := rand.New(rand.NewPCG(1, 1))
	for _, tc := range []struct {
		size     int
		declared bool
		k, blobs int
	}{
		{0, false, 1, 3},
		{1, true, 1, 3},
		{1, false, 1, 3},
		{SmallObjectSize, true, 1, 3},
		{SmallObjectSize, false, 1, 3},
		{SmallObjectSize + 1, true, 4, 6},
		{SmallObjectSize + 1, false, 4, 6},
		{3*SmallObjectSize + 7, false, 4, 6},
	} {
		body := make([]byte, tc.size)
		for i := range body {
			body[i] = byte(rng.Uint32())
		}
		opts := &PutOptions{}
		if tc.declared {
			opts.Size = int64(tc.size)
		}
		info, err := b.Put(ctx, "k", onlyReader{bytes.NewReader(body)}, opts)
		if err != nil {
			t.Fatalf("put of %d bytes (declared %v): %v", tc.size, tc.declared, err)
		}
		if info.Size != int64(tc.size) {
			t.Errorf("put of %d bytes: size %d", tc.size, info.Size)
		}
		if k, m, blobs := layoutOf(t, s, "k"); k != tc.k || m != 2 || blobs != tc.blobs {
			t.Errorf("%d bytes (declared %v): RS(%d,%d) in %d shards, want RS(%d,2) in %d", tc.size, tc.declared, k, m, blobs, tc.k, tc.blobs)
		}
		obj, err := b.Get(ctx, "k", nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(obj)
		obj.Close()
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("%d bytes (declared %v): read back %d bytes, %v", tc.size, tc.declared, len(got), err)
		}
	}
	// A copy of a small object is small too.
	if _, err := b.Put(ctx, "src", bytes.NewReader([]byte("tiny")), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.CopyObject(ctx, "copy", "small", "src", nil); err != nil {
		t.Fatal(err)
	}
	if k, _, blobs := layoutOf(t, s, "copy"); k != 1 || blobs != 3 {
		t.Errorf("copy of a small object: k %d in %d shards", k, blobs)
	}
}

// TestSmallObjectBadBody: a body that fails or runs short while its
// length is being learnt stores nothing.
func TestSmallObjectBadBody(t *testing.T) {
	ctx := context.Background()
	s, _ := smallEnv(t)
	b := s.Bucket("small")
	boom := errors.New("boom")
	for _, tc := range []struct {
		name string
		r    io.Reader
		opts *PutOptions
		want error
	}{
		{"fails at once", io.MultiReader(bytes.NewReader([]byte("ab")), iotestErr{boom}), nil, boom},
		{"fails past the small size", io.MultiReader(bytes.NewReader(make([]byte, 2*SmallObjectSize)), iotestErr{boom}), nil, boom},
		{"shorter than declared", bytes.NewReader([]byte("abc")), &PutOptions{Size: 10}, ErrIncompleteBody},
		{"longer than declared", bytes.NewReader(make([]byte, 11)), &PutOptions{Size: 10}, ErrIncompleteBody},
		{"cut short", io.MultiReader(bytes.NewReader([]byte("abc")), iotestErr{io.ErrUnexpectedEOF}), nil, ErrIncompleteBody},
	} {
		if _, err := b.Put(ctx, "k", tc.r, tc.opts); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if _, err := b.Head(ctx, "k", nil); !errors.Is(err, ErrNoSuchKey) {
			t.Errorf("%s: head after the failed put: %v", tc.name, err)
		}
	}
	ctx2, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := b.Put(ctx2, "k", bytes.NewReader([]byte("abc")), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled put: %v", err)
	}
	n := 0
	for _, z := range s.zones {
		z.List(ctx, "data/", func(backend.Info) error { n++; return nil })
	}
	if n != 0 {
		t.Errorf("%d shard blobs left by failed puts", n)
	}
}

type iotestErr struct{ err error }

func (e iotestErr) Read([]byte) (int, error) { return 0, e.err }

// TestSmallObjectZones: a small object keeps a whole copy in each zone. It
// is written with one zone offline (two copies, the third queued for
// healing), refused with two (as a large object is), and read with any two
// zones gone.
func TestSmallObjectZones(t *testing.T) {
	ctx := context.Background()
	s, zones := smallEnv(t)
	b := s.Bucket("small")
	body := []byte("a small object that outlives two zones")
	zones[0].SetOffline(true)
	if _, err := b.Put(ctx, "k", bytes.NewReader(body), nil); err != nil {
		t.Fatalf("put with one zone offline: %v", err)
	}
	if st := s.Stats(); st.HealQueue != 1 {
		t.Errorf("heal queue after a put with one zone offline: %d, want 1", st.HealQueue)
	}
	zones[1].SetOffline(true)
	if _, err := b.Put(ctx, "k2", bytes.NewReader(body), nil); !errors.Is(err, ErrQuorum) {
		t.Errorf("put with two zones offline: %v, want ErrQuorum", err)
	}
	if _, err := b.Put(ctx, "big", bytes.NewReader(make([]byte, 2*SmallObjectSize)), nil); !errors.Is(err, ErrQuorum) {
		t.Errorf("large put with two zones offline: %v, want ErrQuorum", err)
	}
	zones[0].SetOffline(false)
	zones[1].SetOffline(false)
	if rep, err := s.Heal(ctx); err != nil || rep.Healed != 1 {
		t.Fatalf("heal: %+v %v", rep, err)
	}
	for _, down := range [][2]int{{0, 1}, {0, 2}, {1, 2}} {
		zones[down[0]].SetOffline(true)
		zones[down[1]].SetOffline(true)
		obj, err := b.Get(ctx, "k", nil)
		if err != nil {
			t.Fatalf("zones %v offline: %v", down, err)
		}
		got, err := io.ReadAll(obj)
		obj.Close()
		if err != nil || !bytes.Equal(got, body) {
			t.Errorf("zones %v offline: read %q, %v", down, got, err)
		}
		zones[down[0]].SetOffline(false)
		zones[down[1]].SetOffline(false)
	}
}
