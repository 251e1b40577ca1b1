package durability

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
)

// SimResult is the outcome of a Monte Carlo run.
type SimResult struct {
	Trials, Losses int
	// P is Losses/Trials; Low and High bound the 95% Wilson score interval.
	P, Low, High float64
	// Events counts the failures, zone events and repairs simulated.
	Events int64
}

// Agrees reports whether p lies in the 95% interval.
func (s SimResult) Agrees(p float64) bool { return p >= s.Low && p <= s.High }

// Simulate runs trials independent histories of one stripe over years, event
// by event, and counts those that lose it. It draws each next event from the
// shards and zones directly (exponential waiting times at the current total
// rate, then an event chosen in proportion to its rate), sharing no code
// with the chain, so that agreement checks the chain's construction and its
// numerics. The same seed gives the same result.
func Simulate(ctx context.Context, m Model, years float64, trials int, seed uint64) (SimResult, error) {
	if err := m.Validate(); err != nil {
		return SimResult{}, err
	}
	if !(years > 0 && years <= 100) {
		return SimResult{}, fmt.Errorf("%w: horizon %v years not in (0, 100]", ErrInvalid, years)
	}
	if trials < 1 {
		return SimResult{}, fmt.Errorf("%w: trials %d: want at least 1", ErrInvalid, trials)
	}
	r := m.rates()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	zones := len(m.PerZone)
	failed := make([]int, zones)
	res := SimResult{Trials: trials}
	for trial := range trials {
		if trial%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return SimResult{}, err
			}
		}
		clear(failed)
		down := 0 // shards failed in all
		for t := 0.0; ; {
			total := 0.0
			for i, c := range m.PerZone {
				if failed[i] < c {
					total += float64(c-failed[i])*r.disk + r.zone
				}
			}
			switch {
			case down == 0:
			case m.Mode == RepairBatch:
				total += r.repair
			default:
				total += float64(down) * r.repair
			}
			t += rng.ExpFloat64() / total
			if t > years {
				break
			}
			res.Events++
			u := rng.Float64() * total
			done := false
			for i, c := range m.PerZone {
				if failed[i] == c {
					continue
				}
				if d := float64(c-failed[i]) * r.disk; u < d {
					failed[i]++
					down++
					done = true
					break
				} else {
					u -= d
				}
				if u < r.zone {
					down += c - failed[i]
					failed[i] = c
					done = true
					break
				}
				u -= r.zone
			}
			if !done {
				// A repair (u is past every failure; rounding can leave it
				// just past the repair rate too).
				if m.Mode == RepairBatch {
					clear(failed)
					down = 0
				} else {
					// Which zone's shard: in proportion to the zones' failed.
					k := min(int(u/r.repair), down-1)
					for i := range failed {
						if k < failed[i] {
							failed[i]--
							down--
							break
						}
						k -= failed[i]
					}
				}
			}
			if down > m.Parity {
				res.Losses++
				break
			}
		}
	}
	res.P = float64(res.Losses) / float64(trials)
	res.Low, res.High = wilson(res.Losses, trials, 1.959964)
	return res, nil
}

// wilson is the Wilson score interval of k successes in n trials.
func wilson(k, n int, z float64) (lo, hi float64) {
	p, fn := float64(k)/float64(n), float64(n)
	z2 := z * z
	centre := (p + z2/(2*fn)) / (1 + z2/fn)
	half := z / (1 + z2/fn) * math.Sqrt(p*(1-p)/fn+z2/(4*fn*fn))
	return max(0, centre-half), min(1, centre+half)
}
