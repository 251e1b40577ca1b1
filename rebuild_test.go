package cellar_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cellarhq/cellar"
	"github.com/cellarhq/cellar/backend"
)

func rebuildOpts(dir string, clock *testClock) *cellar.Options {
	return &cellar.Options{
		Dir: dir, Clock: clock.Now, DeleteGrace: time.Hour,
		SweepInterval: -1, ProbeInterval: -1, ScrubInterval: -1, LifecycleInterval: -1,
	}
}

// fillRebuildStore makes a store with a bit of everything the index holds.
func fillRebuildStore(t *testing.T, ctx context.Context, st *cellar.Store, clock *testClock) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	put := func(b *cellar.Bucket, key, body string) cellar.ObjectInfo {
		t.Helper()
		info, err := b.Put(ctx, key, strings.NewReader(body), &cellar.PutOptions{ContentType: "text/plain", Metadata: map[string]string{"k": key}})
		must(err)
		return info
	}
	must(st.CreateBucket(ctx, "ver", &cellar.BucketOptions{Versioning: cellar.VersioningEnabled, Region: "eu-west-1"}))
	must(st.CreateBucket(ctx, "plain", nil))
	must(st.CreateBucket(ctx, "susp", &cellar.BucketOptions{Versioning: cellar.VersioningEnabled}))
	must(st.CreateBucket(ctx, "life", nil))
	must(st.CreateBucket(ctx, "gone", nil))
	must(st.DeleteBucket(ctx, "gone"))

	ver := st.Bucket("ver")
	put(ver, "a", "a one")
	put(ver, "a", "a two")
	_, err := ver.PutObjectTagging(ctx, "a", map[string]string{"color": "red"}, nil)
	must(err)
	put(ver, "b", "b one")
	_, err = ver.Delete(ctx, "b", nil) // delete marker
	must(err)
	c := put(ver, "c", "c one")
	_, err = ver.Delete(ctx, "c", &cellar.DeleteOptions{VersionID: c.VersionID})
	must(err)
	d1 := put(ver, "d", "d one")
	put(ver, "d", "d two")
	_, err = ver.Delete(ctx, "d", &cellar.DeleteOptions{VersionID: d1.VersionID})
	must(err)
	put(ver, "e", "e one")
	m, err := ver.Delete(ctx, "e", nil)
	must(err)
	_, err = ver.Delete(ctx, "e", &cellar.DeleteOptions{VersionID: m.VersionID}) // remove the marker
	must(err)
	_, err = ver.CopyObject(ctx, "a-copy", "ver", "a", nil)
	must(err)

	up, err := ver.CreateMultipartUpload(ctx, "mp", &cellar.PutOptions{ContentType: "application/x-mp"})
	must(err)
	big := bytes.Repeat([]byte("0123456789abcdef"), cellar.MinPartSize/16)
	p1, err := up.UploadPart(ctx, 1, bytes.NewReader(big), nil)
	must(err)
	p2, err := up.UploadPart(ctx, 2, strings.NewReader("tail"), nil)
	must(err)
	_, err = up.UploadPart(ctx, 3, strings.NewReader("left out"), nil)
	must(err)
	_, err = up.Complete(ctx, []cellar.CompletedPart{{PartNumber: 1, ETag: p1.ETag}, {PartNumber: 2, ETag: p2.ETag}}, nil)
	must(err)
	pending, err := ver.CreateMultipartUpload(ctx, "pending", nil)
	must(err)
	_, err = pending.UploadPart(ctx, 1, strings.NewReader("never completed"), nil)
	must(err)
	aborted, err := ver.CreateMultipartUpload(ctx, "aborted", nil)
	must(err)
	_, err = aborted.UploadPart(ctx, 1, strings.NewReader("aborted"), nil)
	must(err)
	must(aborted.Abort(ctx))

	plain := st.Bucket("plain")
	put(plain, "x", "x one")
	put(plain, "x", "x two") // replaces the null version
	_, err = plain.PutObjectTagging(ctx, "x", map[string]string{"t": "1"}, nil)
	must(err)
	put(plain, "y", "y one")
	_, err = plain.Delete(ctx, "y", nil)
	must(err)
	put(plain, "z", "z one")
	_, err = plain.PutObjectTagging(ctx, "z", map[string]string{"t": "2"}, nil)
	must(err)
	_, err = plain.DeleteObjectTagging(ctx, "z", nil)
	must(err)

	susp := st.Bucket("susp")
	put(susp, "s", "s versioned")
	must(susp.SetVersioning(ctx, cellar.VersioningSuspended))
	put(susp, "s", "s null one")
	put(susp, "s", "s null two")
	put(susp, "t", "t null")
	_, err = susp.Delete(ctx, "t", nil) // a null delete marker replaces the null version

	must(err)
	life := st.Bucket("life")
	cfg, err := cellar.ParseLifecycle([]byte(`{"Rules": [
		{"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}},
		{"ID": "keep", "Status": "Enabled", "Filter": {"Prefix": "keep/"}, "Expiration": {"Days": 30}}]}`))
	must(err)
	must(life.SetLifecycle(ctx, cfg))
	put(life, "tmp/a", "expires")
	put(life, "keep/b", "stays")
	clock.Set(clock.Now().Add(50 * time.Hour))
	rep, err := st.RunLifecycle(ctx)
	must(err)
	if rep.Expired != 1 {
		t.Fatalf("lifecycle expired %d, want 1", rep.Expired)
	}
}

