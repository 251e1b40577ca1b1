package erasure

import (
	"errors"
	"slices"
	"testing"
)

func TestPlace(t *testing.T) {
	t.Parallel()
	for _, p := range []Params{{4, 2, 1024}, {6, 3, 1024}, {2, 1, 1024}, {1, 0, 1024}, {10, 4, 1024}, {3, 3, 1024}} {
		n := p.Shards()
		for zones := 1; zones <= n+2; zones++ {
			weak := (n+zones-1)/zones > p.ParityShards
			if _, err := Place(zones, p, 0, false); weak != errors.Is(err, ErrWeakPlacement) {
				t.Errorf("RS(%d,%d) over %d zones: err %v, weak %v", p.DataShards, p.ParityShards, zones, err, weak)
			}
			total := make([]int, zones)
			var prev []int
			for seed := uint64(0); seed < uint64(2*zones); seed++ {
				place, err := Place(zones, p, seed, true)
				if err != nil {
					t.Fatal(err)
				}
				per := make([]int, zones)
				for _, z := range place {
					if z < 0 || z >= zones {
						t.Fatalf("zone %d out of range", z)
					}
					per[z]++
					total[z]++
				}
				if slices.Max(per)-slices.Min(per) > 1 {
					t.Errorf("RS(%d,%d) over %d zones seed %d: uneven %v", p.DataShards, p.ParityShards, zones, seed, per)
				}
				if !weak && slices.Max(per) > p.ParityShards {
					t.Errorf("zone holds %d shards > m", slices.Max(per))
				}
				if prev != nil {
					for i := range place {
						if place[i] != (prev[i]+1)%zones {
							t.Fatalf("seed %d is not seed %d rotated: %v vs %v", seed, seed-1, place, prev)
						}
					}
				}
				prev = place
			}
			// Over every rotation each zone takes the same number of shards.
			if slices.Max(total) != slices.Min(total) {
				t.Errorf("RS(%d,%d) over %d zones: zones fill unevenly over seeds: %v", p.DataShards, p.ParityShards, zones, total)
			}
		}
	}
	if _, err := Place(0, Params{4, 2, 1024}, 0, true); !errors.Is(err, ErrInvalidParams) {
		t.Errorf("0 zones: %v", err)
	}
	if _, err := Place(3, Params{0, 2, 1024}, 0, true); !errors.Is(err, ErrInvalidParams) {
		t.Errorf("bad params: %v", err)
	}
	// The default store: RS(4,2) over 3 zones, two shards each.
	if place, err := Place(3, Params{4, 2, 1 << 20}, 0, false); err != nil || !slices.Equal(place, []int{0, 1, 2, 0, 1, 2}) {
		t.Errorf("RS(4,2) over 3 zones = %v, %v", place, err)
	}
}
