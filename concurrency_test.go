package cellar_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cellarhq/cellar"
)

func TestConcurrentConditionalCreate(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "race")
	for round := range 5 {
		key := fmt.Sprintf("k%d", round)
		var wins, fails atomic.Int32
		var winner atomic.Value
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body := fmt.Sprintf("writer %d", g)
				_, err := b.Put(ctx, key, strings.NewReader(body), &cellar.PutOptions{IfNoneMatch: "*"})
				switch {
				case err == nil:
					wins.Add(1)
					winner.Store(body)
				case errors.Is(err, cellar.ErrPreconditionFailed):
					fails.Add(1)
				default:
					t.Errorf("unexpected error: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 || fails.Load() != 7 {
			t.Fatalf("round %d: %d wins, %d precondition failures", round, wins.Load(), fails.Load())
		}
		if got := readAll(t, b, key, nil); string(got) != winner.Load().(string) {
			t.Fatalf("round %d: stored %q, winner wrote %q", round, got, winner.Load())
		}
	}
	assertNoGarbage(t, s)
}

// TestConcurrentPutsAndDeletes races writers on a few keys. Each writer
// logs what it committed; the final state of each key must be the last
// commit in some serial order: one of the values written, or absent if a
// delete could have been last.
func TestConcurrentPutsAndDeletes(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "race2")
	keys := []string{"a", "b", "c"}
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 30 {
				key := keys[(g+i)%len(keys)]
				if (g+i)%5 == 0 {
					if _, err := b.Delete(ctx, key, nil); err != nil {
						t.Error(err)
					}
					continue
				}
				body := bytes.Repeat([]byte(fmt.Sprintf("g%d-i%d|", g, i)), 1000*(i%4))
				if _, err := b.Put(ctx, key, bytes.NewReader(body), nil); err != nil {
					t.Error(err)
				}
				// Read-your-writes is not guaranteed under racing writers,
				// but whatever is read must be a complete value.
				obj, err := b.Get(ctx, key, nil)
				if err != nil {
					if !errors.Is(err, cellar.ErrNoSuchKey) {
						t.Error(err)
					}
					continue
				}
				got := make([]byte, obj.Size())
				if _, err := obj.ReadAt(got, 0); err != nil && obj.Size() > 0 {
					t.Error(err)
				}
				obj.Close()
				if len(got) > 0 {
					unit := got[:bytes.IndexByte(got, '|')+1]
					if !bytes.Equal(got, bytes.Repeat(unit, len(got)/len(unit))) {
						t.Errorf("%s: torn value", key)
					}
				}
			}
		}()
	}
	wg.Wait()
	for _, key := range keys {
		info, err := b.Head(ctx, key, nil)
		if err != nil && !errors.Is(err, cellar.ErrNoSuchKey) {
			t.Fatal(err)
		}
		if err == nil {
			got := readAll(t, b, key, nil)
			if md5hex(got) != info.ETag {
				t.Fatalf("%s: body does not match its ETag", key)
			}
		}
	}
	assertNoGarbage(t, s)
}

// TestConcurrentVersionedHistory races puts, deletes and conditional
// creates on a few keys of a versioned bucket. The version history of each
// key is the serial order the store chose; it must hold every acknowledged
// operation exactly once, nothing else, and every conditional create must
// have found the key absent at its place in that order.
func TestConcurrentVersionedHistory(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	if err := s.CreateBucket(ctx, "hist", &cellar.BucketOptions{Versioning: cellar.VersioningEnabled}); err != nil {
		t.Fatal(err)
	}
	b := s.Bucket("hist")
	keys := []string{"x", "y"}
	type ack struct {
		key, body string
		marker    bool
		create    bool
	}
	var mu sync.Mutex
	acks := map[string]ack{} // version ID → operation
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				key := keys[(g*7+i)%len(keys)]
				body := fmt.Sprintf("g%d-%d", g, i)
				switch (g + i) % 4 {
				case 0:
					res, err := b.Delete(ctx, key, nil)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					acks[res.VersionID] = ack{key: key, marker: true}
					mu.Unlock()
				case 1:
					info, err := b.Put(ctx, key, strings.NewReader(body), &cellar.PutOptions{IfNoneMatch: "*"})
					if errors.Is(err, cellar.ErrPreconditionFailed) {
						continue
					}
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					acks[info.VersionID] = ack{key: key, body: body, create: true}
					mu.Unlock()
				default:
					info, err := b.Put(ctx, key, strings.NewReader(body), nil)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					acks[info.VersionID] = ack{key: key, body: body}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	history := map[string][]cellar.ObjectInfo{}
	for v, err := range b.Versions(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		history[v.Key] = append(history[v.Key], v)
	}
	found := 0
	for key, vs := range history {
		// Walk oldest first: the serial order.
		live := false
		for i := len(vs) - 1; i >= 0; i-- {
			v := vs[i]
			a, ok := acks[v.VersionID]
			if !ok || a.key != key || a.marker != v.DeleteMarker {
				t.Fatalf("%s: version %s (marker %v) matches no acknowledged operation", key, v.VersionID, v.DeleteMarker)
			}
			if a.create && live {
				t.Fatalf("%s: conditional create %s succeeded over a live object", key, v.VersionID)
			}
			if !v.DeleteMarker {
				got := readAll(t, b, key, &cellar.GetOptions{VersionID: v.VersionID})
				if string(got) != a.body {
					t.Fatalf("%s version %s: %q, want %q", key, v.VersionID, got, a.body)
				}
			}
			live = !v.DeleteMarker
			found++
		}
	}
	if found != len(acks) {
		t.Fatalf("history holds %d versions, %d operations were acknowledged", found, len(acks))
	}
	assertNoGarbage(t, s)
}
