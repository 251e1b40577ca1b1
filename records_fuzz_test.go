package cellar

import (
	"bytes"
	"reflect"
	"testing"
	"time"
)

// The index's own records are parsed on every read; a damaged one must be
// an error, never a panic, and whatever parses must survive a round trip.

func FuzzUnmarshalSegment(f *testing.F) {
	seg := segment{DataID: "d0", K: 4, M: 2, BlockSize: 1 << 20, Placement: []int{0, 1, 2, 0, 1, 2}, Size: 5, ETag: "e", Checksum: "c"}
	f.Add(seg.marshal())
	f.Add([]byte{})
	f.Add([]byte{tagSegPlacement, 2, 0, 9})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := unmarshalSegment(b)
		if err != nil {
			return
		}
		again, err := unmarshalSegment(s.marshal())
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !reflect.DeepEqual(again, s) {
			t.Fatalf("re-decode differs:\n%+v\n%+v", again, s)
		}
	})
}

func FuzzUnmarshalUploadAndPart(f *testing.F) {
	up := &uploadRecord{Bucket: "bkt", Key: "k", ContentType: "text/plain", Metadata: map[string]string{"a": "b"},
		Initiated: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	part := &partRecord{Bucket: "bkt", Key: "k", UploadID: "u1", PartNumber: 3, LastModified: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Seg: segment{DataID: "d", K: 2, M: 1, BlockSize: 4, Placement: []int{0, 1, 2}, Size: 3}}
	f.Add(up.marshal())
	f.Add(part.marshal())
	f.Add([]byte{})
	f.Add([]byte{0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		if u, err := unmarshalUpload(b); err == nil {
			again, err := unmarshalUpload(u.marshal())
			if err != nil {
				t.Fatalf("upload re-decode: %v", err)
			}
			if !bytes.Equal(again.marshal(), u.marshal()) {
				t.Fatalf("upload re-decode differs:\n%+v\n%+v", again, u)
			}
		}
		if p, err := unmarshalPart(b); err == nil {
			again, err := unmarshalPart(p.marshal())
			if err != nil {
				t.Fatalf("part re-decode: %v", err)
			}
			if !bytes.Equal(again.marshal(), p.marshal()) {
				t.Fatalf("part re-decode differs:\n%+v\n%+v", again, p)
			}
		}
	})
}

func FuzzParseLifecycleItem(f *testing.F) {
	due := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	f.Add(lifecycleKeyItem(due, "bkt", "logs/a"))
	f.Add(lifecycleUploadItem(due, "bkt", "big", newUploadID(42)))
	f.Add(lifecycleReplanItem("bkt"))
	f.Add([]byte{spaceLifecycle})
	f.Fuzz(func(t *testing.T, k []byte) {
		it, err := parseLifecycleItem(k, nil)
		if err != nil {
			return
		}
		// Everything after the due time must encode back as it was.
		var again []byte
		switch it.kind {
		case lcItemReplan:
			again = lifecycleReplanItem(it.bucket)
		case lcItemKey:
			again = lifecycleKeyItem(time.Unix(0, 0), it.bucket, it.objectKey)
		case lcItemUpload:
			again = lifecycleUploadItem(time.Unix(0, 0), it.bucket, it.objectKey, it.uploadID)
		default:
			t.Fatalf("parsed an item of kind %q", it.kind)
		}
		if !bytes.Equal(again[9:], k[9:]) {
			t.Fatalf("item %x parsed as %+v, which encodes as %x", k, it, again)
		}
	})
}
