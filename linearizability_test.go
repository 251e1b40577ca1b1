package cellar_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/cellarhq/cellar"
	"github.com/cellarhq/cellar/backend"
	"github.com/cellarhq/cellar/backend/faulty"
	"github.com/cellarhq/cellar/internal/lincheck"
)

var linDuration = flag.Duration("linearizability.duration", 0,
	"run each TestLinearizable workload in rounds for this long and print the counts of operations checked (0: a short fixed run)")

// storeClient is the Go API as lincheck drives it.
type storeClient struct{ b *cellar.Bucket }

func (c storeClient) Put(ctx context.Context, key string, body []byte) (string, error) {
	info, err := c.b.Put(ctx, key, bytes.NewReader(body), nil)
	return info.VersionID, err
}

func (c storeClient) Get(ctx context.Context, key string) ([]byte, error) {
	obj, err := c.b.Get(ctx, key, nil)
	if errors.Is(err, cellar.ErrNoSuchKey) {
		return nil, lincheck.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	return io.ReadAll(obj)
}

func (c storeClient) Delete(ctx context.Context, key string) (string, error) {
	res, err := c.b.Delete(ctx, key, nil)
	return res.VersionID, err
}

func (c storeClient) List(ctx context.Context, prefix string) (map[string]string, error) {
	page, err := c.b.List(ctx, &cellar.ListOptions{Prefix: prefix})
	if err != nil {
		return nil, err
	}
	if page.IsTruncated {
		return nil, fmt.Errorf("listing of %q truncated", prefix)
	}
	etags := map[string]string{}
	for _, o := range page.Objects {
		etags[o.Key] = o.ETag
	}
	return etags, nil
}

// faultInjector breaks zones while a round runs: latency on any zone, one
// of zones 0 and 1 going offline and back, and zone 2 failing after a few
// operations. Alone, each leaves a write quorum; zone 2 failing while
// another zone is offline makes writes (and reads) fail.
type faultInjector struct {
	zones  []*faulty.Backend
	seed   uint64
	cancel context.CancelFunc
	done   sync.WaitGroup
	rounds uint64
}

func (f *faultInjector) start() {
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	f.rounds++
	rng := rand.New(rand.NewPCG(f.seed, f.rounds))
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
				f.zones[rng.IntN(len(f.zones))].SetLatency(time.Duration(rng.IntN(1500)) * time.Microsecond)
			case p < 60:
				if offline >= 0 {
					f.zones[offline].SetOffline(false)
					offline = -1
				} else {
					offline = rng.IntN(2)
					f.zones[offline].SetOffline(true)
				}
			case p < 75:
				f.zones[2].SetFailAfter(int64(rng.IntN(60)))
			default:
				f.zones[2].SetFailAfter(-1)
			}
		}
	}()
}

// settle stops the injection and clears every fault.
func (f *faultInjector) settle() {
	f.cancel()
	f.done.Wait()
	for _, z := range f.zones {
		z.SetOffline(false)
		z.SetFailAfter(-1)
		z.SetLatency(0)
	}
}

func linOptions() *cellar.Options {
	return &cellar.Options{
		BlockSize:         64 << 10,
		DeleteGrace:       -1, // replaced data goes at the next sweep, once no reader holds it
		SweepInterval:     20 * time.Millisecond,
		ProbeInterval:     10 * time.Millisecond,
		ProbeTimeout:      time.Second,
		ScrubInterval:     -1,
		LifecycleInterval: -1,
	}
}

