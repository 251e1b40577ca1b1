package cellar_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/cellarhq/cellar"
)

func TestStats(t *testing.T) {
	ctx := context.Background()
	s, zones := faultyStore(t, nil)
	st := s.Stats()
	if st.Err != nil || st.HealQueue != 0 || st.GarbageQueue != 0 || st.BadShards != 0 || len(st.Zones) != 3 {
		t.Fatalf("fresh store: %+v", st)
	}
	for i, z := range st.Zones {
		if z.Zone != i || !z.Online || !z.LastProbe.IsZero() || z.LastError != nil {
			t.Fatalf("zone %d of a fresh store without probing: %+v", i, z)
		}
	}

	// Three objects written with a zone offline: two shards each queued.
	b := newBucket(t, s, "stats")
	zones[0].SetOffline(true)
	for i := range 3 {
		if _, err := b.Put(ctx, fmt.Sprintf("k%d", i), bytes.NewReader(randBytes(uint64(i), 100_000)), nil); err != nil {
			t.Fatal(err)
		}
	}
	zones[0].SetOffline(false)
	st = s.Stats()
	// Each shard blob is a quarter of the object plus its block hashes.
	if st.HealQueue != 6 || st.HealQueueSets != 3 || st.HealQueueBytes < 6*25_000 || st.HealQueueBytes > 6*26_000 {
		t.Fatalf("after degraded writes: %+v", st)
	}

	// An overwrite queues the old data for deletion.
	if _, err := b.Put(ctx, "k0", bytes.NewReader(randBytes(9, 5000)), nil); err != nil { // RS(4,2), as the others
		t.Fatal(err)
	}
	if st = s.Stats(); st.GarbageQueue != 1 || st.HealQueue != 6 {
		t.Fatalf("after an overwrite: %+v", st)
	}
	// Sweeping the old data drops its heal work too.
	if _, err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if st = s.Stats(); st.GarbageQueue != 0 || st.HealQueue != 4 {
		t.Fatalf("after a sweep: %+v", st)
	}
	hrep, err := s.Heal(ctx)
	if err != nil || hrep.Healed != 4 || hrep.Bytes < 4*25_000 {
		t.Fatalf("heal: %+v %v", hrep, err)
	}
	st = s.Stats()
	if st.HealQueue != 0 || st.GarbageQueue != 0 || st.ShardsHealed != 4 || st.BytesHealed != hrep.Bytes {
		t.Fatalf("after heal and sweep: %+v", st)
	}

	// Check counts what it finds bad; Scrub what it verifies.
	zones[2].SetCorrupt(func(string) bool { return true })
	if _, err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
	zones[2].SetCorrupt(nil)
	if st = s.Stats(); st.BadShards != 6 || st.HealQueue != 6 {
		t.Fatalf("after a check with zone 2 corrupt: %+v", st)
	}
	rep, err := s.Scrub(ctx, &cellar.ScrubOptions{Heal: true})
	if err != nil || rep.Bad != 0 || rep.Heal.Intact != 6 || rep.Heal.Healed != 0 {
		t.Fatalf("scrub and heal of shards that read corrupt but are sound: %+v %v", rep, err)
	}
	st = s.Stats()
	if st.ShardsScrubbed != 18 || st.BytesScrubbed != rep.Bytes || st.ScrubPasses != 1 || st.HealQueue != 0 {
		t.Fatalf("after scrub: %+v", st)
	}

	s.Close()
	if st := s.Stats(); !errors.Is(st.Err, cellar.ErrClosed) || st.ShardsHealed != 4 {
		t.Fatalf("stats of a closed store: %+v", st)
	}
}
