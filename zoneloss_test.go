package cellar_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cellarhq/cellar"
)

// openDir opens the embedded default layout in dir with small blocks and
// no background work, so that a test decides when to probe, scrub and heal.
func openDir(t testing.TB, dir string) *cellar.Store {
	t.Helper()
	s, err := cellar.Open(context.Background(), &cellar.Options{
		Dir: dir, BlockSize: 64 << 10,
		SweepInterval: -1, ProbeInterval: -1, ScrubInterval: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// durableSet is what the durability tests write and check: objects of
// several sizes, versions, a multipart object and an upload in progress.
type durableSet struct {
	objects  map[[3]string][]byte // bucket, key, version ID ("" for current) → bytes
	upBucket string
	upKey    string
	upID     string
	part     []byte
	dataSets int // data sets written: versions with data, and parts
	perZone  int // shards of them in each zone
}

// add counts a data set of n bytes: RS(4,2) puts two shards in each of
// the three zones, the small layout RS(1,2) one.
func (d *durableSet) add(n int) {
	d.dataSets++
	d.perZone += 2
	if n <= 4<<10 {
		d.perZone--
	}
}

func writeDurableSet(t testing.TB, s *cellar.Store) *durableSet {
	t.Helper()
	ctx := context.Background()
	d := &durableSet{objects: map[[3]string][]byte{}}
	plain := newBucket(t, s, "plain")
	for i, n := range []int{0, 1, 1000, 64 << 10, 64<<10 + 1, 300_000} {
		key := fmt.Sprintf("obj/%d", i)
		data := randBytes(uint64(1000+i), n)
		if _, err := plain.Put(ctx, key, bytes.NewReader(data), nil); err != nil {
			t.Fatal(err)
		}
		d.objects[[3]string{"plain", key, ""}] = data
		d.add(n)
	}
	if err := s.CreateBucket(ctx, "versioned", &cellar.BucketOptions{Versioning: cellar.VersioningEnabled}); err != nil {
		t.Fatal(err)
	}
	vb := s.Bucket("versioned")
	for i := range 3 {
		data := randBytes(uint64(2000+i), 70_000+i)
		info, err := vb.Put(ctx, "doc", bytes.NewReader(data), nil)
		if err != nil {
			t.Fatal(err)
		}
		d.objects[[3]string{"versioned", "doc", info.VersionID}] = data
		d.add(len(data))
	}
	// A multipart object of two parts, and an upload in progress.
	u, err := vb.CreateMultipartUpload(ctx, "big", nil)
	if err != nil {
		t.Fatal(err)
	}
	p1, p2 := randBytes(3001, cellar.MinPartSize), randBytes(3002, 5000)
	var parts []cellar.CompletedPart
	for i, p := range [][]byte{p1, p2} {
		info, err := u.UploadPart(ctx, i+1, bytes.NewReader(p), nil)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, cellar.CompletedPart{PartNumber: i + 1, ETag: info.ETag})
	}
	info, err := u.Complete(ctx, parts, nil)
	if err != nil {
		t.Fatal(err)
	}
	d.objects[[3]string{"versioned", "big", info.VersionID}] = append(append([]byte(nil), p1...), p2...)
	d.add(len(p1))
	d.add(len(p2))
	u, err = plain.CreateMultipartUpload(ctx, "pending", nil)
	if err != nil {
		t.Fatal(err)
	}
	d.upBucket, d.upKey, d.upID = "plain", "pending", u.ID()
	d.part = randBytes(4001, 150_000)
	if _, err := u.UploadPart(ctx, 1, bytes.NewReader(d.part), nil); err != nil {
		t.Fatal(err)
	}
	d.add(len(d.part))
	return d
}

// verify reads every object and version and checks the upload's part is
// still listed.
func (d *durableSet) verify(t testing.TB, s *cellar.Store, when string) {
	t.Helper()
	ctx := context.Background()
	for id, data := range d.objects {
		got := readAll(t, s.Bucket(id[0]), id[1], &cellar.GetOptions{VersionID: id[2]})
		if !bytes.Equal(got, data) {
			t.Fatalf("%s: %s/%s version %q: wrong bytes", when, id[0], id[1], id[2])
		}
	}
	u, err := s.Bucket(d.upBucket).MultipartUpload(ctx, d.upKey, d.upID)
	if err != nil {
		t.Fatalf("%s: upload: %v", when, err)
	}
	page, err := u.ListParts(ctx, nil)
	if err != nil || len(page.Parts) != 1 || page.Parts[0].ETag != md5hex(d.part) {
		t.Fatalf("%s: parts of the upload: %+v %v", when, page, err)
	}
}

// finish completes the upload in progress and reads the object it made,
// which proves the part's data survived.
func (d *durableSet) finish(t testing.TB, s *cellar.Store) {
	t.Helper()
	ctx := context.Background()
	u, err := s.Bucket(d.upBucket).MultipartUpload(ctx, d.upKey, d.upID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Complete(ctx, []cellar.CompletedPart{{PartNumber: 1, ETag: md5hex(d.part)}}, nil); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, s.Bucket(d.upBucket), d.upKey, nil); !bytes.Equal(got, d.part) {
		t.Fatal("completed upload: wrong bytes")
	}
}

// scrubAndHeal scrubs, checks that exactly the shards of zone lost were
// found bad, heals, and checks that the store is whole again.
func scrubAndHeal(t testing.TB, s *cellar.Store, d *durableSet, lost int) {
	t.Helper()
	ctx := context.Background()
	rep, err := s.Scrub(ctx, &cellar.ScrubOptions{Heal: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.DataSets != d.dataSets || rep.Bad != d.perZone || len(rep.Lost) > 0 || rep.Skipped != 0 {
		t.Fatalf("scrub after losing zone %d: %+v; want %d data sets with %d bad shards", lost, rep, d.dataSets, d.perZone)
	}
	for zi, z := range rep.Zones {
		if want := map[bool]int{true: d.perZone}[zi == lost]; z.Bad != want {
			t.Fatalf("scrub: zone %d has %d bad shards, want %d: %+v", zi, z.Bad, want, rep.Zones)
		}
	}
	if h := rep.Heal; h == nil || h.Healed != d.perZone || h.Pending != 0 || len(h.Problems) > 0 {
		t.Fatalf("heal after scrub: %+v", rep.Heal)
	}
	chk, err := s.Check(ctx)
	if err != nil || chk.Degraded != 0 || chk.MetaDegraded != 0 || len(chk.Problems) > 0 {
		t.Fatalf("check after heal: %+v %v", chk, err)
	}
	if st := s.Stats(); st.HealQueue != 0 || st.Err != nil {
		t.Fatalf("stats after heal: %+v", st)
	}
}

// TestZoneDirectoryLoss deletes one zone's directory, under a running
// store and then a closed one, heals, and deletes another.
func TestZoneDirectoryLoss(t *testing.T) {
	dir := t.TempDir()
	s := openDir(t, dir)
	d := writeDurableSet(t, s)
	d.verify(t, s, "intact")

	// A zone's disk vanishes under the running store: every object reads.
	if err := os.RemoveAll(filepath.Join(dir, "az2")); err != nil {
		t.Fatal(err)
	}
	d.verify(t, s, "az2 deleted while open")
	s.Close()

	// Replaced by an empty directory at the next Open; scrub and heal
	// rebuild every shard it held.
	s = openDir(t, dir)
	d.verify(t, s, "az2 empty")
	scrubAndHeal(t, s, d, 1)
	s.Close()

	// Another zone goes: everything still reads, since az2 is whole again.
	if err := os.RemoveAll(filepath.Join(dir, "az1")); err != nil {
		t.Fatal(err)
	}
	s = openDir(t, dir)
	d.verify(t, s, "az1 deleted after healing az2")
	scrubAndHeal(t, s, d, 0)
	s.Close()

	// And the third.
	if err := os.RemoveAll(filepath.Join(dir, "az3")); err != nil {
		t.Fatal(err)
	}
	s = openDir(t, dir)
	defer s.Close()
	d.verify(t, s, "az3 deleted after healing az1")
	d.finish(t, s)
}

// shardFiles lists the shard files of a zone directory.
func shardFiles(t testing.TB, zoneDir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(zoneDir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() && !strings.HasPrefix(e.Name(), "data") {
			return nil // a zone metadata record, not a shard
		}
		if e.IsDir() && e.Name() == "tmp" {
			return filepath.SkipDir
		}
		if !e.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestZoneCorruption corrupts random bytes in every shard file of one
// zone, scrubs and heals, then deletes another zone.
func TestZoneCorruption(t *testing.T) {
	dir := t.TempDir()
	s := openDir(t, dir)
	d := writeDurableSet(t, s)
	s.Close()

	rng := rand.New(rand.NewPCG(6, 6))
	files := shardFiles(t, filepath.Join(dir, "az3"))
	if len(files) != d.perZone {
		t.Fatalf("%d shard files in az3, want %d", len(files), d.perZone)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for range 1 + rng.IntN(3) {
			b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
		}
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	s = openDir(t, dir)
	d.verify(t, s, "az3 corrupt")
	scrubAndHeal(t, s, d, 2)
	if rep, err := s.Scrub(context.Background(), nil); err != nil || rep.Bad != 0 || rep.Shards != 3*d.perZone {
		t.Fatalf("second scrub: %+v %v", rep, err)
	}
	s.Close()

	if err := os.RemoveAll(filepath.Join(dir, "az1")); err != nil {
		t.Fatal(err)
	}
	s = openDir(t, dir)
	defer s.Close()
	d.verify(t, s, "az1 deleted after healing az3")
	d.finish(t, s)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func zoneOnline(s *cellar.Store, zone int) bool { return s.Stats().Zones[zone].Online }

// TestProberZoneOffline takes a zone offline under a store with a fast
// prober: the prober marks it, writes go on and are recorded as degraded,
// and when the zone comes back the healer restores full redundancy by
// itself.
func TestProberZoneOffline(t *testing.T) {
	ctx := context.Background()
	opts := smallOpts()
	opts.ProbeInterval = 10 * time.Millisecond
	opts.ProbeTimeout = time.Second
	s, zones := faultyStore(t, opts)
	b := newBucket(t, s, "probe")
	want := map[string][]byte{}
	put := func(key string, n int) {
		t.Helper()
		want[key] = randBytes(uint64(len(want)), n)
		if _, err := b.Put(ctx, key, bytes.NewReader(want[key]), nil); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
	}
	put("before", 100_000)

	zones[1].SetOffline(true)
	waitFor(t, "the prober to mark zone 1 offline", func() bool { return !zoneOnline(s, 1) })
	st := s.Stats()
	if st.Zones[1].LastError == nil || !st.Zones[0].Online || !st.Zones[2].Online {
		t.Fatalf("zone states: %+v", st.Zones)
	}
	for i := range 5 {
		put(fmt.Sprintf("during/%d", i), 50_000+i)
	}
	if st := s.Stats(); st.HealQueue != 10 || st.HealQueueSets != 5 {
		t.Fatalf("heal queue while zone 1 is offline: %+v", st)
	}
	for key, data := range want {
		if got := readAll(t, b, key, nil); !bytes.Equal(got, data) {
			t.Fatalf("%s with zone 1 offline: wrong bytes", key)
		}
	}

	// Back online: the prober notices and a heal pass runs by itself.
	zones[1].SetOffline(false)
	waitFor(t, "zone 1 to come back", func() bool { return zoneOnline(s, 1) })
	waitFor(t, "the heal queue to drain", func() bool { st := s.Stats(); return st.HealQueue == 0 && st.ShardsHealed == 10 })
	rep, err := s.Check(ctx)
	if err != nil || rep.Degraded != 0 || len(rep.Problems) > 0 {
		t.Fatalf("check after the zone came back: %+v %v", rep, err)
	}
	// Full redundancy: every object reads with any one zone offline.
	for zi := range zones {
		zones[zi].SetOffline(true)
		for key, data := range want {
			if got := readAll(t, b, key, nil); !bytes.Equal(got, data) {
				t.Fatalf("%s with zone %d offline after healing: wrong bytes", key, zi)
			}
		}
		zones[zi].SetOffline(false)
		waitFor(t, "the zone to come back", func() bool { return zoneOnline(s, zi) })
	}
}

// TestHungZoneSkipped makes a zone hang rather than fail: the probe times
// out, the zone is marked offline, the write stuck on it is cut short and
// commits on the other zones, and later writes do not wait at all.
func TestHungZoneSkipped(t *testing.T) {
	ctx := context.Background()
	opts := smallOpts()
	opts.ProbeInterval = 20 * time.Millisecond
	// Long enough that a healthy zone's probe never times out on a busy
	// machine (the race detector, parallel packages), short beside the
	// hour the hung zone would take.
	opts.ProbeTimeout = time.Second
	s, zones := faultyStore(t, opts)
	b := newBucket(t, s, "hung")
	// A zone an hour slow: if the store waited on it, this test would hang
	// until its deadline instead of passing.
	zones[2].SetLatency(time.Hour)
	data := randBytes(1, 200_000)
	if _, err := b.Put(ctx, "stuck", bytes.NewReader(data), nil); err != nil {
		t.Fatalf("put while the zone hangs: %v", err)
	}
	if zoneOnline(s, 2) {
		t.Fatal("hung zone not marked offline")
	}
	for i := range 5 {
		if _, err := b.Put(ctx, fmt.Sprintf("k%d", i), bytes.NewReader(data), nil); err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, b, fmt.Sprintf("k%d", i), nil); !bytes.Equal(got, data) {
			t.Fatal("wrong bytes")
		}
	}
	if st := s.Stats(); st.HealQueue != 12 || st.Zones[2].LastError == nil || st.Zones[2].Online {
		t.Fatalf("stats: %+v", st)
	}
	zones[2].SetLatency(0)
	waitFor(t, "the hung zone to come back and be healed", func() bool {
		st := s.Stats()
		return st.Zones[2].Online && st.HealQueue == 0
	})
	if rep, err := s.Check(ctx); err != nil || rep.Degraded != 0 || len(rep.Problems) > 0 {
		t.Fatalf("check: %+v %v", rep, err)
	}
}
