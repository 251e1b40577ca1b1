package cellar

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
)

func metaSamples() []*metaRecord {
	ver := &versionRecord{Bucket: "bkt", Key: "a/b", VersionID: "null", Seq: 42, LastModified: time.Unix(7, 0).UTC(),
		Segments: []segment{{DataID: "d1", K: 2, M: 1, BlockSize: 4, Placement: []int{0, 1, 2}, Size: 3}}}
	marker := &versionRecord{Bucket: "bkt", Key: "k\x00\xff", VersionID: "0000000000000063aaaaaaaaaaaaaaaa", Seq: 99, DeleteMarker: true, LastModified: time.Unix(8, 0).UTC()}
	br, _ := json.Marshal(bucketRecord{Created: time.Unix(1, 0).UTC(), Versioning: VersioningEnabled})
	return []*metaRecord{
		{Kind: metaKindBucket, Gen: 1, Bucket: "bkt", Body: br},
		{Kind: metaKindBucket, Gen: 2, Bucket: "bkt", Removed: true},
		{Kind: metaKindVersion, Gen: 3, Bucket: ver.Bucket, Key: ver.Key, Seq: ver.Seq, Body: ver.marshal()},
		{Kind: metaKindVersion, Gen: 4, Bucket: marker.Bucket, Key: marker.Key, Seq: marker.Seq, Body: marker.marshal()},
		versionTombstone(ver),
		{Kind: metaKindGarbage, Gen: 5, Body: ver.Segments[0].marshal()},
	}
}

func TestMetaRecordRoundTrip(t *testing.T) {
	for _, m := range metaSamples() {
		b := m.marshal()
		got, err := parseMeta(m.name(), b)
		if err != nil {
			t.Fatalf("%s: %v", m.name(), err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("%s: got %+v, want %+v", m.name(), got, m)
		}
		// Any flipped byte is caught by the hash; a record under another
		// name is refused.
		for i := range b {
			bad := append([]byte(nil), b...)
			bad[i] ^= 0x40
			if _, err := parseMeta(m.name(), bad); !errors.Is(err, errBadMeta) {
				t.Errorf("%s: byte %d flipped: %v", m.name(), i, err)
			}
		}
		if _, err := parseMeta(m.name()+"x", b); !errors.Is(err, errBadMeta) {
			t.Errorf("%s: parsed under another name: %v", m.name(), err)
		}
	}
}

func TestMetaRecordNewer(t *testing.T) {
	live := &metaRecord{Gen: 5}
	gone := &metaRecord{Gen: 5, Removed: true}
	if !gone.newer(live) || live.newer(gone) {
		t.Error("a removal must win a tie")
	}
	if !(&metaRecord{Gen: 6}).newer(gone) {
		t.Error("a higher Gen must win")
	}
}

func FuzzParseMeta(f *testing.F) {
	for _, m := range metaSamples() {
		f.Add(m.name(), m.marshal())
	}
	f.Add("meta/b/x", []byte{metaFormat})
	f.Add("meta/g/", []byte{})
	f.Fuzz(func(t *testing.T, name string, b []byte) {
		m, err := parseMeta(name, b)
		if err != nil {
			if !errors.Is(err, errBadMeta) {
				t.Fatalf("error %v does not match errBadMeta", err)
			}
			return
		}
		// Whatever parses belongs under its name and round-trips.
		if m.name() != name {
			t.Fatalf("parsed %q as a record of %q", name, m.name())
		}
		again, err := parseMeta(name, m.marshal())
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if !reflect.DeepEqual(again, m) {
			t.Fatalf("re-parse differs:\n%+v\n%+v", again, m)
		}
	})
}
