package cellar

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/cellarhq/cellar/index"
)

// These tests build source records that the public API cannot make
// cheaply: one over the 5 GiB copy limit, and one of several segments as a
// multipart upload leaves.

func internalStore(t *testing.T) *Store {
	t.Helper()
	s, err := OpenMemory(context.Background(), &Options{BlockSize: 64 << 10, SweepInterval: -1, DeleteGrace: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.CreateBucket(context.Background(), "internal", nil); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCopySourceOverLimit(t *testing.T) {
	ctx := context.Background()
	s := internalStore(t)
	// A record claiming 5 GiB + 1 bytes; CopyObject must refuse it before
	// it reads a byte.
	rec := &versionRecord{Bucket: "internal", Key: "huge", Size: MaxCopySourceSize + 1, ETag: "0123456789abcdef0123456789abcdef-1000", ContentType: "binary/octet-stream",
		Segments: []segment{{DataID: newDataID(), K: 4, M: 2, BlockSize: 64 << 10, Placement: []int{0, 0, 1, 1, 2, 2}, Size: MaxCopySourceSize + 1}}}
	if err := s.commitVersion(ctx, rec, commitArgs{}); err != nil {
		t.Fatal(err)
	}
	_, err := s.Bucket("internal").CopyObject(ctx, "copy", "internal", "huge", nil)
	if !errors.Is(err, ErrInvalidRequest) || !strings.Contains(err.Error(), "larger than the maximum allowable size for a copy source: 5368709120") {
		t.Fatalf("copy of a source over 5 GiB: %v", err)
	}
	if _, err := s.Bucket("internal").Head(ctx, "copy", nil); !errors.Is(err, ErrNoSuchKey) {
		t.Fatalf("refused copy made an object: %v", err)
	}
}

func TestCopyMultipartSourceGetsMD5ETag(t *testing.T) {
	ctx := context.Background()
	s := internalStore(t)
	parts := [][]byte{bytes.Repeat([]byte("a"), 100_000), bytes.Repeat([]byte("b"), 70_001)}
	rec := &versionRecord{Bucket: "internal", Key: "mpu", ContentType: "text/plain", Tags: map[string]string{"t": "1"}}
	var all []byte
	var partSums []byte
	for _, p := range parts {
		data, err := s.writeData(ctx, bytes.NewReader(p), int64(len(p)), MaxPutSize, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		// Commit each part's shards as a multipart upload would.
		if _, err := data.w.Commit(nil); err != nil {
			t.Fatal(err)
		}
		s.setInflight(data.seg.DataID, false)
		rec.Segments = append(rec.Segments, data.seg)
		rec.Size += data.seg.Size
		all = append(all, p...)
		sum, _ := hex.DecodeString(data.seg.ETag)
		partSums = append(partSums, sum...)
	}
	mpu := md5.Sum(partSums)
	rec.ETag = hex.EncodeToString(mpu[:]) + "-2"
	if err := s.commitVersion(ctx, rec, commitArgs{extra: func(b *index.Batch, _ *versionRecord) error {
		for _, seg := range rec.Segments {
			b.Set(dataRefKey(seg.DataID), nil)
		}
		return nil
	}}); err != nil {
		t.Fatal(err)
	}

	b := s.Bucket("internal")
	res, err := b.CopyObject(ctx, "copy", "internal", "mpu", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := md5.Sum(all)
	if res.Object.ETag != hex.EncodeToString(want[:]) || res.Object.Size != int64(len(all)) || res.Object.TagCount != 1 {
		t.Fatalf("copy of a multipart object: %+v, want ETag %x", res.Object, want)
	}
	obj, err := b.Get(ctx, "copy", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	got, err := io.ReadAll(obj)
	if err != nil || !bytes.Equal(got, all) {
		t.Fatalf("copy of a multipart object reads back wrong: %v", err)
	}
	if len(obj.rec.Segments) != 1 {
		t.Fatalf("copy has %d segments, want 1", len(obj.rec.Segments))
	}
	// The source's conditions see its own multipart ETag.
	if _, err := b.CopyObject(ctx, "copy2", "internal", "mpu", &CopyOptions{CopySourceIfMatch: rec.ETag}); err != nil {
		t.Fatalf("copy-source If-Match with the multipart ETag: %v", err)
	}
	rep, err := s.Check(ctx)
	if err != nil || len(rep.Problems) > 0 {
		t.Fatalf("check: %+v %v", rep, err)
	}
}
