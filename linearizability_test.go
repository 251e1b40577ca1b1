package cellar_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/cellarhq/cellar"
	"github.com/cellarhq/cellar/backend"
	"github.com/cellarhq/cellar/backend/faulty"
	"github.com/cellarhq/cellar/internal/lincheck"
)

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
			b := s.Bucket("lin")
			var versions func() (map[string][]string, error)
			if tc.versioned {
				versions = func() (map[string][]string, error) {
					vs := map[string][]string{}
					for v, err := range b.Versions(ctx, nil) {
						if err != nil {
							return nil, err
						}
						vs[v.Key] = append(vs[v.Key], v.VersionID)
					}
					return vs, nil
				}
			}
			lincheck.Test(t, storeClient{b}, zones, 2, versions)
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
	// A failed check writes porcupine's visualization and names the file.
	h, _ := withStaleRead(r.History, lincheck.Get)
	problems := lincheck.CheckRound(lincheck.Round{Init: r.Init, History: h}, time.Minute)
	if len(problems) != 2 {
		t.Fatalf("a stale get: %d problems, want one from each model: %v", len(problems), problems)
	}
	for _, p := range problems {
		i := strings.LastIndex(p, "visualization: ")
		if i < 0 || !strings.Contains(p, "Illegal") {
			t.Fatalf("problem %q names no visualization", p)
		}
		path := p[i+len("visualization: "):]
		if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
			t.Errorf("visualization %s: %v", path, err)
		}
		os.Remove(path)
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
