package cellar

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cellarhq/cellar/backend"
	"github.com/cellarhq/cellar/index"
)

// TestScrubResumes checks that the background scrubber keeps its progress
// in the index: a pass interrupted by Close resumes after the last record
// it finished, at once, whatever ScrubInterval says.
func TestScrubResumes(t *testing.T) {
	ctx := context.Background()
	idx, err := index.OpenPebbleMemory(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	zones := []backend.Backend{backend.NewMemory(), backend.NewMemory(), backend.NewMemory()}
	open := func(interval time.Duration) *Store {
		s, err := OpenMemory(ctx, &Options{Index: idx, Zones: zones, BlockSize: 64 << 10, SweepInterval: -1, ProbeInterval: -1, ScrubInterval: interval})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open(-1)
	if err := s.CreateBucket(ctx, "resume", nil); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := s.Bucket("resume").Put(ctx, fmt.Sprintf("k%d", i), bytes.NewReader(make([]byte, 5000)), nil); err != nil { // over SmallObjectSize: six shards
			t.Fatal(err)
		}
	}
	// A pass that finished k0 and k1 when the store closed.
	recs, err := s.keyVersions(ctx, "resume", "k1")
	if err != nil || len(recs) != 1 {
		t.Fatal(recs, err)
	}
	cursor := versionKey("resume", "k1", recs[0].Seq)
	started := time.Now().Add(-time.Hour)
	if err := s.saveScrubState(ctx, scrubState{Done: started.Add(-time.Hour), Running: true, Started: started, Cursor: cursor}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = open(time.Hour)
	deadline := time.Now().Add(10 * time.Second)
	for s.Stats().ScrubPasses == 0 {
		if time.Now().After(deadline) {
			t.Fatal("interrupted pass not resumed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if st := s.Stats(); st.ShardsScrubbed != 6 {
		t.Fatalf("resumed pass verified %d shards, want the 6 of k2 only", st.ShardsScrubbed)
	}
	st, err := s.loadScrubState(ctx)
	if err != nil || st.Running || len(st.Cursor) != 0 || time.Since(st.Done) > time.Minute {
		t.Fatalf("state after the pass: %+v %v", st, err)
	}
	s.Close()

	// A fresh store records when its scrubber first ran, so that the first
	// pass comes one interval after, however often it is reopened.
	idx2, err := index.OpenPebbleMemory(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer idx2.Close()
	s, err = OpenMemory(ctx, &Options{Index: idx2, SweepInterval: -1, ProbeInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		st, err := s.loadScrubState(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Done.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("scrub state not recorded")
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.Close()
}
