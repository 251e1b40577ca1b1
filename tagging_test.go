package cellar_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"

	"github.com/cellarhq/cellar"
	"github.com/cellarhq/cellar/index"
)

func TestTaggingPerVersion(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "tagging")
	if err := b.SetVersioning(ctx, cellar.VersioningEnabled); err != nil {
		t.Fatal(err)
	}
	v1, err := b.Put(ctx, "k", strings.NewReader("one"), &cellar.PutOptions{Tags: map[string]string{"rev": "1", "env": "dev"}})
	if err != nil {
		t.Fatal(err)
	}
	if v1.TagCount != 2 {
		t.Fatalf("put with tags: TagCount %d", v1.TagCount)
	}
	v2, err := b.Put(ctx, "k", strings.NewReader("two"), nil)
	if err != nil {
		t.Fatal(err)
	}
	tagsOf := func(id string) map[string]string {
		t.Helper()
		tags, gotID, err := b.GetObjectTagging(ctx, "k", &cellar.TaggingOptions{VersionID: id})
		if err != nil {
			t.Fatalf("get tagging of %q: %v", id, err)
		}
		if tags == nil {
			t.Fatal("GetObjectTagging returned a nil map")
		}
		if want := id; want != "" && gotID != want || id == "" && gotID != v2.VersionID {
			t.Fatalf("get tagging of %q answered for version %s", id, gotID)
		}
		return tags
	}
	if tags := tagsOf(""); len(tags) != 0 {
		t.Fatalf("current version has tags %v", tags)
	}
	if tags := tagsOf(v1.VersionID); !maps.Equal(tags, map[string]string{"rev": "1", "env": "dev"}) {
		t.Fatalf("tags set at put: %v", tags)
	}

	// Tag the current version: the version record and the latest pointer
	// change together; ETag and LastModified do not.
	id, err := b.PutObjectTagging(ctx, "k", map[string]string{"rev": "2"}, nil)
	if err != nil || id != v2.VersionID {
		t.Fatalf("put tagging on current: %q %v", id, err)
	}
	for _, o := range []*cellar.GetOptions{nil, {VersionID: v2.VersionID}} {
		h, err := b.Head(ctx, "k", o)
		if err != nil || h.TagCount != 1 || h.ETag != v2.ETag || !h.LastModified.Equal(v2.LastModified) {
			t.Fatalf("head %+v after tagging: %+v %v", o, h, err)
		}
	}
	if tags := tagsOf(v2.VersionID); !maps.Equal(tags, map[string]string{"rev": "2"}) {
		t.Fatalf("tags after put tagging: %v", tags)
	}
	if tags := tagsOf(v1.VersionID); len(tags) != 2 {
		t.Fatalf("tagging the current version changed an older one: %v", tags)
	}
	// Listing reads the latest pointer, which carries the new tags too.
	page, err := b.List(ctx, nil)
	if err != nil || len(page.Objects) != 1 || page.Objects[0].TagCount != 1 {
		t.Fatalf("list after tagging: %+v %v", page, err)
	}

	// Tag an older version: only it changes.
	if id, err := b.PutObjectTagging(ctx, "k", map[string]string{"old": "yes"}, &cellar.TaggingOptions{VersionID: v1.VersionID}); err != nil || id != v1.VersionID {
		t.Fatalf("put tagging on an old version: %q %v", id, err)
	}
	if tags := tagsOf(v1.VersionID); !maps.Equal(tags, map[string]string{"old": "yes"}) {
		t.Fatalf("old version tags: %v", tags)
	}
	if tags := tagsOf(""); !maps.Equal(tags, map[string]string{"rev": "2"}) {
		t.Fatalf("tagging an old version changed the current one: %v", tags)
	}
	h1, err := b.Head(ctx, "k", &cellar.GetOptions{VersionID: v1.VersionID})
	if err != nil || h1.ETag != v1.ETag || !h1.LastModified.Equal(v1.LastModified) || h1.TagCount != 1 || h1.IsLatest {
		t.Fatalf("old version after tagging: %+v %v", h1, err)
	}

	// Delete the tags of each.
	if id, err := b.DeleteObjectTagging(ctx, "k", nil); err != nil || id != v2.VersionID {
		t.Fatalf("delete tagging: %q %v", id, err)
	}
	if id, err := b.DeleteObjectTagging(ctx, "k", &cellar.TaggingOptions{VersionID: v1.VersionID}); err != nil || id != v1.VersionID {
		t.Fatalf("delete tagging of old version: %q %v", id, err)
	}
	if len(tagsOf("")) != 0 || len(tagsOf(v1.VersionID)) != 0 {
		t.Fatal("tags left after delete tagging")
	}
	if h, _ := b.Head(ctx, "k", nil); h.TagCount != 0 {
		t.Fatalf("TagCount %d after delete tagging", h.TagCount)
	}
	// Deleting the current version makes the older, tagged-and-untagged
	// one current again, with its own tags.
	if _, err := b.PutObjectTagging(ctx, "k", map[string]string{"back": "1"}, &cellar.TaggingOptions{VersionID: v1.VersionID}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Delete(ctx, "k", &cellar.DeleteOptions{VersionID: v2.VersionID}); err != nil {
		t.Fatal(err)
	}
	if h, _ := b.Head(ctx, "k", nil); h.VersionID != v1.VersionID || h.TagCount != 1 {
		t.Fatalf("after removing the current version: %+v", h)
	}
	assertNoGarbage(t, s) // Check: latest pointers agree with the versions
}