// dumpStore describes everything a client can see: buckets and their
// settings, every version with its tags and a hash of its bytes, and the
// uploads in progress.
func dumpStore(t *testing.T, ctx context.Context, st *cellar.Store) string {
	t.Helper()
	var out strings.Builder
	buckets, err := st.ListBuckets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, bi := range buckets {
		fmt.Fprintf(&out, "bucket %+v\n", bi)
		b := st.Bucket(bi.Name)
		if cfg, err := b.Lifecycle(ctx); err == nil {
			j, _ := cfg.MarshalJSON()
			fmt.Fprintf(&out, "  lifecycle %s\n", j)
		} else if !errors.Is(err, cellar.ErrNoSuchLifecycleConfiguration) {
			t.Fatal(err)
		}
		for v, err := range b.Versions(ctx, nil) {
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&out, "  version %+v\n", v)
			if v.DeleteMarker {
				continue
			}
			tags, _, err := b.GetObjectTagging(ctx, v.Key, &cellar.TaggingOptions{VersionID: v.VersionID})
			if err != nil {
				t.Fatal(err)
			}
			o, err := b.Get(ctx, v.Key, &cellar.GetOptions{VersionID: v.VersionID})
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.New()
			_, err = io.Copy(h, o)
			o.Close()
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&out, "    tags %v sha256 %x\n", tags, h.Sum(nil))
		}
		for u, err := range b.Uploads(ctx, nil) {
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&out, "  upload %s %s\n", u.Key, u.UploadID)
		}
	}
	return out.String()
}

