package cellar

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/cellarhq/cellar/backend"
	"golang.org/x/time/rate"
)

// TestHealRateLimit checks that HealBytesPerSecond puts the healer's reads
// and writes through the limiter (counted, not timed), that a limited heal
// completes, and the defaults.
func TestHealRateLimit(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		opt   int64
		limit rate.Limit // 0: unlimited
	}{
		{opt: 1 << 20, limit: 1 << 20},
		{opt: 0, limit: DefaultHealBytesPerSecond},
		{opt: -1},
	} {
		t.Run(fmt.Sprint(tc.opt), func(t *testing.T) {
			zones := []backend.Backend{backend.NewMemory(), backend.NewMemory(), backend.NewMemory()}
			s, err := OpenMemory(ctx, &Options{Zones: zones, BlockSize: 64 << 10, SweepInterval: -1, ProbeInterval: -1, ScrubInterval: -1, HealBytesPerSecond: tc.opt})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			switch {
			case tc.limit == 0 && s.dur.healLim != nil:
				t.Fatalf("HealBytesPerSecond %d: limiter of %v, want none", tc.opt, s.dur.healLim.Limit())
			case tc.limit != 0 && (s.dur.healLim == nil || s.dur.healLim.Limit() != tc.limit):
				t.Fatalf("HealBytesPerSecond %d: limiter %v, want %v", tc.opt, s.dur.healLim, tc.limit)
			}
			if err := s.CreateBucket(ctx, "heal", nil); err != nil {
				t.Fatal(err)
			}
			const n = 4
			want := make([][]byte, n)
			for i := range n {
				want[i] = bytes.Repeat([]byte{byte(i + 1), 7, byte(i * 3)}, 50000)
				if _, err := s.Bucket("heal").Put(ctx, fmt.Sprint("k", i), bytes.NewReader(want[i]), nil); err != nil {
					t.Fatal(err)
				}
			}
			// Zone 1 replaced by an empty one: every shard it held is gone.
			var names []string
			zones[1].List(ctx, "", func(info backend.Info) error {
				names = append(names, info.Name)
				return nil
			})
			for _, name := range names {
				if err := zones[1].Delete(ctx, name); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.Scrub(ctx, nil); err != nil {
				t.Fatal(err)
			}
			if q := s.Stats().HealQueue; q != 2*n {
				t.Fatalf("heal queue %d after the scrub, want %d", q, 2*n)
			}
			rep, err := s.Heal(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Healed != 2*n || rep.Pending != 0 || s.Stats().HealQueue != 0 {
				t.Fatalf("heal %+v, queue %d; want %d healed, nothing left", rep, s.Stats().HealQueue, 2*n)
			}
			paced := s.dur.healPaced.Load()
			if tc.limit == 0 {
				if paced != 0 {
					t.Errorf("unlimited heal paced %d bytes", paced)
				}
			} else if paced <= rep.Bytes {
				// The shards written back, and the shards read to rebuild them.
				t.Errorf("limited heal paced %d bytes; it wrote %d and read more", paced, rep.Bytes)
			}
			// The rebuilt shards alone serve the objects: another zone lost.
			zones[2].List(ctx, "", func(info backend.Info) error {
				return zones[2].Delete(ctx, info.Name)
			})
			for i := range n {
				obj, err := s.Bucket("heal").Get(ctx, fmt.Sprint("k", i), nil)
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(obj)
				obj.Close()
				if err != nil || !bytes.Equal(got, want[i]) {
					t.Errorf("k%d after the heal and the loss of another zone: %d bytes, %v", i, len(got), err)
				}
			}
		})
	}
}