func TestTaggingUnversioned(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "tag-null")
	if _, err := b.Put(ctx, "k", strings.NewReader("x"), nil); err != nil {
		t.Fatal(err)
	}
	id, err := b.PutObjectTagging(ctx, "k", map[string]string{"a": "b"}, nil)
	if err != nil || id != "null" {
		t.Fatalf("put tagging: %q %v", id, err)
	}
	tags, id, err := b.GetObjectTagging(ctx, "k", &cellar.TaggingOptions{VersionID: "null"})
	if err != nil || id != "null" || tags["a"] != "b" {
		t.Fatalf("get tagging of the null version: %v %q %v", tags, id, err)
	}
	// An overwrite is a new object with its own (no) tags, as in S3.
	if _, err := b.Put(ctx, "k", strings.NewReader("y"), nil); err != nil {
		t.Fatal(err)
	}
	if tags, _, _ := b.GetObjectTagging(ctx, "k", nil); len(tags) != 0 {
		t.Fatalf("overwrite kept tags %v", tags)
	}
	assertNoGarbage(t, s)
}

func TestTaggingLimits(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "tag-limits")
	orig := map[string]string{"keep": "me"}
	info, err := b.Put(ctx, "k", strings.NewReader("x"), &cellar.PutOptions{Tags: orig})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		tags map[string]string
		want error
	}{
		{"11 tags", manyTags(11), cellar.ErrTooManyTags},
		{"129-character key", map[string]string{strings.Repeat("k", 129): "v"}, cellar.ErrInvalidTag},
		{"129 multibyte characters", map[string]string{strings.Repeat("é", 129): "v"}, cellar.ErrInvalidTag},
		{"257-character value", map[string]string{"k": strings.Repeat("v", 257)}, cellar.ErrInvalidTag},
		{"empty key", map[string]string{"": "v"}, cellar.ErrInvalidTag},
		{"bad character in key", map[string]string{"a*b": "v"}, cellar.ErrInvalidTag},
		{"bad character in value", map[string]string{"k": "line\nbreak"}, cellar.ErrInvalidTag},
		{"ampersand", map[string]string{"k": "a&b"}, cellar.ErrInvalidTag},
		{"invalid UTF-8", map[string]string{"k": "\xff"}, cellar.ErrInvalidTag},
		{"aws: prefix", map[string]string{"aws:cloudformation": "v"}, cellar.ErrInvalidTag},
		{"AWS: prefix any case", map[string]string{"AWS:x": "v"}, cellar.ErrInvalidTag},
	} {
		if _, err := b.PutObjectTagging(ctx, "k", tc.tags, nil); !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
		if _, err := b.Put(ctx, "other", strings.NewReader("y"), &cellar.PutOptions{Tags: tc.tags}); !errors.Is(err, tc.want) {
			t.Errorf("%s at put: err %v, want %v", tc.name, err, tc.want)
		}
		tags, _, err := b.GetObjectTagging(ctx, "k", nil)
		if err != nil || !maps.Equal(tags, orig) {
			t.Fatalf("%s: refused tags changed the object: %v %v", tc.name, tags, err)
		}
	}
	if _, err := b.Head(ctx, "other", nil); !errors.Is(err, cellar.ErrNoSuchKey) {
		t.Fatalf("put with bad tags made an object: %v", err)
	}
	// The limits themselves are allowed.
	for _, tags := range []map[string]string{
		manyTags(10),
		{strings.Repeat("k", 128): strings.Repeat("v", 256)},
		{strings.Repeat("ü", 128): strings.Repeat("ß", 256)},
		{"Key with spaces + - = . _ : / @": "Value with spaces + - = . _ : / @ 123"},
		{"empty-value": ""},
		{"notaws:x": "v"},
	} {
		if _, err := b.PutObjectTagging(ctx, "k", tags, nil); err != nil {
			t.Errorf("tags %.40v: %v", tags, err)
			continue
		}
		got, _, err := b.GetObjectTagging(ctx, "k", nil)
		if err != nil || !maps.Equal(got, tags) {
			t.Errorf("tags %.40v read back as %.40v %v", tags, got, err)
		}
	}
	if h, _ := b.Head(ctx, "k", nil); h.ETag != info.ETag || !h.LastModified.Equal(info.LastModified) {
		t.Fatalf("tagging changed ETag or LastModified: %+v", h)
	}
	// Tags the caller passed are copied, not kept.
	mine := map[string]string{"a": "1"}
	if _, err := b.PutObjectTagging(ctx, "k", mine, nil); err != nil {
		t.Fatal(err)
	}
	mine["a"] = "changed"
	got, _, _ := b.GetObjectTagging(ctx, "k", nil)
	got["b"] = "mutated"
	if again, _, _ := b.GetObjectTagging(ctx, "k", nil); !maps.Equal(again, map[string]string{"a": "1"}) {
		t.Fatalf("tags shared with the caller: %v", again)
	}
}

