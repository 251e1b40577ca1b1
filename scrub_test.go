package cellar_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/cellarhq/cellar"
	"github.com/cellarhq/cellar/backend"
	"github.com/cellarhq/cellar/erasure"
)

// findShard returns the zone and name of the blob of shard index shard.
// The store must hold one data set.
func findShard(t testing.TB, s *cellar.Store, shard int) (int, string) {
	t.Helper()
	for zi, z := range s.Zones() {
		var found string
		err := z.List(context.Background(), erasure.AllBlobsPrefix, func(info backend.Info) error {
			if _, sh, ok := erasure.ParseBlobName(info.Name); ok && sh == shard {
				found = info.Name
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if found != "" {
			return zi, found
		}
	}
	t.Fatalf("no blob of shard %d", shard)
	return 0, ""
}

func readBlob(t testing.TB, z backend.Backend, name string) []byte {
	t.Helper()
	r, err := z.Open(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b := make([]byte, r.Size())
	if _, err := r.ReadAt(b, 0); err != nil && err != io.EOF {
		t.Fatal(err)
	}
	return b
}

func writeBlob(t testing.TB, z backend.Backend, name string, b []byte) {
	t.Helper()
	w, err := z.Create(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}

// corruptParity flips a byte in the middle of the object's first parity
// shard and returns its zone, name and original bytes.
func corruptParity(t testing.TB, s *cellar.Store) (int, string, []byte) {
	t.Helper()
	zone, name := findShard(t, s, cellar.DefaultDataShards)
	z := s.Zones()[zone]
	orig := readBlob(t, z, name)
	bad := bytes.Clone(orig)
	bad[len(bad)/2] ^= 0x40
	writeBlob(t, z, name, bad)
	return zone, name, orig
}

// TestScrubFindsParityCorruption corrupts a parity shard, which reads
// never touch while the data shards are sound: reads go on without
// noticing, and Scrub finds it, queues it and, with Heal, restores it.
func TestScrubFindsParityCorruption(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "parity")
	data := randBytes(7, 200_000)
	if _, err := b.Put(ctx, "k", bytes.NewReader(data), nil); err != nil {
		t.Fatal(err)
	}
	zone, name, orig := corruptParity(t, s)
	if got := readAll(t, b, "k", nil); !bytes.Equal(got, data) {
		t.Fatal("wrong bytes")
	}
	t.Logf("heal queue after a read: %d (reads use the data shards)", s.Stats().HealQueue)

	rep, err := s.Scrub(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.DataSets != 1 || rep.Bad != 1 || rep.Shards != 5 || rep.Zones[zone].Bad != 1 || len(rep.Lost) > 0 {
		t.Fatalf("scrub: %+v", rep)
	}
	if rep.Bytes < int64(len(data))*5/4 { // five whole shards, and the bad one up to its bad block
		t.Fatalf("scrub read %d bytes of a %d-byte object's six shards", rep.Bytes, len(data))
	}
	st := s.Stats()
	if st.HealQueue != 1 || st.BadShards != 1 || st.ShardsScrubbed != 5 || st.BytesScrubbed != rep.Bytes || st.ScrubPasses != 1 {
		t.Fatalf("stats after scrub: %+v", st)
	}
	hrep, err := s.Heal(ctx)
	if err != nil || hrep.Healed != 1 || hrep.Pending != 0 || hrep.Bytes != int64(len(orig)) {
		t.Fatalf("heal: %+v %v", hrep, err)
	}
	if got := readBlob(t, s.Zones()[zone], name); !bytes.Equal(got, orig) {
		t.Fatal("healed parity shard differs from the original")
	}
	if rep, err := s.Scrub(ctx, nil); err != nil || rep.Bad != 0 || rep.Shards != 6 {
		t.Fatalf("scrub after heal: %+v %v", rep, err)
	}
}

func TestScrubHealOption(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "heal")
	if _, err := b.Put(ctx, "k", bytes.NewReader(randBytes(8, 100_000)), nil); err != nil {
		t.Fatal(err)
	}
	corruptParity(t, s)
	var calls int
	var last cellar.ScrubProgress
	rep, err := s.Scrub(ctx, &cellar.ScrubOptions{Heal: true, Progress: func(p cellar.ScrubProgress) { calls++; last = p }})
	if err != nil || rep.Bad != 1 || rep.Heal == nil || rep.Heal.Healed != 1 {
		t.Fatalf("scrub with heal: %+v %v", rep, err)
	}
	if calls != 1 || last.DataSets != 1 || last.TotalDataSets != 1 || last.Bytes != rep.Bytes || last.TotalBytes < last.Bytes*9/10 || last.TotalBytes > last.Bytes*11/10 {
		t.Fatalf("progress: %d calls, last %+v, report %+v", calls, last, rep)
	}
	if st := s.Stats(); st.HealQueue != 0 || st.ShardsHealed != 1 {
		t.Fatalf("stats: %+v", st)
	}
	if _, err := s.Scrub(ctx, &cellar.ScrubOptions{BytesPerSecond: -1}); !errors.Is(err, cellar.ErrInvalidArgument) {
		t.Fatalf("negative rate: %v", err)
	}
}

// TestScrubRate checks that BytesPerSecond paces the reads.
func TestScrubRate(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "rate")
	if _, err := b.Put(ctx, "k", bytes.NewReader(randBytes(9, 300_000)), nil); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Scrub(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	const rate = 1 << 20
	start := time.Now()
	rep2, err := s.Scrub(ctx, &cellar.ScrubOptions{BytesPerSecond: rate})
	if err != nil || rep2.Bytes != rep.Bytes {
		t.Fatalf("paced scrub: %+v %v", rep2, err)
	}
	// The limiter lets a burst of an eighth of a second through at once.
	want := time.Duration(float64(rep.Bytes-rate/8) / rate * float64(time.Second))
	if d := time.Since(start); d < want*9/10 {
		t.Fatalf("scrub of %d bytes at %d B/s took %v, want at least %v", rep.Bytes, rate, d, want)
	}
}

// TestBackgroundScrub lets the background scrubber find a corrupt parity
// shard; the heal it starts restores it.
func TestBackgroundScrub(t *testing.T) {
	ctx := context.Background()
	opts := smallOpts()
	opts.ScrubInterval = 20 * time.Millisecond
	s := newStore(t, opts)
	b := newBucket(t, s, "background")
	if _, err := b.Put(ctx, "k", bytes.NewReader(randBytes(10, 150_000)), nil); err != nil {
		t.Fatal(err)
	}
	zone, name, orig := corruptParity(t, s)
	waitFor(t, "the background scrubber to find and heal the shard", func() bool {
		st := s.Stats()
		return st.BadShards >= 1 && st.ShardsHealed >= 1 && st.HealQueue == 0
	})
	if got := readBlob(t, s.Zones()[zone], name); !bytes.Equal(got, orig) {
		t.Fatal("parity shard not restored")
	}
	if st := s.Stats(); st.ScrubPasses < 1 {
		t.Fatalf("stats: %+v", st)
	}
}
