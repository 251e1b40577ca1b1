package lincheck

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/cellarhq/cellar/backend/faulty"
)

// Duration is the -linearizability.duration flag of every test binary
// that imports this package.
var Duration = flag.Duration("linearizability.duration", 0,
	"run each linearizability workload in rounds for this long and print the counts of operations checked (0: a short fixed run)")

// Faults breaks zones while a round runs: latency on any zone, one of
// zones 0 and 1 going offline and coming back, and zone 2 failing every
// operation after a few. Alone, each leaves a write quorum of RS(4,2) on
// three zones; zone 2 failing while another zone is offline makes writes
// (and reads) fail.
type Faults struct {
	Zones []*faulty.Backend
	Seed  uint64

	cancel context.CancelFunc
	done   sync.WaitGroup
	rounds uint64
}

// Start starts injecting faults.
func (f *Faults) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	f.rounds++
	rng := rand.New(rand.NewPCG(f.Seed, f.rounds))
	f.done.Add(1)
	go func() {
		defer f.done.Done()
		offline := -1
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Duration(2+rng.IntN(20)) * time.Millisecond):
			}
			switch p := rng.IntN(100); {
			case p < 40:
				f.Zones[rng.IntN(len(f.Zones))].SetLatency(time.Duration(rng.IntN(1500)) * time.Microsecond)
			case p < 60:
				if offline >= 0 {
					f.Zones[offline].SetOffline(false)
					offline = -1
				} else {
					offline = rng.IntN(2)
					f.Zones[offline].SetOffline(true)
				}
			case p < 68:
				f.Zones[2].SetFailAfter(int64(rng.IntN(60)))
			default:
				f.Zones[2].SetFailAfter(-1)
			}
		}
	}()
}

// Settle stops the injection and clears every fault.
func (f *Faults) Settle() {
	f.cancel()
	f.done.Wait()
	for _, z := range f.Zones {
		z.SetOffline(false)
		z.SetFailAfter(-1)
		z.SetLatency(0)
	}
}

// Test runs a workload against c in rounds while faults break zones, and
// checks each round: the given number of rounds (one with -short), or with
// -linearizability.duration rounds for that long, printing the counts. versions, if not nil, lists
// the bucket's versions at the end (key → version IDs, newest first) for
// CheckVersions.
func Test(t testing.TB, c Client, zones []*faulty.Backend, rounds int, versions func() (map[string][]string, error)) {
	ctx := context.Background()
	f := &Faults{Zones: zones, Seed: 6}
	cfg := Config{Prefix: "k/", Keys: 3, Clients: 8, OpsPerRound: 15, MaxBody: 150_000, Seed: 6, Settle: f.Settle}
	if testing.Short() {
		cfg.Clients, cfg.OpsPerRound, rounds = 6, 10, 1
	}
	long := *Duration > 0
	if long {
		cfg.OpsPerRound = 100
	}
	w := New(c, cfg)
	deadline := time.Now().Add(*Duration)
	for i := 0; long && time.Now().Before(deadline) || !long && i < rounds; i++ {
		f.Start()
		r, err := w.Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range CheckRound(r, time.Minute) {
			t.Errorf("round %d: %s", i+1, p)
		}
		if t.Failed() {
			break
		}
	}
	if versions != nil {
		vs, err := versions()
		if err != nil {
			t.Fatal(err)
		}
		writes, failed := w.Writes()
		for _, p := range CheckVersions(vs, writes, failed) {
			t.Error(p)
		}
	}
	st := w.Stats()
	t.Logf("%v", st)
	if long {
		fmt.Printf("%s: %v\n", t.Name(), st)
	}
	if st.Puts == 0 || st.Gets == 0 || st.Deletes == 0 || st.Lists <= st.Rounds {
		t.Errorf("the workload missed a kind of operation: %v", st)
	}
}