func TestRebuildIndexAfterIndexLoss(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := &testClock{now: time.Date(2026, 1, 1, 15, 0, 0, 0, time.UTC)}
	st, err := cellar.Open(ctx, rebuildOpts(dir, clock))
	if err != nil {
		t.Fatal(err)
	}
	fillRebuildStore(t, ctx, st, clock)
	before := dumpStore(t, ctx, st)
	if !strings.Contains(before, "upload pending") {
		t.Fatalf("no upload in progress before:\n%s", before)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	if _, err := cellar.RebuildIndex(ctx, rebuildOpts(dir, clock), nil); !errors.Is(err, cellar.ErrIndexExists) {
		t.Fatalf("rebuild over an existing index: %v", err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "index")); err != nil {
		t.Fatal(err)
	}
	rep, err := cellar.RebuildIndex(ctx, rebuildOpts(dir, clock), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", rep)
	if rep.Buckets != 4 || rep.BucketsInferred != 0 || rep.UploadsDropped != 1 || rep.PartsDropped != 1 ||
		rep.RecordsUnreadable != 0 || rep.ShardsMissing != 0 || rep.DeleteMarkers != 2 {
		t.Errorf("report %+v", rep)
	}

	st, err = cellar.Open(ctx, rebuildOpts(dir, clock))
	if err != nil {
		t.Fatal(err)
	}
	after := dumpStore(t, ctx, st)
	want := dropUploads(before)
	if after != want {
		t.Errorf("after rebuild:\n%s\nwant:\n%s", after, want)
	}
	crep, err := st.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(crep.Problems) > 0 || crep.Degraded > 0 {
		t.Errorf("check after rebuild: %+v", crep)
	}
	// Once the grace period is over, Sweep removes the deleted data and
	// its tombstones; a second rebuild then finds the same store.
	clock.Set(clock.Now().Add(2 * time.Hour))
	if _, err := st.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countZoneBlobs(t, dir, "meta/g/"); n != 0 {
		t.Errorf("%d garbage tombstones left after sweep", n)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	rep, err = cellar.RebuildIndex(ctx, rebuildOpts(dir, clock), &cellar.RebuildOptions{Replace: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OldIndex == "" || rep.Garbage != 0 {
		t.Errorf("second rebuild: %+v", rep)
	}
	if _, err := os.Stat(rep.OldIndex); err != nil {
		t.Errorf("old index not kept: %v", err)
	}
	st, err = cellar.Open(ctx, rebuildOpts(dir, clock))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got := dumpStore(t, ctx, st); got != want {
		t.Errorf("after second rebuild:\n%s\nwant:\n%s", got, want)
	}
}

func TestRebuildIndexWithZoneMissing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := &testClock{now: time.Date(2026, 1, 1, 15, 0, 0, 0, time.UTC)}
	st, err := cellar.Open(ctx, rebuildOpts(dir, clock))
	if err != nil {
		t.Fatal(err)
	}
	fillRebuildStore(t, ctx, st, clock)
	want := dropUploads(dumpStore(t, ctx, st))
	st.Close()
	for _, p := range []string{"index", "az2"} {
		if err := os.RemoveAll(filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := cellar.RebuildIndex(ctx, rebuildOpts(dir, clock), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.ShardsMissing == 0 || rep.DeleteMarkers != 2 || rep.Buckets != 4 {
		t.Errorf("report %+v", rep)
	}
	st, err = cellar.Open(ctx, rebuildOpts(dir, clock))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got := dumpStore(t, ctx, st); got != want {
		t.Errorf("after rebuild:\n%s\nwant:\n%s", got, want)
	}
	hrep, err := st.Heal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if hrep.Healed != rep.ShardsMissing {
		t.Errorf("healed %d shards, rebuild found %d missing", hrep.Healed, rep.ShardsMissing)
	}
}

// A deleted object whose shards are still on the zones (the grace period
// is not over) stays deleted.
func TestRebuildIndexKeepsDeletionsDeleted(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := &testClock{now: time.Date(2026, 1, 1, 15, 0, 0, 0, time.UTC)}
	st, err := cellar.Open(ctx, rebuildOpts(dir, clock))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateBucket(ctx, "bkt", nil); err != nil {
		t.Fatal(err)
	}
	b := st.Bucket("bkt")
	for _, k := range []string{"gone", "kept"} {
		if _, err := b.Put(ctx, k, strings.NewReader(k), nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Delete(ctx, "gone", nil); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if n := countZoneBlobs(t, dir, "data/"); n != 2*3 {
		t.Fatalf("%d shard blobs, want the 6 of both (small) objects", n)
	}
	os.RemoveAll(filepath.Join(dir, "index"))
	rep, err := cellar.RebuildIndex(ctx, rebuildOpts(dir, clock), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Versions != 1 || rep.Garbage != 1 {
		t.Errorf("report %+v", rep)
	}
	st, err = cellar.Open(ctx, rebuildOpts(dir, clock))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b = st.Bucket("bkt")
	if _, err := b.Head(ctx, "gone", nil); !errors.Is(err, cellar.ErrNoSuchKey) {
		t.Errorf("deleted object after rebuild: %v", err)
	}
	if _, err := b.Head(ctx, "kept", nil); err != nil {
		t.Errorf("kept object after rebuild: %v", err)
	}
	clock.Set(clock.Now().Add(2 * time.Hour))
	if srep, err := st.Sweep(ctx); err != nil || srep.Deleted != 1 {
		t.Errorf("sweep after rebuild: %+v, %v", srep, err)
	}
	if n := countZoneBlobs(t, dir, "data/"); n != 3 {
		t.Errorf("%d shard blobs after sweep, want the 3 of the kept object", n)
	}
}

// dropUploads removes the uploads in progress from a dump: a rebuild
// drops them.
func dropUploads(dump string) string {
	var out strings.Builder
	for line := range strings.Lines(dump) {
		if !strings.HasPrefix(line, "  upload ") {
			out.WriteString(line)
		}
	}
	return out.String()
}

// countZoneBlobs counts the blobs under prefix in the zone directories of dir.
func countZoneBlobs(t *testing.T, dir, prefix string) int {
	t.Helper()
	n := 0
	for _, z := range []string{"az1", "az2", "az3"} {
		d, err := backend.NewDir(filepath.Join(dir, z))
		if err != nil {
			t.Fatal(err)
		}
		err = d.List(context.Background(), prefix, func(backend.Info) error { n++; return nil })
		if err != nil {
			t.Fatal(err)
		}
	}
	return n
}

func metaBlobs(t *testing.T, st *cellar.Store, prefix string) []string {
	t.Helper()
	var names []string
	for _, z := range st.Zones() {
		if err := z.List(context.Background(), prefix, func(info backend.Info) error {
			names = append(names, info.Name)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	return names
}

// A plain put of a new version writes no zone metadata record: its record
// is in its data's trailers.
func TestPlainPutWritesNoMetaRecord(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, nil)
	if err := st.CreateBucket(ctx, "vers", &cellar.BucketOptions{Versioning: cellar.VersioningEnabled}); err != nil {
		t.Fatal(err)
	}
	before := len(metaBlobs(t, st, "meta/"))
	for i := range 3 {
		if _, err := st.Bucket("vers").Put(ctx, "k", strings.NewReader(fmt.Sprint(i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	if after := len(metaBlobs(t, st, "meta/")); after != before {
		t.Errorf("%d metadata blobs after three puts, %d before", after, before)
	}
	if _, err := st.Bucket("vers").Delete(ctx, "k", nil); err != nil {
		t.Fatal(err)
	}
	if n := len(metaBlobs(t, st, "meta/v/")); n != 3 {
		t.Errorf("delete marker: %d version records, want one on each of 3 zones", n)
	}
}

// Check finds zone metadata records missing or stale; RepairMeta fixes
// them.
func TestCheckAndRepairZoneMeta(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, nil)
	for _, name := range []string{"vers", "other"} {
		if err := st.CreateBucket(ctx, name, &cellar.BucketOptions{Versioning: cellar.VersioningEnabled}); err != nil {
			t.Fatal(err)
		}
	}
	b := st.Bucket("vers")
	if _, err := b.Put(ctx, "k", strings.NewReader("x"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Delete(ctx, "k", nil); err != nil {
		t.Fatal(err)
	}
	rep, err := st.Check(ctx)
	if err != nil || len(rep.Problems) > 0 || rep.MetaDegraded > 0 {
		t.Fatalf("clean store: %+v %v", rep, err)
	}
	// The delete marker's record is lost everywhere, the bucket's on one
	// zone, and a record of a bucket that does not exist appears.
	zones := st.Zones()
	for _, name := range metaBlobs(t, st, "meta/v/") {
		for _, z := range zones {
			z.Delete(ctx, name)
		}
	}
	if err := zones[1].Delete(ctx, "meta/b/vers"); err != nil {
		t.Fatal(err)
	}
	other, err := readZoneBlob(ctx, zones[0], "meta/b/other")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteBucket(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	for _, z := range zones {
		if err := writeZoneBlob(ctx, z, "meta/b/other", other); err != nil {
			t.Fatal(err)
		}
	}
	rep, err = st.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(rep.Problems, "\n")
	// The lost marker record is a problem; the bucket record short of a
	// zone and the record of a bucket the index does not have are
	// degraded: Heal writes them from the index.
	if len(rep.Problems) != 1 || !strings.Contains(joined, "vers/k version") || !strings.Contains(joined, "missing") ||
		rep.MetaDegraded != 2 {
		t.Fatalf("check: %+v", rep)
	}
	n, err := st.RepairMeta(ctx)
	if err != nil || n != 3 {
		t.Errorf("repair fixed %d records: %v", n, err)
	}
	rep, err = st.Check(ctx)
	if err != nil || len(rep.Problems) > 0 || rep.MetaDegraded > 0 {
		t.Fatalf("after repair: %+v %v", rep, err)
	}
}

func readZoneBlob(ctx context.Context, z backend.Backend, name string) ([]byte, error) {
	r, err := z.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
}

func writeZoneBlob(ctx context.Context, z backend.Backend, name string, b []byte) error {
	w, err := z.Create(ctx, name)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		w.Abort()
		return err
	}
	return w.Commit()
}

// Records written while a zone fails reach the others and are written to
// it by Heal once it is back.
func TestZoneMetaHealedAfterZoneFailure(t *testing.T) {
	ctx := context.Background()
	st, zones := faultyStore(t, nil)
	zones[2].SetFailAfter(0)
	if err := st.CreateBucket(ctx, "vers", &cellar.BucketOptions{Versioning: cellar.VersioningEnabled}); err != nil {
		t.Fatal(err)
	}
	b := st.Bucket("vers")
	if _, err := b.Put(ctx, "k", strings.NewReader("x"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Delete(ctx, "k", nil); err != nil {
		t.Fatal(err)
	}
	zones[2].SetFailAfter(-1)
	var on2 int
	countOn2 := func() int {
		n := 0
		zones[2].List(ctx, "meta/", func(backend.Info) error { n++; return nil })
		return n
	}
	if on2 = countOn2(); on2 != 0 {
		t.Fatalf("%d records on the failed zone", on2)
	}
	hrep, err := st.Heal(ctx)
	if err != nil || hrep.MetaHealed != 2 || hrep.MetaPending != 0 {
		t.Fatalf("heal: %+v %v", hrep, err)
	}
	if on2 = countOn2(); on2 != 2 {
		t.Errorf("%d records on the zone after heal, want the bucket's and the marker's", on2)
	}
	rep, err := st.Check(ctx)
	if err != nil || len(rep.Problems) > 0 || rep.MetaDegraded > 0 {
		t.Errorf("check after heal: %+v %v", rep, err)
	}
}

// TestRebuildIndexKeepsStorageClasses rebuilds a store whose objects were
// written in several storage classes, moved by lifecycle transitions and
// restored from GLACIER: every version comes back in its class, with its
// restore state, and the data it was moved to.
func TestRebuildIndexKeepsStorageClasses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := &testClock{now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	st, err := cellar.Open(ctx, rebuildOpts(dir, clock))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateBucket(ctx, "arch", &cellar.BucketOptions{Versioning: cellar.VersioningEnabled}); err != nil {
		t.Fatal(err)
	}
	b := st.Bucket("arch")
	setLifecycle(t, b, archivePolicy)
	body := randBytes(7, 200<<10)
	for _, k := range []string{"logs/a", "logs/b", "logs/c"} {
		if _, err := b.Put(ctx, k, bytes.NewReader(body), nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, class := range []string{cellar.StorageClassOnezoneIA, cellar.StorageClassReducedRedundancy, cellar.StorageClassGlacierIR} {
		if _, err := b.Put(ctx, "direct/"+class, bytes.NewReader(body), &cellar.PutOptions{StorageClass: class}); err != nil {
			t.Fatal(err)
		}
	}
	day := func(n int) time.Time { return time.Date(2026, 1, 1+n+1, 0, 0, 0, 0, time.UTC) }
	clock.Set(day(30))
	if rep, err := st.RunLifecycle(ctx); err != nil || rep.Transitioned != 3 {
		t.Fatalf("day 30: %+v, %v", rep, err)
	}
	// logs/c is overwritten while in STANDARD_IA: its old version stays
	// there, the new one is STANDARD.
	if _, err := b.Put(ctx, "logs/c", strings.NewReader("new c"), nil); err != nil {
		t.Fatal(err)
	}
	clock.Set(day(90))
	if rep, err := st.RunLifecycle(ctx); err != nil || rep.Transitioned != 2 {
		t.Fatalf("day 90: %+v, %v", rep, err)
	}
	if err := b.Restore(ctx, "logs/a", &cellar.RestoreOptions{Days: 5, Tier: cellar.RestoreTierExpedited}); err != nil {
		t.Fatal(err)
	}
	if err := b.Restore(ctx, "logs/b", &cellar.RestoreOptions{Days: 5, Tier: cellar.RestoreTierBulk}); err != nil {
		t.Fatal(err)
	}
	clock.Set(clock.Now().Add(time.Hour)) // logs/a is restored, logs/b is not yet

	dump := func(st *cellar.Store) string {
		t.Helper()
		var out strings.Builder
		for v, err := range st.Bucket("arch").Versions(ctx, nil) {
			if err != nil {
				t.Fatal(err)
			}
			info, err := b.Head(ctx, v.Key, &cellar.GetOptions{VersionID: v.VersionID})
			if err != nil {
				t.Fatal(err)
			}
			restore := "none"
			if r := info.Restore; r != nil {
				restore = fmt.Sprintf("ongoing=%v expiry=%s", r.Ongoing, r.Expiry.Format(time.RFC3339))
			}
			fmt.Fprintf(&out, "%s %s class=%s size=%d etag=%s restore=%s\n", v.Key, v.VersionID, info.StorageClass, info.Size, info.ETag, restore)
			data, err := readObj(t, st.Bucket("arch"), v.Key, &cellar.GetOptions{VersionID: v.VersionID})
			switch {
			case errors.Is(err, cellar.ErrInvalidObjectState):
				fmt.Fprintf(&out, "  archived\n")
			case err != nil:
				t.Fatal(err)
			default:
				fmt.Fprintf(&out, "  sha256 %x\n", sha256.Sum256(data))
			}
		}
		return out.String()
	}
	before := dump(st)
	for _, want := range []string{"class=GLACIER", "class=STANDARD_IA", "class=ONEZONE_IA", "class=REDUCED_REDUNDANCY", "class=GLACIER_IR", "archived", "ongoing=false", "ongoing=true"} {
		if !strings.Contains(before, want) {
			t.Fatalf("store before rebuild lacks %q:\n%s", want, before)
		}
	}
	rep := loseIndexAndRebuild(t, st, dir, clock)
	if rep.Versions != 7 || rep.RecordsUnreadable != 0 || rep.ShardsMissing != 0 {
		t.Errorf("report %+v", rep)
	}
	st, err = cellar.Open(ctx, rebuildOpts(dir, clock))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b = st.Bucket("arch")
	if after := dump(st); after != before {
		t.Errorf("after rebuild:\n%s\nwant:\n%s", after, before)
	}
	crep, err := st.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(crep.Problems) > 0 || crep.Degraded > 0 {
		t.Errorf("check after rebuild: %+v", crep)
	}
	// The restore in progress finishes on the rebuilt index.
	clock.Set(clock.Now().Add(48 * time.Hour))
	if _, err := readObj(t, b, "logs/b", nil); err != nil {
		t.Errorf("logs/b after its restore time: %v", err)
	}
}

// TestRebuildIndexSkipsIncompleteData checks that data with fewer than k
// shards on the zones, as a write killed while its shards were committing
// leaves, is not recovered as a version: it would shadow the version
// before it with one that cannot be read.
func TestRebuildIndexSkipsIncompleteData(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := &testClock{now: time.Date(2026, 1, 1, 15, 0, 0, 0, time.UTC)}
	st, err := cellar.Open(ctx, rebuildOpts(dir, clock))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateBucket(ctx, "bkt", &cellar.BucketOptions{Versioning: cellar.VersioningEnabled}); err != nil {
		t.Fatal(err)
	}
	b := st.Bucket("bkt")
	if _, err := b.Put(ctx, "k", strings.NewReader("first"), nil); err != nil {
		t.Fatal(err)
	}
	before := map[string]bool{}
	for _, z := range st.Zones() {
		z.List(ctx, "", func(info backend.Info) error { before[info.Name] = true; return nil })
	}
	// Over SmallObjectSize, so RS(4,2).
	if _, err := b.Put(ctx, "k", strings.NewReader(strings.Repeat("second, cut short. ", 300)), nil); err != nil {
		t.Fatal(err)
	}
	// Leave 3 of the second version's 6 shards: fewer than k = 4.
	removed := 0
	for _, z := range st.Zones() {
		var names []string
		z.List(ctx, "data/", func(info backend.Info) error {
			if !before[info.Name] {
				names = append(names, info.Name)
			}
			return nil
		})
		for _, name := range names {
			if removed < 3 {
				if err := z.Delete(ctx, name); err != nil {
					t.Fatal(err)
				}
				removed++
			}
		}
	}
	if removed != 3 {
		t.Fatalf("removed %d shards, want 3", removed)
	}
	rep := loseIndexAndRebuild(t, st, dir, clock)
	if rep.DataIncomplete != 1 || rep.Versions != 1 || rep.ShardsMissing != 0 {
		t.Errorf("report %+v, want 1 incomplete data set and 1 version", rep)
	}
	st, err = cellar.Open(ctx, rebuildOpts(dir, clock))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := readObj(t, st.Bucket("bkt"), "k", nil)
	if err != nil || string(got) != "first" {
		t.Errorf("k after rebuild: %q, %v; want the first version", got, err)
	}
}

// loseIndexAndRebuild closes st, removes its index and rebuilds it from the
// zones.
func loseIndexAndRebuild(t *testing.T, st *cellar.Store, dir string, clock *testClock) cellar.RebuildReport {
	t.Helper()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "index")); err != nil {
		t.Fatal(err)
	}
	rep, err := cellar.RebuildIndex(context.Background(), rebuildOpts(dir, clock), nil)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}
