package cellar_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cellarhq/cellar"
	"github.com/cellarhq/cellar/backend"
	"github.com/cellarhq/cellar/backend/faulty"
	"github.com/cellarhq/cellar/erasure"
	"github.com/cellarhq/cellar/index"
)

const archivePolicy = `{"Rules": [{"ID": "archive", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
  "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}, {"Days": 90, "StorageClass": "GLACIER"}],
  "Expiration": {"Days": 365}}]}`

func setLifecycle(t *testing.T, b *cellar.Bucket, doc string) {
	t.Helper()
	c, err := cellar.ParseLifecycle([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SetLifecycle(context.Background(), c); err != nil {
		t.Fatal(err)
	}
}

func readObj(t *testing.T, b *cellar.Bucket, key string, opts *cellar.GetOptions) ([]byte, error) {
	t.Helper()
	obj, err := b.Get(context.Background(), key, opts)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	return io.ReadAll(obj)
}

// TestArchivePolicy runs the seed's archive policy (logs/ to STANDARD_IA
// at 30 days, GLACIER at 90, expired at 365) and checks each object's
// class, readability and the usage report at days 29, 30, 89, 90, 364
// and 365.
func TestArchivePolicy(t *testing.T) {
	ctx := context.Background()
	e := newLifecycleEnv(t, nil) // RS(4,2), 64 KiB blocks
	made := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	e.clock.Set(made)
	s := e.s
	b := newBucket(t, s, "bkt")
	setLifecycle(t, b, archivePolicy)

	small := randBytes(1, 256<<10) // four full stripes
	if _, err := b.Put(ctx, "logs/a", bytes.NewReader(small), nil); err != nil {
		t.Fatal(err)
	}
	// A multipart object: each part is re-encoded on its own and keeps its
	// part ETag.
	part1, part2 := randBytes(2, cellar.MinPartSize), randBytes(3, 100<<10)
	u, err := b.CreateMultipartUpload(ctx, "logs/mp", nil)
	if err != nil {
		t.Fatal(err)
	}
	p1, err := u.UploadPart(ctx, 1, bytes.NewReader(part1), nil)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := u.UploadPart(ctx, 2, bytes.NewReader(part2), nil)
	if err != nil {
		t.Fatal(err)
	}
	mp, err := u.Complete(ctx, []cellar.CompletedPart{{PartNumber: 1, ETag: p1.ETag}, {PartNumber: 2, ETag: p2.ETag}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mpBody := append(append([]byte(nil), part1...), part2...)
	if _, err := b.Put(ctx, "data/keep", bytes.NewReader(small), nil); err != nil {
		t.Fatal(err)
	}
	logsBytes := int64(len(small) + len(mpBody))

	day := func(n int) time.Time { return time.Date(2026, 1, 1+n+1, 0, 0, 0, 0, time.UTC) }
	type want struct {
		day       int
		class     string // of logs/ objects; "" when expired
		readable  bool
		moved     int
		expired   int
		logsClass string
	}
	for _, w := range []want{
		{29, cellar.StorageClassStandard, true, 0, 0, ""},
		{30, cellar.StorageClassStandardIA, true, 2, 0, ""},
		{89, cellar.StorageClassStandardIA, true, 0, 0, ""},
		{90, cellar.StorageClassGlacier, false, 2, 0, ""},
		{364, cellar.StorageClassGlacier, false, 0, 0, ""},
		{365, "", false, 0, 2, ""},
	} {
		e.clock.Set(day(w.day))
		rep, err := s.RunLifecycle(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Transitioned != w.moved || rep.Expired != w.expired || rep.Failed != 0 {
			t.Errorf("day %d: report %+v, want %d transitioned, %d expired", w.day, rep, w.moved, w.expired)
		}
		for _, k := range []string{"logs/a", "logs/mp"} {
			info, err := b.Head(ctx, k, nil)
			if w.class == "" {
				if !errors.Is(err, cellar.ErrNoSuchKey) {
					t.Errorf("day %d: %s: Head %v, want ErrNoSuchKey", w.day, k, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("day %d: %s: %v", w.day, k, err)
			}
			if info.StorageClass != w.class {
				t.Errorf("day %d: %s is %s, want %s", w.day, k, info.StorageClass, w.class)
			}
			if info.Expiration == nil || info.Expiration.RuleID != "archive" || !info.Expiration.Date.Equal(day(365)) {
				t.Errorf("day %d: %s: expiration %+v, want rule archive on %v", w.day, k, info.Expiration, day(365))
			}
			got, err := readObj(t, b, k, nil)
			switch {
			case w.readable && err != nil:
				t.Errorf("day %d: %s: %v", w.day, k, err)
			case w.readable:
				body := small
				if k == "logs/mp" {
					body = mpBody
					if info.ETag != mp.ETag || info.PartsCount != 2 {
						t.Errorf("day %d: multipart ETag %s parts %d, want %s 2", w.day, info.ETag, info.PartsCount, mp.ETag)
					}
					p, err := readObj(t, b, k, &cellar.GetOptions{PartNumber: 2})
					if err != nil || !bytes.Equal(p, part2) {
						t.Errorf("day %d: part 2: %v", w.day, err)
					}
				}
				if !bytes.Equal(got, body) {
					t.Errorf("day %d: %s reads wrong bytes", w.day, k)
				}
			case !errors.Is(err, cellar.ErrInvalidObjectState):
				t.Errorf("day %d: %s: Get %v, want ErrInvalidObjectState", w.day, k, err)
			}
		}
		// Usage: logs/ objects in their class, data/keep in STANDARD.
		usage, err := s.Usage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		classes := map[string]cellar.ClassUsage{}
		for _, c := range usage.Total {
			classes[c.StorageClass] = c
		}
		wantStd := int64(len(small))
		if w.class == cellar.StorageClassStandard {
			wantStd += logsBytes
		}
		if c := classes[cellar.StorageClassStandard]; c.LogicalBytes != wantStd {
			t.Errorf("day %d: STANDARD usage %+v, want %d bytes", w.day, c, wantStd)
		}
		if w.class != "" && w.class != cellar.StorageClassStandard {
			c := classes[w.class]
			if c.Objects != 2 || c.LogicalBytes != logsBytes || c.StoredBytes < logsBytes*3/2 {
				t.Errorf("day %d: %s usage %+v, want 2 objects of %d bytes, %d stored at least", w.day, w.class, c, logsBytes, logsBytes*3/2)
			}
			wantCost := float64(logsBytes) / (1 << 30) * cellar.DefaultPrices[w.class]
			if math.Abs(c.MonthlyCost-wantCost) > 1e-12 {
				t.Errorf("day %d: %s cost %v, want %v", w.day, w.class, c.MonthlyCost, wantCost)
			}
		}
		if len(usage.Total) != len(classes) || len(usage.Buckets) != 1 {
			t.Errorf("day %d: usage %+v", w.day, usage)
		}
		if w.day == 90 {
			// A restore makes the GLACIER object readable after 4 hours
			// (Standard tier) by the store's clock.
			if err := b.Restore(ctx, "logs/a", &cellar.RestoreOptions{Days: 1}); err != nil {
				t.Fatal(err)
			}
			e.clock.Set(day(90).Add(4*time.Hour - time.Second))
			if _, err := readObj(t, b, "logs/a", nil); !errors.Is(err, cellar.ErrInvalidObjectState) {
				t.Errorf("restore not done yet: %v", err)
			}
			e.clock.Set(day(90).Add(4 * time.Hour))
			got, err := readObj(t, b, "logs/a", nil)
			if err != nil || !bytes.Equal(got, small) {
				t.Errorf("restored: %v", err)
			}
			info, _ := b.Head(ctx, "logs/a", nil)
			if info.Restore == nil || info.Restore.Ongoing || !info.Restore.Expiry.Equal(day(92)) {
				t.Errorf("restored: %+v, want expiry %v", info.Restore, day(92))
			}
			// A copy reads the restored object; the copy is STANDARD.
			if _, err := b.CopyObject(ctx, "copy", "bkt", "logs/a", nil); err != nil {
				t.Errorf("copy of a restored object: %v", err)
			}
			if _, err := b.CopyObject(ctx, "copy2", "bkt", "logs/mp", nil); !errors.Is(err, cellar.ErrInvalidObjectState) {
				t.Errorf("copy of an archived object: %v", err)
			}
			if _, err := b.Delete(ctx, "copy", nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Every replaced data set is freed; nothing is left over.
	if _, err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	checkOneDataSetPerVersion(t, s, e.opts.Zones, 1)
}

// checkOneDataSetPerVersion sweeps orphans, runs Check, and counts the
// data sets the zones hold: want (one per stored version or part).
func checkOneDataSetPerVersion(t *testing.T, s *cellar.Store, zones []backend.Backend, want int) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.SweepOrphans(ctx, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range rep.Problems {
		t.Errorf("check: %s", p)
	}
	ids := map[string]bool{}
	for _, z := range zones {
		err := z.List(ctx, erasure.AllBlobsPrefix, func(info backend.Info) error {
			if id, _, ok := erasure.ParseBlobName(info.Name); ok {
				ids[id] = true
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(ids) != want {
		t.Errorf("zones hold %d data sets, want %d", len(ids), want)
	}
}

// TestTransitionFaults fails every zone from its nth operation on, for
// every n over a transition's operations, then heals the zones, restarts
// the store and checks that the object is there once, readable, with its
// bytes, in one class or the other, and that after the retried transition
// and a sweep the zones hold exactly its one data set.
func TestTransitionFaults(t *testing.T) {
	ctx := context.Background()
	body := randBytes(7, 200<<10)
	for n := int64(0); ; n++ {
		if n > 2000 {
			t.Fatal("the transition never succeeded")
		}
		var zones []*faulty.Backend
		e := newLifecycleEnv(t, func(o *cellar.Options) {
			o.Zones = nil
			for range 3 {
				z := faulty.Wrap(backend.NewMemory())
				zones = append(zones, z)
				o.Zones = append(o.Zones, z)
			}
			o.ProbeInterval = -1
			o.ScrubInterval = -1
		})
		b := newBucket(t, e.s, "bkt")
		setLifecycle(t, b, `{"Rules": [{"ID": "ir", "Status": "Enabled", "Filter": {}, "Transitions": [{"Days": 1, "StorageClass": "GLACIER_IR"}]}]}`)
		if _, err := b.Put(ctx, "k", bytes.NewReader(body), nil); err != nil {
			t.Fatal(err)
		}
		e.clock.Set(e.clock.Now().Add(72 * time.Hour))
		before := make([]int64, len(zones))
		for i, z := range zones {
			before[i] = z.Ops()
			z.SetFailAfter(n)
		}
		rep, err := e.s.RunLifecycle(ctx)
		faulted := false
		for i, z := range zones {
			faulted = faulted || z.Ops()-before[i] > n
			z.SetFailAfter(-1)
		}
		if err != nil {
			t.Fatalf("n=%d: RunLifecycle: %v", n, err)
		}
		e.restart()
		b = e.s.Bucket("bkt")
		check := func(stage string, class string) {
			t.Helper()
			var versions []cellar.ObjectInfo
			for v, err := range b.Versions(ctx, nil) {
				if err != nil {
					t.Fatal(err)
				}
				versions = append(versions, v)
			}
			if len(versions) != 1 {
				t.Fatalf("n=%d %s: %d versions listed, want 1", n, stage, len(versions))
			}
			if class != "" && versions[0].StorageClass != class {
				t.Errorf("n=%d %s: class %s, want %s", n, stage, versions[0].StorageClass, class)
			}
			got, err := readObj(t, b, "k", nil)
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("n=%d %s: read: %v", n, stage, err)
			}
		}
		check("after the fault", "")
		if rep.Transitioned == 0 && rep.Failed == 0 {
			t.Errorf("n=%d: the transition was neither done nor failed: %+v", n, rep)
		}
		// The retry item brings the transition about.
		rep2, err := e.s.RunLifecycle(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Transitioned+rep2.Transitioned != 1 {
			t.Errorf("n=%d: transitioned %d then %d, want once", n, rep.Transitioned, rep2.Transitioned)
		}
		check("after the retry", cellar.StorageClassGlacierIR)
		if _, err := e.s.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		checkOneDataSetPerVersion(t, e.s, e.opts.Zones, 1)
		if !faulted {
			t.Logf("a transition takes %d operations or fewer a zone", n)
			return
		}
	}
}

// TestTransitionReaderMidStream reads an object while it transitions and
// its old data is swept: the reader gets the bytes it started with.
func TestTransitionReaderMidStream(t *testing.T) {
	ctx := context.Background()
	e := newLifecycleEnv(t, nil)
	b := newBucket(t, e.s, "bkt")
	setLifecycle(t, b, `{"Rules": [{"ID": "ia", "Status": "Enabled", "Filter": {}, "Transitions": [{"Days": 30, "StorageClass": "ONEZONE_IA"}]}]}`)
	body := randBytes(9, 1<<20)
	if _, err := b.Put(ctx, "k", bytes.NewReader(body), nil); err != nil {
		t.Fatal(err)
	}
	obj, err := b.Get(ctx, "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 300<<10)
	if _, err := io.ReadFull(obj, head); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(e.clock.Now().Add(40 * 24 * time.Hour))
	rep, err := e.s.RunLifecycle(ctx)
	if err != nil || rep.Transitioned != 1 {
		t.Fatalf("RunLifecycle: %+v %v", rep, err)
	}
	sw, err := e.s.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sw.Held != 1 || sw.Deleted != 0 {
		t.Errorf("sweep with a reader open: %+v, want the old data held", sw)
	}
	rest, err := io.ReadAll(obj)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(append(head, rest...), body) {
		t.Error("the reader mid-stream read wrong bytes")
	}
	obj.Close()
	if sw, err := e.s.Sweep(ctx); err != nil || sw.Deleted != 1 {
		t.Errorf("sweep after the reader closed: %+v %v", sw, err)
	}
	info, err := b.Head(ctx, "k", nil)
	if err != nil || info.StorageClass != cellar.StorageClassOnezoneIA {
		t.Errorf("after the transition: %+v %v", info, err)
	}
	got, err := readObj(t, b, "k", nil)
	if err != nil || !bytes.Equal(got, body) {
		t.Errorf("read after the transition: %v", err)
	}
	checkOneDataSetPerVersion(t, e.s, e.opts.Zones, 1)
}

// TestStorageClassOptions checks the per-class placement options that
// Open validates and the errors of bad storage classes.
func TestStorageClassOptions(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		classes map[string]cellar.StorageClassOptions
		ok      bool
	}{
		{"defaults", nil, true},
		{"cold zone set", map[string]cellar.StorageClassOptions{"GLACIER": {Zones: []int{1, 2}, DataShards: 2, ParityShards: 2}}, true},
		{"weak", map[string]cellar.StorageClassOptions{"GLACIER": {Zones: []int{2}, DataShards: 4, ParityShards: 2}}, false},
		{"unknown class", map[string]cellar.StorageClassOptions{"COLD": {}}, false},
		{"bad zone", map[string]cellar.StorageClassOptions{"STANDARD_IA": {Zones: []int{3}}}, false},
		{"repeated zone", map[string]cellar.StorageClassOptions{"STANDARD_IA": {Zones: []int{0, 0}}}, false},
		{"one zone IA anywhere", map[string]cellar.StorageClassOptions{"ONEZONE_IA": {Zones: []int{2}}}, true},
	} {
		opts := smallOpts()
		opts.StorageClasses = tc.classes
		s, err := cellar.OpenMemory(ctx, opts)
		if tc.ok != (err == nil) {
			t.Errorf("%s: Open: %v", tc.name, err)
		}
		if err != nil {
			if !errors.Is(err, cellar.ErrInvalidOptions) {
				t.Errorf("%s: %v is not ErrInvalidOptions", tc.name, err)
			}
			continue
		}
		s.Close()
	}

	// Each class's data lands where its options say: ONEZONE_IA in one
	// zone, REDUCED_REDUNDANCY's RS(2,1) one shard a zone, a cold set of
	// zones 1 and 2 for GLACIER.
	var zones []backend.Backend
	opts := smallOpts()
	for range 3 {
		z := backend.NewMemory()
		zones = append(zones, z)
		opts.Zones = append(opts.Zones, z)
	}
	opts.StorageClasses = map[string]cellar.StorageClassOptions{"GLACIER": {Zones: []int{1, 2}, DataShards: 2, ParityShards: 2}}
	s := newStore(t, opts)
	b := newBucket(t, s, "bkt")
	shardsPerZone := func() []int {
		out := make([]int, len(zones))
		for i, z := range zones {
			z.List(ctx, erasure.AllBlobsPrefix, func(backend.Info) error { out[i]++; return nil })
		}
		return out
	}
	// Each class once with an object over SmallObjectSize (its RS(k,m))
	// and once with a small one (RS(1,m) over the same zones).
	for _, tc := range []struct {
		class        string
		check, small func([]int) bool
	}{
		{"ONEZONE_IA",
			func(d []int) bool { return (d[0] == 6) != (d[1] == 6) != (d[2] == 6) && d[0]+d[1]+d[2] == 6 },
			func(d []int) bool { return (d[0] == 3) != (d[1] == 3) != (d[2] == 3) && d[0]+d[1]+d[2] == 3 }},
		{"REDUCED_REDUNDANCY",
			func(d []int) bool { return d[0] == 1 && d[1] == 1 && d[2] == 1 },
			func(d []int) bool { return max(d[0], d[1], d[2]) == 1 && d[0]+d[1]+d[2] == 2 }},
		{"GLACIER",
			func(d []int) bool { return d[0] == 0 && d[1] == 2 && d[2] == 2 },
			func(d []int) bool { return d[0] == 0 && d[1] >= 1 && d[2] >= 1 && d[1]+d[2] == 3 }},
		{"",
			func(d []int) bool { return d[0] == 2 && d[1] == 2 && d[2] == 2 },
			func(d []int) bool { return d[0] == 1 && d[1] == 1 && d[2] == 1 }},
	} {
		for _, small := range []bool{false, true} {
			before := shardsPerZone()
			key, body, check := "k-"+tc.class, randBytes(7, 5000), tc.check
			if small {
				key, body, check = "small-"+tc.class, []byte("hello"), tc.small
			}
			info, err := b.Put(ctx, key, bytes.NewReader(body), &cellar.PutOptions{StorageClass: tc.class})
			if err != nil {
				t.Fatal(err)
			}
			want := tc.class
			if want == "" {
				want = cellar.StorageClassStandard
			}
			if info.StorageClass != want {
				t.Errorf("put %q: class %s", tc.class, info.StorageClass)
			}
			after := shardsPerZone()
			d := make([]int, len(after))
			for i := range after {
				d[i] = after[i] - before[i]
			}
			if !check(d) {
				t.Errorf("%s (small %v): shards per zone %v", tc.class, small, d)
			}
		}
	}
	// Check, Scrub and Heal work from each segment's own shard counts and
	// placement, whatever the class.
	if rep, err := s.Check(ctx); err != nil || len(rep.Problems) > 0 || rep.Degraded > 0 {
		t.Errorf("check: %+v %v", rep, err)
	}
	if rep, err := s.Scrub(ctx, nil); err != nil || len(rep.Lost) > 0 || rep.Bad > 0 || rep.DataSets != 8 || rep.Shards != 19+11 {
		t.Errorf("scrub: %+v %v", rep, err)
	}
	if _, err := b.Put(ctx, "x", nil, &cellar.PutOptions{StorageClass: "standard"}); !errors.Is(err, cellar.ErrInvalidStorageClass) {
		t.Errorf("lowercase class: %v", err)
	}
	if _, err := b.CopyObject(ctx, "y", "bkt", "k-", &cellar.CopyOptions{StorageClass: "NOPE"}); !errors.Is(err, cellar.ErrInvalidStorageClass) {
		t.Errorf("copy to an unknown class: %v", err)
	}
	if _, err := b.CreateMultipartUpload(ctx, "z", &cellar.PutOptions{StorageClass: "NOPE"}); !errors.Is(err, cellar.ErrInvalidStorageClass) {
		t.Errorf("upload to an unknown class: %v", err)
	}
	// A copy onto itself that changes only the storage class is legal; one
	// that changes nothing is not.
	if _, err := b.CopyObject(ctx, "k-", "bkt", "k-", &cellar.CopyOptions{StorageClass: "STANDARD_IA"}); err != nil {
		t.Errorf("copy onto itself to STANDARD_IA: %v", err)
	}
	if _, err := b.CopyObject(ctx, "k-", "bkt", "k-", &cellar.CopyOptions{StorageClass: "STANDARD_IA"}); !errors.Is(err, cellar.ErrInvalidRequest) {
		t.Errorf("copy onto itself in its own class: %v", err)
	}
	// A multipart upload's parts and object take the upload's class.
	u, err := b.CreateMultipartUpload(ctx, "mp", &cellar.PutOptions{StorageClass: "GLACIER_IR"})
	if err != nil {
		t.Fatal(err)
	}
	for up, err := range b.Uploads(ctx, nil) {
		if err != nil || up.StorageClass != "GLACIER_IR" {
			t.Errorf("upload listed with class %q: %v", up.StorageClass, err)
		}
	}
	p, err := u.UploadPart(ctx, 1, bytes.NewReader([]byte("part")), nil)
	if err != nil {
		t.Fatal(err)
	}
	info, err := u.Complete(ctx, []cellar.CompletedPart{{PartNumber: 1, ETag: p.ETag}}, nil)
	if err != nil || info.StorageClass != "GLACIER_IR" {
		t.Errorf("completed upload: %+v %v", info, err)
	}
	// Restore refuses what is not archived and a nil or zero-day request.
	if err := b.Restore(ctx, "mp", &cellar.RestoreOptions{Days: 1}); !errors.Is(err, cellar.ErrInvalidObjectState) {
		t.Errorf("restore of GLACIER_IR: %v", err)
	}
	if err := b.Restore(ctx, "k-GLACIER", nil); !errors.Is(err, cellar.ErrInvalidArgument) {
		t.Errorf("restore without options: %v", err)
	}
	if err := b.Restore(ctx, "nope", &cellar.RestoreOptions{Days: 1}); !errors.Is(err, cellar.ErrNoSuchKey) {
		t.Errorf("restore of a missing key: %v", err)
	}
}

// countingIndex counts the batches applied to an index.
type countingIndex struct {
	index.Index
	applies atomic.Int64
}

func (c *countingIndex) Apply(ctx context.Context, b *index.Batch) error {
	c.applies.Add(1)
	return c.Index.Apply(ctx, b)
}

// TestIntelligentTiering: an object unread for 30 days is in the
// infrequent tier and back in the frequent tier once read; reads write the
// index at most once a day.
func TestIntelligentTiering(t *testing.T) {
	ctx := context.Background()
	var idx *countingIndex
	e := newLifecycleEnv(t, func(o *cellar.Options) {
		idx = &countingIndex{Index: o.Index}
		o.Index = idx
		// The scrubber records its first progress on a fresh store from
		// its own goroutine; keep it from landing among the counted reads.
		o.ScrubInterval = -1
	})
	b := newBucket(t, e.s, "bkt")
	body := randBytes(4, 5000)
	if _, err := b.Put(ctx, "it", bytes.NewReader(body), &cellar.PutOptions{StorageClass: cellar.StorageClassIntelligentTiering}); err != nil {
		t.Fatal(err)
	}
	tier := func() string {
		t.Helper()
		u, err := e.s.Usage(ctx)
		if err != nil || len(u.Total) != 1 {
			t.Fatalf("usage %+v %v", u, err)
		}
		return u.Total[0].Tier
	}
	reads := func(n int) int64 {
		t.Helper()
		before := idx.applies.Load()
		for range n {
			got, err := readObj(t, b, "it", nil)
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("read: %v", err)
			}
		}
		return idx.applies.Load() - before
	}
	if w := reads(3); w != 0 {
		t.Errorf("reads on the day of the put wrote the index %d times", w)
	}
	e.clock.Set(e.clock.Now().Add(24 * time.Hour))
	if w := reads(3); w != 1 {
		t.Errorf("reads on the next day wrote the index %d times, want 1", w)
	}
	e.clock.Set(e.clock.Now().Add(30*24*time.Hour - time.Minute))
	if got := tier(); got != cellar.TierFrequent {
		t.Errorf("a minute short of 30 idle days: %s", got)
	}
	e.clock.Set(e.clock.Now().Add(time.Minute))
	if got := tier(); got != cellar.TierInfrequent {
		t.Errorf("after 30 idle days: %s", got)
	}
	info, err := b.Head(ctx, "it", nil)
	if err != nil || info.StorageClass != cellar.StorageClassIntelligentTiering {
		t.Errorf("head: %+v %v", info, err)
	}
	if w := reads(1); w != 1 {
		t.Errorf("a read wrote the index %d times, want 1", w)
	}
	if got := tier(); got != cellar.TierFrequent {
		t.Errorf("after a read: %s", got)
	}
}

// TestExpirationInfo: Put, Head and Get say when the current version
// expires and by which rule; a noncurrent version says nothing.
func TestExpirationInfo(t *testing.T) {
	ctx := context.Background()
	e := newLifecycleEnv(t, nil) // the clock starts at 2026-01-01T15:00Z
	b := newBucket(t, e.s, "bkt")
	if err := b.SetVersioning(ctx, cellar.VersioningEnabled); err != nil {
		t.Fatal(err)
	}
	setLifecycle(t, b, `{"Rules": [{"ID": "late", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 30}},
	  {"ID": "soon", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 2}}]}`)
	v1, err := b.Put(ctx, "tmp/a", bytes.NewReader([]byte("x")), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 1, 4, 0, 0, 0, 0, time.UTC)
	if x := v1.Expiration; x == nil || x.RuleID != "soon" || !x.Date.Equal(want) {
		t.Errorf("put: %+v, want soon at %v", x, want)
	}
	if _, err := b.Put(ctx, "tmp/a", bytes.NewReader([]byte("y")), nil); err != nil {
		t.Fatal(err)
	}
	if info, err := b.Head(ctx, "tmp/a", nil); err != nil || info.Expiration == nil || info.Expiration.RuleID != "soon" {
		t.Errorf("head: %+v %v", info.Expiration, err)
	}
	if info, err := b.Head(ctx, "tmp/a", &cellar.GetOptions{VersionID: v1.VersionID}); err != nil || info.Expiration != nil {
		t.Errorf("head of a noncurrent version: %+v %v", info.Expiration, err)
	}
	obj, err := b.Get(ctx, "tmp/a", nil)
	if err != nil {
		t.Fatal(err)
	}
	if x := obj.Info().Expiration; x == nil || x.RuleID != "soon" {
		t.Errorf("get: %+v", x)
	}
	obj.Close()
	if err := b.DeleteLifecycle(ctx); err != nil {
		t.Fatal(err)
	}
	if info, err := b.Head(ctx, "tmp/a", nil); err != nil || info.Expiration != nil {
		t.Errorf("without rules: %+v %v", info.Expiration, err)
	}
}

// crashingIndex fails the nth Apply from the moment it is armed, and at
// that moment cuts the zones off too, as a crash would: nothing the store
// does afterwards (such as deleting the shards it just wrote) reaches
// them.
type crashingIndex struct {
	index.Index
	zones []*faulty.Backend
	left  atomic.Int64 // applies to let through; negative: disarmed
}

var errCrash = errors.New("injected crash")

func (c *crashingIndex) Apply(ctx context.Context, b *index.Batch) error {
	if c.left.Load() < 0 {
		return c.Index.Apply(ctx, b)
	}
	if c.left.Add(-1) >= 0 {
		return c.Index.Apply(ctx, b)
	}
	for _, z := range c.zones {
		z.SetFailAfter(0)
	}
	return errCrash
}

// TestTransitionCrash "crashes" the store at each index commit of a
// transition: the commit fails and the zones take nothing more, so the
// shards of the new data stay where they are. After a restart the object
// is there once with its bytes, the retried transition succeeds, and
// SweepOrphans and Sweep leave exactly one data set.
func TestTransitionCrash(t *testing.T) {
	ctx := context.Background()
	body := randBytes(8, 300<<10)
	for n := int64(0); ; n++ {
		if n > 10 {
			t.Fatal("the transition never committed")
		}
		var zones []*faulty.Backend
		var idx *crashingIndex
		e := newLifecycleEnv(t, func(o *cellar.Options) {
			o.Zones = nil
			for range 3 {
				z := faulty.Wrap(backend.NewMemory())
				zones = append(zones, z)
				o.Zones = append(o.Zones, z)
			}
			idx = &crashingIndex{Index: o.Index, zones: zones}
			idx.left.Store(-1)
			o.Index = idx
			o.ProbeInterval = -1
			o.ScrubInterval = -1
		})
		b := newBucket(t, e.s, "bkt")
		setLifecycle(t, b, `{"Rules": [{"ID": "g", "Status": "Enabled", "Filter": {}, "Transitions": [{"Days": 1, "StorageClass": "GLACIER_IR"}]}]}`)
		if _, err := b.Put(ctx, "k", bytes.NewReader(body), nil); err != nil {
			t.Fatal(err)
		}
		e.clock.Set(e.clock.Now().Add(72 * time.Hour))
		idx.left.Store(n)
		rep, err := e.s.RunLifecycle(ctx)
		crashed := idx.left.Load() < 0
		idx.left.Store(-1)
		for _, z := range zones {
			z.SetFailAfter(-1)
		}
		if err != nil && !errors.Is(err, errCrash) {
			t.Fatalf("n=%d: %v", n, err)
		}
		e.restart()
		b = e.s.Bucket("bkt")
		count := 0
		for v, err := range b.Versions(ctx, nil) {
			if err != nil {
				t.Fatal(err)
			}
			count++
			_ = v
		}
		if got, err := readObj(t, b, "k", nil); count != 1 || err != nil || !bytes.Equal(got, body) {
			t.Fatalf("n=%d: %d versions, read %v", n, count, err)
		}
		rep2, err := e.s.RunLifecycle(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Transitioned+rep2.Transitioned != 1 {
			t.Errorf("n=%d: transitioned %d then %d", n, rep.Transitioned, rep2.Transitioned)
		}
		if info, err := b.Head(ctx, "k", nil); err != nil || info.StorageClass != cellar.StorageClassGlacierIR {
			t.Errorf("n=%d: after the retry: %+v %v", n, info, err)
		}
		if _, err := e.s.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		checkOneDataSetPerVersion(t, e.s, e.opts.Zones, 1)
		if !crashed {
			t.Logf("a lifecycle run with a transition commits %d index batches", n)
			return
		}
	}
}

// TestRestoreAndPriceOptions checks Options.RestoreTimes and Prices: bad
// entries are refused at Open; given ones are used.
func TestRestoreAndPriceOptions(t *testing.T) {
	ctx := context.Background()
	for name, o := range map[string]*cellar.Options{
		"restore of STANDARD": {RestoreTimes: map[string]map[string]time.Duration{"STANDARD": {"Standard": time.Hour}}},
		"unknown tier":        {RestoreTimes: map[string]map[string]time.Duration{"GLACIER": {"Fast": time.Hour}}},
		"negative time":       {RestoreTimes: map[string]map[string]time.Duration{"GLACIER": {"Bulk": -time.Hour}}},
		"unknown class price": {Prices: map[string]float64{"COLD": 1}},
		"negative price":      {Prices: map[string]float64{"STANDARD": -1}},
	} {
		if s, err := cellar.OpenMemory(ctx, o); !errors.Is(err, cellar.ErrInvalidOptions) {
			t.Errorf("%s: Open: %v", name, err)
			if err == nil {
				s.Close()
			}
		}
	}
	e := newLifecycleEnv(t, func(o *cellar.Options) {
		o.RestoreTimes = map[string]map[string]time.Duration{"GLACIER": {"Standard": time.Minute}}
		o.Prices = map[string]float64{"GLACIER": 1}
	})
	b := newBucket(t, e.s, "bkt")
	body := randBytes(5, 1<<20)
	if _, err := b.Put(ctx, "g", bytes.NewReader(body), &cellar.PutOptions{StorageClass: cellar.StorageClassGlacier}); err != nil {
		t.Fatal(err)
	}
	if err := b.Restore(ctx, "g", &cellar.RestoreOptions{Days: 1}); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(e.clock.Now().Add(time.Minute))
	if got, err := readObj(t, b, "g", nil); err != nil || !bytes.Equal(got, body) {
		t.Errorf("restored after the configured minute: %v", err)
	}
	u, err := e.s.Usage(ctx)
	if err != nil || len(u.Total) != 1 || u.Total[0].MonthlyCost != 1.0/1024 {
		t.Errorf("usage at 1 USD a GB: %+v %v", u, err)
	}
}