func TestTaggingMissingAndDeleteMarkers(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "tag-dm")
	if err := b.SetVersioning(ctx, cellar.VersioningEnabled); err != nil {
		t.Fatal(err)
	}
	v, err := b.Put(ctx, "k", strings.NewReader("x"), &cellar.PutOptions{Tags: map[string]string{"a": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	del, err := b.Delete(ctx, "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]func(key string, o *cellar.TaggingOptions) error{
		"get": func(key string, o *cellar.TaggingOptions) error {
			_, _, err := b.GetObjectTagging(ctx, key, o)
			return err
		},
		"put": func(key string, o *cellar.TaggingOptions) error {
			_, err := b.PutObjectTagging(ctx, key, map[string]string{"b": "2"}, o)
			return err
		},
		"delete": func(key string, o *cellar.TaggingOptions) error {
			_, err := b.DeleteObjectTagging(ctx, key, o)
			return err
		},
	}
	for name, op := range ops {
		// The current version is a delete marker: NoSuchKey, naming it.
		err := op("k", nil)
		var dm *cellar.DeleteMarkerError
		if !errors.Is(err, cellar.ErrNoSuchKey) || !errors.As(err, &dm) || dm.VersionID != del.VersionID {
			t.Errorf("%s tagging with a delete marker current: %v", name, err)
		}
		// The delete marker by version ID: MethodNotAllowed.
		err = op("k", &cellar.TaggingOptions{VersionID: del.VersionID})
		if !errors.Is(err, cellar.ErrMethodNotAllowed) || !errors.As(err, &dm) {
			t.Errorf("%s tagging of a delete marker by version: %v", name, err)
		}
		for _, tc := range []struct {
			key, id string
			want    error
		}{
			{"nope", "", cellar.ErrNoSuchKey},
			{"k", "0000000000000001aaaaaaaaaaaaaaaa", cellar.ErrNoSuchVersion},
			{"k", "not-a-version", cellar.ErrInvalidArgument},
			{"", "", cellar.ErrInvalidKey},
		} {
			if err := op(tc.key, &cellar.TaggingOptions{VersionID: tc.id}); !errors.Is(err, tc.want) {
				t.Errorf("%s tagging of %q version %q: %v, want %v", name, tc.key, tc.id, err, tc.want)
			}
		}
	}
	if _, _, err := s.Bucket("no-such-bucket").GetObjectTagging(ctx, "k", nil); !errors.Is(err, cellar.ErrNoSuchBucket) {
		t.Errorf("get tagging in a missing bucket: %v", err)
	}
	if _, err := s.Bucket("no-such-bucket").PutObjectTagging(ctx, "k", nil, nil); !errors.Is(err, cellar.ErrNoSuchBucket) {
		t.Errorf("put tagging in a missing bucket: %v", err)
	}
	// The version under the marker is still taggable by its ID.
	if _, err := b.PutObjectTagging(ctx, "k", map[string]string{"c": "3"}, &cellar.TaggingOptions{VersionID: v.VersionID}); err != nil {
		t.Fatal(err)
	}
	if tags, _, err := b.GetObjectTagging(ctx, "k", &cellar.TaggingOptions{VersionID: v.VersionID}); err != nil || !maps.Equal(tags, map[string]string{"c": "3"}) {
		t.Fatalf("tags of the hidden version: %v %v", tags, err)
	}
	// Tagging a hidden version does not resurrect the key.
	if _, err := b.Head(ctx, "k", nil); !errors.Is(err, cellar.ErrNoSuchKey) {
		t.Fatalf("head after tagging a hidden version: %v", err)
	}
	assertNoGarbage(t, s)
}

func TestTagsSurviveReopen(t *testing.T) {
	ctx := context.Background()
	idx, err := index.OpenPebbleMemory(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	zones := threeZones()
	open := func() *cellar.Store {
		o := smallOpts()
		o.Index, o.Zones = idx, zones
		s, err := cellar.OpenMemory(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	b := newBucket(t, s, "reopen-tags")
	if err := b.SetVersioning(ctx, cellar.VersioningEnabled); err != nil {
		t.Fatal(err)
	}
	v1, err := b.Put(ctx, "k", strings.NewReader("one"), &cellar.PutOptions{Tags: map[string]string{"at": "put"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Put(ctx, "k", strings.NewReader("two"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.PutObjectTagging(ctx, "k", map[string]string{"at": "tagging"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open()
	defer s.Close()
	b = s.Bucket("reopen-tags")
	for id, want := range map[string]map[string]string{"": {"at": "tagging"}, v1.VersionID: {"at": "put"}} {
		tags, _, err := b.GetObjectTagging(ctx, "k", &cellar.TaggingOptions{VersionID: id})
		if err != nil || !maps.Equal(tags, want) {
			t.Fatalf("after reopen, tags of %q: %v %v", id, tags, err)
		}
	}
	if h, err := b.Head(ctx, "k", nil); err != nil || h.TagCount != 1 {
		t.Fatalf("after reopen: %+v %v", h, err)
	}
}

// TestTaggingConcurrentWithPuts tags a key while other writers put new
// versions of it: every tagging lands on one whole version, and the latest
// pointer always agrees with the newest version.
func TestTaggingConcurrentWithPuts(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "tag-race")
	if err := b.SetVersioning(ctx, cellar.VersioningEnabled); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Put(ctx, "k", strings.NewReader("v0"), nil); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range 10 {
				if _, err := b.Put(ctx, "k", strings.NewReader(fmt.Sprintf("w%d-%d", w, i)), nil); err != nil {
					t.Error(err)
				}
			}
		}()
		go func() {
			defer wg.Done()
			for i := range 10 {
				if _, err := b.PutObjectTagging(ctx, "k", map[string]string{"w": fmt.Sprint(w), "i": fmt.Sprint(i)}, nil); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	// The current version's tags read the same through the latest pointer
	// (Head) and the versions space (by version ID).
	h, err := b.Head(ctx, "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	byID, _, err := b.GetObjectTagging(ctx, "k", &cellar.TaggingOptions{VersionID: h.VersionID})
	if err != nil || len(byID) != h.TagCount {
		t.Fatalf("latest pointer has %d tags, version record %v (%v)", h.TagCount, byID, err)
	}
	assertNoGarbage(t, s)
}
