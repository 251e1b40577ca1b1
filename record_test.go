package cellar

import (
	"reflect"
	"testing"
	"time"
)

func TestRecordRoundTrip(t *testing.T) {
	recs := []*versionRecord{
		{Bucket: "b", Key: "k", VersionID: "null", Seq: 1, LastModified: time.Unix(0, 0).UTC()},
		{Bucket: "b", Key: "k\x00\xff", VersionID: "00000000000000010123456789abcdef", Seq: 99, DeleteMarker: true, LastModified: time.Unix(5, 6).UTC()},
		{
			Bucket: "bucket", Key: "a/b/c", VersionID: "null", Seq: 1 << 60, Size: 1 << 40, ETag: "abc-3",
			LastModified: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), ContentType: "text/plain",
			Metadata: map[string]string{"a": "1", "b": ""}, StorageClass: "STANDARD",
			Tags:     map[string]string{"project": "x", "empty": ""},
			Headers:  map[string]string{"Cache-Control": "no-cache"},
			Checksum: Checksum{Algorithm: "CRC32", Value: "AAAAAA==-2", Type: ChecksumComposite},
			Segments: []segment{
				{DataID: "d1", K: 4, M: 2, BlockSize: 1 << 20, Placement: []int{0, 1, 2, 0, 1, 2}, Size: 5, ETag: "e1", Checksum: "AAAAAA=="},
				{DataID: "d2", K: 1, M: 0, BlockSize: 64, Placement: []int{0}},
			},
		},
	}
	for _, r := range recs {
		got, err := unmarshalRecord(r.marshal())
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, r)
		}
	}
}

func FuzzUnmarshalRecord(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{recordFormat})
	f.Add((&versionRecord{Bucket: "b", Key: "k", Metadata: map[string]string{"x": "y"},
		Segments: []segment{{DataID: "d", K: 2, M: 1, BlockSize: 4, Placement: []int{0, 1, 2}, Size: 3}}}).marshal())
	f.Add([]byte{recordFormat, tagSegment, 3, 1, 1, 'x'})
	f.Add([]byte{recordFormat, tagMetadata, 5, 200, 1, 'a'})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := unmarshalRecord(b)
		if err != nil {
			return
		}
		// Whatever decodes must encode and decode to the same record.
		again, err := unmarshalRecord(r.marshal())
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !reflect.DeepEqual(again, r) {
			t.Fatalf("re-decode differs:\n%+v\n%+v", again, r)
		}
	})
}

func FuzzDecodeToken(f *testing.F) {
	f.Add(encodeToken('k', "a/b"))
	f.Add(encodeToken('p', "dir/"))
	f.Add("")
	f.Add("!!!")
	f.Add("eA")
	f.Fuzz(func(t *testing.T, tok string) {
		kind, key, err := decodeToken(tok)
		if err != nil {
			return
		}
		k2, key2, err := decodeToken(encodeToken(kind, key))
		if err != nil || k2 != kind || key2 != key {
			t.Fatalf("token %q decodes to (%c, %q) which does not round-trip: %v", tok, kind, key, err)
		}
	})
}
