package cellar_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cellarhq/cellar"
)

func TestCopyWithinAndAcrossBuckets(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	src := newBucket(t, s, "copy-src")
	dst := newBucket(t, s, "copy-dst")
	data := randBytes(1, 5*64<<10+17) // several blocks and a partial one
	put, err := src.Put(ctx, "orig", bytes.NewReader(data), &cellar.PutOptions{
		ContentType: "text/plain",
		Metadata:    map[string]string{"Color": "blue"},
		Tags:        map[string]string{"team": "infra", "env": "prod"},
	})
	if err != nil {
		t.Fatal(err)
	}
	blobsBefore := countBlobs(t, s)

	for _, tc := range []struct {
		b   *cellar.Bucket
		key string
	}{{src, "same-bucket"}, {dst, "other-bucket"}, {dst, "orig"}} {
		res, err := tc.b.CopyObject(ctx, tc.key, "copy-src", "orig", nil)
		if err != nil {
			t.Fatalf("copy to %s/%s: %v", tc.b.Name(), tc.key, err)
		}
		o := res.Object
		if o.Bucket != tc.b.Name() || o.Key != tc.key || o.ETag != put.ETag || o.Size != int64(len(data)) ||
			o.VersionID != "null" || !o.IsLatest || o.TagCount != 2 || o.LastModified.IsZero() || res.SourceVersionID != "null" {
			t.Fatalf("copy to %s/%s: result %+v", tc.b.Name(), tc.key, res)
		}
		if got := readAll(t, tc.b, tc.key, nil); !bytes.Equal(got, data) {
			t.Fatalf("copy to %s/%s: bytes differ", tc.b.Name(), tc.key)
		}
		h, err := tc.b.Head(ctx, tc.key, nil)
		if err != nil || h.ContentType != "text/plain" || h.Metadata["color"] != "blue" || h.ETag != put.ETag || h.TagCount != 2 {
			t.Fatalf("head of copy: %+v %v", h, err)
		}
		tags, _, err := tc.b.GetObjectTagging(ctx, tc.key, nil)
		if err != nil || !maps.Equal(tags, map[string]string{"team": "infra", "env": "prod"}) {
			t.Fatalf("tags of copy: %v %v", tags, err)
		}
	}
	// Each copy has data of its own.
	if n := countBlobs(t, s); n != 4*blobsBefore {
		t.Fatalf("%d blobs after three copies, want %d", n, 4*blobsBefore)
	}

	// Deleting the source leaves the copies intact, even once its data is
	// swept; deleting a copy leaves the others.
	if _, err := src.Delete(ctx, "orig", nil); err != nil {
		t.Fatal(err)
	}
	assertNoGarbage(t, s)
	if n := countBlobs(t, s); n != 3*blobsBefore {
		t.Fatalf("%d blobs after deleting the source, want %d", n, 3*blobsBefore)
	}
	if _, err := dst.Delete(ctx, "other-bucket", nil); err != nil {
		t.Fatal(err)
	}
	assertNoGarbage(t, s)
	if got := readAll(t, src, "same-bucket", nil); !bytes.Equal(got, data) {
		t.Fatal("copy changed by deleting its source and a sibling")
	}
	if got := readAll(t, dst, "orig", nil); !bytes.Equal(got, data) {
		t.Fatal("copy changed by deleting its source and a sibling")
	}
	// And the other way round: deleting a copy leaves its source.
	if _, err := src.CopyObject(ctx, "again", "copy-dst", "orig", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := dst.Delete(ctx, "orig", nil); err != nil {
		t.Fatal(err)
	}
	assertNoGarbage(t, s)
	if got := readAll(t, src, "again", nil); !bytes.Equal(got, data) {
		t.Fatal("copy changed by deleting its source")
	}
}

func TestCopyFromVersion(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "copy-ver")
	v0 := randBytes(10, 70_000)
	if _, err := b.Put(ctx, "k", bytes.NewReader(v0), nil); err != nil { // the null version
		t.Fatal(err)
	}
	if err := b.SetVersioning(ctx, cellar.VersioningEnabled); err != nil {
		t.Fatal(err)
	}
	v1 := randBytes(11, 80_000)
	first, err := b.Put(ctx, "k", bytes.NewReader(v1), &cellar.PutOptions{Metadata: map[string]string{"rev": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	v2 := randBytes(12, 90_000)
	if _, err := b.Put(ctx, "k", bytes.NewReader(v2), &cellar.PutOptions{Metadata: map[string]string{"rev": "2"}}); err != nil {
		t.Fatal(err)
	}

	// Restore the first versioned put by copying it onto its own key: a
	// named version makes the copy legal even with the COPY directive.
	res, err := b.CopyObject(ctx, "k", "copy-ver", "k", &cellar.CopyOptions{SourceVersionID: first.VersionID})
	if err != nil {
		t.Fatal(err)
	}
	if res.SourceVersionID != first.VersionID || res.Object.VersionID == first.VersionID || res.Object.VersionID == "null" || res.Object.ETag != first.ETag {
		t.Fatalf("restore: %+v", res)
	}
	if got := readAll(t, b, "k", nil); !bytes.Equal(got, v1) {
		t.Fatal("restored bytes differ from the first version")
	}
	if h, _ := b.Head(ctx, "k", nil); h.Metadata["rev"] != "1" || h.VersionID != res.Object.VersionID {
		t.Fatalf("restored head: %+v", h)
	}
	// Every version is still there.
	for id, want := range map[string][]byte{"null": v0, first.VersionID: v1, res.Object.VersionID: v1} {
		if got := readAll(t, b, "k", &cellar.GetOptions{VersionID: id}); !bytes.Equal(got, want) {
			t.Fatalf("version %s differs", id)
		}
	}
	// The null version, to another key.
	res, err = b.CopyObject(ctx, "from-null", "copy-ver", "k", &cellar.CopyOptions{SourceVersionID: "null"})
	if err != nil || res.SourceVersionID != "null" {
		t.Fatalf("copy of the null version: %+v %v", res, err)
	}
	if got := readAll(t, b, "from-null", nil); !bytes.Equal(got, v0) {
		t.Fatal("copy of the null version differs")
	}
	assertNoGarbage(t, s)
}

func TestCopyDirectives(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "directives")
	srcTags := map[string]string{"a": "1"}
	if _, err := b.Put(ctx, "src", strings.NewReader("hello"), &cellar.PutOptions{
		ContentType: "text/plain", Metadata: map[string]string{"k": "v"}, Tags: srcTags,
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		o        cellar.CopyOptions
		ctype    string
		md, tags map[string]string
	}{
		{"default copies", cellar.CopyOptions{}, "text/plain", map[string]string{"k": "v"}, srcTags},
		{"explicit COPY", cellar.CopyOptions{MetadataDirective: "COPY", TaggingDirective: "COPY"}, "text/plain", map[string]string{"k": "v"}, srcTags},
		{"replace metadata", cellar.CopyOptions{MetadataDirective: "REPLACE", ContentType: "image/png", Metadata: map[string]string{"New": "x"}},
			"image/png", map[string]string{"new": "x"}, srcTags},
		{"replace metadata with nothing", cellar.CopyOptions{MetadataDirective: "REPLACE"}, "binary/octet-stream", nil, srcTags},
		{"replace tags", cellar.CopyOptions{TaggingDirective: "REPLACE", Tags: map[string]string{"b": "2", "c": ""}},
			"text/plain", map[string]string{"k": "v"}, map[string]string{"b": "2", "c": ""}},
		{"replace tags with none", cellar.CopyOptions{TaggingDirective: "REPLACE"}, "text/plain", map[string]string{"k": "v"}, nil},
		{"replace both", cellar.CopyOptions{MetadataDirective: "REPLACE", TaggingDirective: "REPLACE", Tags: map[string]string{"z": "9"}},
			"binary/octet-stream", nil, map[string]string{"z": "9"}},
	} {
		key := "dst/" + strings.ReplaceAll(tc.name, " ", "-")
		res, err := b.CopyObject(ctx, key, "directives", "src", &tc.o)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		h, err := b.Head(ctx, key, nil)
		if err != nil {
			t.Fatal(err)
		}
		if h.ContentType != tc.ctype || !maps.Equal(h.Metadata, tc.md) || h.TagCount != len(tc.tags) || res.Object.TagCount != len(tc.tags) {
			t.Errorf("%s: head %+v", tc.name, h)
		}
		tags, _, err := b.GetObjectTagging(ctx, key, nil)
		if err != nil || !maps.Equal(tags, tc.tags) && len(tags)+len(tc.tags) > 0 {
			t.Errorf("%s: tags %v %v, want %v", tc.name, tags, err, tc.tags)
		}
		if string(readAll(t, b, key, nil)) != "hello" {
			t.Errorf("%s: bytes differ", tc.name)
		}
	}
	blobs := countBlobs(t, s)
	for _, tc := range []struct {
		name string
		o    cellar.CopyOptions
		want error
	}{
		{"unknown metadata directive", cellar.CopyOptions{MetadataDirective: "MERGE"}, cellar.ErrInvalidArgument},
		{"lowercase directive", cellar.CopyOptions{MetadataDirective: "replace"}, cellar.ErrInvalidArgument},
		{"unknown tagging directive", cellar.CopyOptions{TaggingDirective: "KEEP"}, cellar.ErrInvalidArgument},
		{"metadata with COPY", cellar.CopyOptions{Metadata: map[string]string{"a": "b"}}, cellar.ErrInvalidArgument},
		{"content type with COPY", cellar.CopyOptions{ContentType: "text/html"}, cellar.ErrInvalidArgument},
		{"tags with COPY", cellar.CopyOptions{Tags: map[string]string{"a": "b"}}, cellar.ErrInvalidArgument},
		{"bad metadata name", cellar.CopyOptions{MetadataDirective: "REPLACE", Metadata: map[string]string{"bad name": "v"}}, cellar.ErrInvalidMetadata},
		{"metadata too large", cellar.CopyOptions{MetadataDirective: "REPLACE", Metadata: map[string]string{"a": strings.Repeat("v", 2048)}}, cellar.ErrMetadataTooLarge},
		{"bad tag", cellar.CopyOptions{TaggingDirective: "REPLACE", Tags: map[string]string{"aws:x": "v"}}, cellar.ErrInvalidTag},
		{"too many tags", cellar.CopyOptions{TaggingDirective: "REPLACE", Tags: manyTags(11)}, cellar.ErrTooManyTags},
		{"bad destination If-None-Match", cellar.CopyOptions{IfNoneMatch: `"abc"`}, cellar.ErrInvalidArgument},
	} {
		if _, err := b.CopyObject(ctx, "refused", "directives", "src", &tc.o); !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := b.Head(ctx, "refused", nil); !errors.Is(err, cellar.ErrNoSuchKey) {
		t.Fatalf("a refused copy made an object: %v", err)
	}
	if n := countBlobs(t, s); n != blobs {
		t.Fatalf("refused copies left %d blobs, had %d", n, blobs)
	}
	assertNoGarbage(t, s)
}

func manyTags(n int) map[string]string {
	m := make(map[string]string, n)
	for i := range n {
		m[fmt.Sprintf("k%d", i)] = "v"
	}
	return m
}

func TestCopySourceConditions(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	opts := smallOpts()
	opts.Clock = func() time.Time { return now }
	s := newStore(t, opts)
	b := newBucket(t, s, "copy-cond")
	info, err := b.Put(ctx, "src", strings.NewReader("hello"), nil)
	if err != nil {
		t.Fatal(err)
	}
	etag := `"` + info.ETag + `"`
	before, after := now.Add(-time.Hour), now.Add(time.Hour)
	// S3 evaluates the copy-source conditions as Get does, except that
	// every failure is 412 Precondition Failed.
	for _, tc := range []struct {
		name string
		o    cellar.CopyOptions
		fail bool
	}{
		{"if-match ok", cellar.CopyOptions{CopySourceIfMatch: etag}, false},
		{"if-match unquoted", cellar.CopyOptions{CopySourceIfMatch: info.ETag}, false},
		{"if-match list", cellar.CopyOptions{CopySourceIfMatch: `"x", ` + etag}, false},
		{"if-match star", cellar.CopyOptions{CopySourceIfMatch: "*"}, false},
		{"if-match fails", cellar.CopyOptions{CopySourceIfMatch: `"nope"`}, true},
		{"if-none-match hits", cellar.CopyOptions{CopySourceIfNoneMatch: etag}, true},
		{"if-none-match star", cellar.CopyOptions{CopySourceIfNoneMatch: "*"}, true},
		{"if-none-match misses", cellar.CopyOptions{CopySourceIfNoneMatch: `"nope"`}, false},
		{"if-modified-since before", cellar.CopyOptions{CopySourceIfModifiedSince: before}, false},
		{"if-modified-since at modification", cellar.CopyOptions{CopySourceIfModifiedSince: now}, true},
		{"if-modified-since in the future is ignored", cellar.CopyOptions{CopySourceIfModifiedSince: after}, false},
		{"if-unmodified-since after", cellar.CopyOptions{CopySourceIfUnmodifiedSince: after}, false},
		{"if-unmodified-since at modification", cellar.CopyOptions{CopySourceIfUnmodifiedSince: now}, false},
		{"if-unmodified-since before", cellar.CopyOptions{CopySourceIfUnmodifiedSince: before}, true},
		// S3: if-match true and if-unmodified-since false: 200, copied.
		{"match beats unmodified-since", cellar.CopyOptions{CopySourceIfMatch: etag, CopySourceIfUnmodifiedSince: before}, false},
		{"failed match with true unmodified-since", cellar.CopyOptions{CopySourceIfMatch: `"x"`, CopySourceIfUnmodifiedSince: after}, true},
		// S3: if-none-match false and if-modified-since true: 412.
		{"none-match beats modified-since", cellar.CopyOptions{CopySourceIfNoneMatch: etag, CopySourceIfModifiedSince: before}, true},
		{"true none-match overrides modified-since", cellar.CopyOptions{CopySourceIfNoneMatch: `"x"`, CopySourceIfModifiedSince: now}, false},
		{"match and none-match both hold", cellar.CopyOptions{CopySourceIfMatch: etag, CopySourceIfNoneMatch: `"x"`}, false},
		{"match holds, none-match fails", cellar.CopyOptions{CopySourceIfMatch: etag, CopySourceIfNoneMatch: etag}, true},
		{"all four hold", cellar.CopyOptions{CopySourceIfMatch: etag, CopySourceIfNoneMatch: `"x"`, CopySourceIfModifiedSince: before, CopySourceIfUnmodifiedSince: after}, false},
	} {
		key := "dst/" + strings.ReplaceAll(tc.name, " ", "-")
		_, err := b.CopyObject(ctx, key, "copy-cond", "src", &tc.o)
		switch {
		case tc.fail && !errors.Is(err, cellar.ErrPreconditionFailed):
			t.Errorf("%s: err %v, want ErrPreconditionFailed", tc.name, err)
		case tc.fail && errors.Is(err, cellar.ErrNotModified):
			t.Errorf("%s: err %v is ErrNotModified", tc.name, err)
		case !tc.fail && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		}
		_, herr := b.Head(ctx, key, nil)
		if tc.fail != errors.Is(herr, cellar.ErrNoSuchKey) {
			t.Errorf("%s: destination after copy: %v", tc.name, herr)
		}
	}
	assertNoGarbage(t, s)
}

func TestCopyOntoItself(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "self")
	data := randBytes(5, 100_000)
	orig, err := b.Put(ctx, "k", bytes.NewReader(data), &cellar.PutOptions{Metadata: map[string]string{"a": "1"}, Tags: map[string]string{"t": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []*cellar.CopyOptions{
		nil,
		{MetadataDirective: "COPY"},
		// Tags alone do not make a copy onto itself legal in S3.
		{TaggingDirective: "REPLACE", Tags: map[string]string{"t": "2"}},
	} {
		_, err := b.CopyObject(ctx, "k", "self", "k", o)
		if !errors.Is(err, cellar.ErrInvalidRequest) || !strings.Contains(err.Error(), "copy an object to itself") {
			t.Fatalf("copy onto itself with %+v: %v", o, err)
		}
	}
	if h, _ := b.Head(ctx, "k", nil); !h.LastModified.Equal(orig.LastModified) || h.TagCount != 1 {
		t.Fatalf("a refused copy changed the object: %+v", h)
	}
	// REPLACE is the way to change an object's metadata in place, even to
	// the same metadata.
	for _, md := range []map[string]string{{"a": "1"}, {"b": "2"}} {
		res, err := b.CopyObject(ctx, "k", "self", "k", &cellar.CopyOptions{MetadataDirective: "REPLACE", ContentType: "text/csv", Metadata: md})
		if err != nil {
			t.Fatalf("copy onto itself with REPLACE: %v", err)
		}
		if res.Object.ETag != orig.ETag || res.Object.TagCount != 1 {
			t.Fatalf("replace in place: %+v", res)
		}
		h, err := b.Head(ctx, "k", nil)
		if err != nil || h.ContentType != "text/csv" || !maps.Equal(h.Metadata, md) {
			t.Fatalf("after replace in place: %+v %v", h, err)
		}
		if got := readAll(t, b, "k", nil); !bytes.Equal(got, data) {
			t.Fatal("replace in place changed the bytes")
		}
	}
	// The replaced null versions' data goes; only the current copy's stays.
	assertNoGarbage(t, s)
	if got := readAll(t, b, "k", nil); !bytes.Equal(got, data) {
		t.Fatal("sweep after replace in place lost the bytes")
	}
}

func TestCopySourceMissing(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "missing")
	if err := b.SetVersioning(ctx, cellar.VersioningEnabled); err != nil {
		t.Fatal(err)
	}
	live, err := b.Put(ctx, "live", strings.NewReader("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Put(ctx, "gone", strings.NewReader("y"), nil); err != nil {
		t.Fatal(err)
	}
	del, err := b.Delete(ctx, "gone", nil)
	if err != nil || !del.DeleteMarker {
		t.Fatalf("delete: %+v %v", del, err)
	}
	blobs := countBlobs(t, s)
	for _, tc := range []struct {
		name               string
		dst, srcBucket     string
		srcKey, dstKey, id string
		want               []error
	}{
		{"missing key", "missing", "missing", "nope", "d", "", []error{cellar.ErrNoSuchKey, fs.ErrNotExist}},
		{"missing source bucket", "missing", "no-bucket", "live", "d", "", []error{cellar.ErrNoSuchBucket}},
		{"bad source bucket", "missing", "No_Bucket", "live", "d", "", []error{cellar.ErrInvalidBucketName}},
		{"missing destination bucket", "no-bucket", "missing", "live", "d", "", []error{cellar.ErrNoSuchBucket}},
		{"bad source key", "missing", "missing", "", "d", "", []error{cellar.ErrInvalidKey}},
		{"bad destination key", "missing", "missing", "live", "", "", []error{cellar.ErrInvalidKey}},
		{"delete marker current", "missing", "missing", "gone", "d", "", []error{cellar.ErrNoSuchKey}},
		{"missing version", "missing", "missing", "live", "d", "0000000000000001aaaaaaaaaaaaaaaa", []error{cellar.ErrNoSuchVersion}},
		{"version of another key", "missing", "missing", "gone", "d", live.VersionID, []error{cellar.ErrNoSuchVersion}},
		{"malformed version", "missing", "missing", "live", "d", "abc", []error{cellar.ErrInvalidRequest}},
		{"delete marker by version", "missing", "missing", "gone", "d", del.VersionID, []error{cellar.ErrInvalidRequest}},
	} {
		_, err := s.Bucket(tc.dst).CopyObject(ctx, tc.dstKey, tc.srcBucket, tc.srcKey, &cellar.CopyOptions{SourceVersionID: tc.id})
		for _, want := range tc.want {
			if !errors.Is(err, want) {
				t.Errorf("%s: err %v, want %v", tc.name, err, want)
			}
		}
	}
	// A hidden source says which delete marker hides it, as S3 does.
	_, err = b.CopyObject(ctx, "d", "missing", "gone", nil)
	var dm *cellar.DeleteMarkerError
	if !errors.As(err, &dm) || dm.VersionID != del.VersionID {
		t.Fatalf("copy of a deleted key: %v", err)
	}
	_, err = b.CopyObject(ctx, "d", "missing", "gone", &cellar.CopyOptions{SourceVersionID: del.VersionID})
	if !strings.Contains(fmt.Sprint(err), "may not specifically refer to a delete marker") {
		t.Fatalf("copy of a delete marker by version: %v", err)
	}
	if _, err := b.Head(ctx, "d", nil); !errors.Is(err, cellar.ErrNoSuchKey) {
		t.Fatalf("failed copies made an object: %v", err)
	}
	if n := countBlobs(t, s); n != blobs {
		t.Fatalf("failed copies left %d blobs, had %d", n, blobs)
	}
	assertNoGarbage(t, s)
}

func TestCopyDestinationConditions(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "dst-cond")
	if _, err := b.Put(ctx, "src", strings.NewReader("source"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.CopyObject(ctx, "dst", "dst-cond", "src", &cellar.CopyOptions{IfMatch: "abc"}); !errors.Is(err, cellar.ErrNoSuchKey) {
		t.Fatalf("If-Match on a missing destination: %v", err)
	}
	first, err := b.CopyObject(ctx, "dst", "dst-cond", "src", &cellar.CopyOptions{IfNoneMatch: "*"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.CopyObject(ctx, "dst", "dst-cond", "src", &cellar.CopyOptions{IfNoneMatch: "*"}); !errors.Is(err, cellar.ErrPreconditionFailed) {
		t.Fatalf("second create: %v", err)
	}
	if _, err := b.CopyObject(ctx, "dst", "dst-cond", "src", &cellar.CopyOptions{IfMatch: `"0123"`}); !errors.Is(err, cellar.ErrPreconditionFailed) {
		t.Fatalf("If-Match with a wrong ETag: %v", err)
	}
	second, err := b.CopyObject(ctx, "dst", "dst-cond", "src", &cellar.CopyOptions{IfMatch: `"` + first.Object.ETag + `"`})
	if err != nil || second.Object.LastModified.Before(first.Object.LastModified) {
		t.Fatalf("If-Match with the right ETag: %+v %v", second, err)
	}
	assertNoGarbage(t, s)
}

func TestCopyIfNoneMatchRace(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "copy-race")
	const writers = 6
	for i := range writers {
		if _, err := b.Put(ctx, fmt.Sprintf("src%d", i), bytes.NewReader(randBytes(uint64(i), 100_000)), nil); err != nil {
			t.Fatal(err)
		}
	}
	for round := range 3 {
		key := fmt.Sprintf("dst%d", round)
		var wins, fails atomic.Int32
		var winner atomic.Int32
		var wg sync.WaitGroup
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := b.CopyObject(ctx, key, "copy-race", fmt.Sprintf("src%d", i), &cellar.CopyOptions{IfNoneMatch: "*"})
				switch {
				case err == nil:
					wins.Add(1)
					winner.Store(int32(i))
				case errors.Is(err, cellar.ErrPreconditionFailed):
					fails.Add(1)
				default:
					t.Errorf("unexpected error: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 || fails.Load() != writers-1 {
			t.Fatalf("round %d: %d wins, %d fails", round, wins.Load(), fails.Load())
		}
		if got := readAll(t, b, key, nil); !bytes.Equal(got, randBytes(uint64(winner.Load()), 100_000)) {
			t.Fatalf("round %d: the winner's bytes are not the object", round)
		}
	}
	assertNoGarbage(t, s)
}

func TestCopyLargeWithZoneOffline(t *testing.T) {
	ctx := context.Background()
	s, zones := faultyStore(t, nil)
	src := newBucket(t, s, "big-src")
	dst := newBucket(t, s, "big-dst")
	data := randBytes(42, 12*64<<10+999) // 13 erasure blocks
	put, err := src.Put(ctx, "big", bytes.NewReader(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	// With a zone offline the source is read from parity and the copy is
	// written to the zones that are up.
	zones[1].SetOffline(true)
	res, err := dst.CopyObject(ctx, "copy", "big-src", "big", nil)
	if err != nil {
		t.Fatalf("copy with a zone offline: %v", err)
	}
	if res.Object.ETag != put.ETag || res.Object.Size != int64(len(data)) {
		t.Fatalf("copy: %+v", res.Object)
	}
	if got := readAll(t, dst, "copy", nil); !bytes.Equal(got, data) {
		t.Fatal("copy reads back wrong with the zone still offline")
	}
	// Two zones down: the copy fails on quorum and leaves nothing.
	zones[0].SetOffline(true)
	if _, err := dst.CopyObject(ctx, "copy2", "big-src", "big", nil); err == nil {
		t.Fatal("copy with two of three zones offline succeeded")
	}
	zones[0].SetOffline(false)
	zones[1].SetOffline(false)
	if _, err := dst.Head(ctx, "copy2", nil); !errors.Is(err, cellar.ErrNoSuchKey) {
		t.Fatalf("failed copy made an object: %v", err)
	}
	// The copy is degraded until healed, then survives any one zone.
	rep, err := s.Check(ctx)
	if err != nil || len(rep.Problems) > 0 || rep.Degraded != 1 {
		t.Fatalf("check: %+v %v", rep, err)
	}
	if hrep, err := s.Heal(ctx); err != nil || hrep.Pending != 0 {
		t.Fatalf("heal: %+v %v", hrep, err)
	}
	if _, err := src.Delete(ctx, "big", nil); err != nil {
		t.Fatal(err)
	}
	assertNoGarbage(t, s)
	for zi := range zones {
		zones[zi].SetOffline(true)
		if got := readAll(t, dst, "copy", nil); !bytes.Equal(got, data) {
			t.Fatalf("copy with zone %d offline after heal: wrong bytes", zi)
		}
		zones[zi].SetOffline(false)
	}
}

func TestCopyCancelled(t *testing.T) {
	s := newStore(t, nil)
	b := newBucket(t, s, "copy-cancel")
	data := randBytes(3, 400_000)
	if _, err := b.Put(context.Background(), "src", bytes.NewReader(data), nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.CopyObject(ctx, "dst", "copy-cancel", "src", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled copy: %v", err)
	}
	if _, err := b.Head(context.Background(), "dst", nil); !errors.Is(err, cellar.ErrNoSuchKey) {
		t.Fatalf("cancelled copy made an object: %v", err)
	}
	assertNoGarbage(t, s)
}