// runLinearizable runs a workload against b in rounds, injecting faults
// into zones, and checks each round.
func runLinearizable(t *testing.T, b *cellar.Bucket, zones []*faulty.Backend, versioned bool) {
	ctx := context.Background()
	f := &faultInjector{zones: zones, seed: 6}
	cfg := lincheck.Config{Prefix: "k/", Keys: 3, Clients: 8, OpsPerRound: 25, MaxBody: 150_000, Seed: 6, Settle: f.settle}
	rounds := 2
	if testing.Short() {
		cfg.Clients, cfg.OpsPerRound, rounds = 6, 15, 1
	}
	long := *linDuration > 0
	if long {
		cfg.OpsPerRound = 100
	}
	w := lincheck.New(storeClient{b}, cfg)
	deadline := time.Now().Add(*linDuration)
	for i := 0; long && time.Now().Before(deadline) || !long && i < rounds; i++ {
		f.start()
		r, err := w.Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range lincheck.CheckRound(r, time.Minute) {
			t.Errorf("round %d: %s", i+1, p)
		}
		if t.Failed() {
			break
		}
	}
	if versioned {
		versions := map[string][]string{}
		for v, err := range b.Versions(ctx, nil) {
			if err != nil {
				t.Fatal(err)
			}
			versions[v.Key] = append(versions[v.Key], v.VersionID)
		}
		writes, failed := w.Writes()
		for _, p := range lincheck.CheckVersions(versions, writes, failed) {
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

// TestLinearizable races puts, gets, deletes and listings on a few keys
// while zones slow down, go offline and fail, and checks that every round
// of the history is linearizable, per key and as a whole map, on memory
// and directory zones, in unversioned and versioned buckets. In a
// versioned bucket, the version history must also hold every
// acknowledged write in an order that real time allows.
func TestLinearizable(t *testing.T) {
	for _, tc := range []struct {
		name           string
		dir, versioned bool
	}{
		{"memory", false, false},
		{"memory-versioned", false, true},
		{"dir-versioned", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			opts := linOptions()
			var zones []*faulty.Backend
			root := t.TempDir()
			for i := range 3 {
				var inner backend.Backend = backend.NewMemory()
				if tc.dir {
					d, err := backend.NewDir(filepath.Join(root, fmt.Sprintf("az%d", i+1)))
					if err != nil {
						t.Fatal(err)
					}
					inner = d
				}
				z := faulty.Wrap(inner)
				zones = append(zones, z)
				opts.Zones = append(opts.Zones, z)
			}
			var s *cellar.Store
			var err error
			if tc.dir {
				opts.Dir = root
				s, err = cellar.Open(ctx, opts)
			} else {
				s, err = cellar.OpenMemory(ctx, opts)
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			bopts := &cellar.BucketOptions{}
			if tc.versioned {
				bopts.Versioning = cellar.VersioningEnabled
			}
			if err := s.CreateBucket(ctx, "lin", bopts); err != nil {
				t.Fatal(err)
			}
			runLinearizable(t, s.Bucket("lin"), zones, tc.versioned)
		})
	}
}

// TestLinearizableCatchesStaleRead shows that the check is not vacuous: a
// history recorded from the store passes, and the same history with one
// get, or one listing, made to return a value that a later acknowledged
// write had replaced before the read began, is reported not linearizable.
func TestLinearizableCatchesStaleRead(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "stale")
	w := lincheck.New(storeClient{b}, lincheck.Config{Prefix: "k/", Keys: 2, Clients: 4, OpsPerRound: 60, MaxBody: 1000, Seed: 9})
	r, err := w.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p := lincheck.CheckRound(r, time.Minute); len(p) > 0 {
		t.Fatalf("the recorded history fails: %v", p)
	}
	for _, kind := range []lincheck.Kind{lincheck.Get, lincheck.List} {
		h, ok := withStaleRead(r.History, kind)
		if !ok {
			t.Fatalf("no %s in the history could be made stale", kind)
		}
		if porcupine.CheckOperations(lincheck.MapModel(r.Init), h) {
			t.Errorf("whole map: a stale %s passes", kind)
		}
		if kind == lincheck.Get && porcupine.CheckOperations(lincheck.KeyModel(r.Init), h) {
			t.Errorf("per key: a stale %s passes", kind)
		}
	}
}

// withStaleRead returns a copy of history with the output of one read of
// the kind given replaced by a stale value: the value of an acknowledged
// put p of key k, where an acknowledged write w of k with another value
// was called after p returned and returned before the read was called.
func withStaleRead(history []porcupine.Operation, kind lincheck.Kind) ([]porcupine.Operation, bool) {
	isWrite := func(op porcupine.Operation, key int) bool {
		in := op.Input.(lincheck.Input)
		return (in.Kind == lincheck.Put || in.Kind == lincheck.Delete) && in.Key == key && !op.Output.(lincheck.Output).Unknown
	}
	for i, read := range history {
		in := read.Input.(lincheck.Input)
		if in.Kind != kind {
			continue
		}
		out := read.Output.(lincheck.Output)
		keys := []int{in.Key}
		if kind == lincheck.List {
			keys = []int{0, 1}
		}
		for _, key := range keys {
			current := out.Value
			if kind == lincheck.List {
				current = out.Values[key]
			}
			for _, wr := range history {
				if !isWrite(wr, key) || wr.Return >= read.Call {
					continue
				}
				for _, p := range history {
					pin := p.Input.(lincheck.Input)
					if !isWrite(p, key) || pin.Kind != lincheck.Put || p.Return >= wr.Call ||
						pin.Value == wr.Input.(lincheck.Input).Value || pin.Value == current {
						continue
					}
					h := append([]porcupine.Operation(nil), history...)
					if kind == lincheck.List {
						vs := append([]string(nil), out.Values...)
						vs[key] = pin.Value
						h[i].Output = lincheck.Output{Values: vs}
					} else {
						h[i].Output = lincheck.Output{Value: pin.Value}
					}
					return h, true
				}
			}
		}
	}
	return nil, false
}
