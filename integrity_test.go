package cellar_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cellarhq/cellar"
	"github.com/cellarhq/cellar/internal/checksum"
)

func sumOf(alg checksum.Algorithm, data []byte) string { return checksum.Encode(alg.Sum(data)) }

func TestPutChecksums(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "checks")
	data := randBytes(3, 150_001)

	info, err := b.Put(ctx, "default", bytes.NewReader(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := cellar.Checksum{Algorithm: "CRC64NVME", Value: sumOf(checksum.CRC64NVME, data), Type: cellar.ChecksumFullObject}
	if info.Checksum != want {
		t.Fatalf("default checksum %+v, want %+v", info.Checksum, want)
	}
	if h, _ := b.Head(ctx, "default", nil); h.Checksum != want {
		t.Fatalf("head checksum %+v", h.Checksum)
	}

	for _, alg := range checksum.Algorithms() {
		right := sumOf(alg, data)
		wrong := sumOf(alg, data[1:])
		for _, tc := range []struct {
			name string
			in   cellar.Integrity
			want error
		}{
			{"computed", cellar.Integrity{ChecksumAlgorithm: string(alg)}, nil},
			{"header ok", cellar.Integrity{ChecksumAlgorithm: strings.ToLower(string(alg)), Checksum: right}, nil},
			{"header wrong", cellar.Integrity{ChecksumAlgorithm: string(alg), Checksum: wrong}, cellar.ErrBadDigest},
			{"trailer ok", cellar.Integrity{ChecksumAlgorithm: string(alg), TrailingChecksum: func() string { return right }}, nil},
			{"trailer wrong", cellar.Integrity{ChecksumAlgorithm: string(alg), TrailingChecksum: func() string { return wrong }}, cellar.ErrBadDigest},
			{"trailer garbage", cellar.Integrity{ChecksumAlgorithm: string(alg), TrailingChecksum: func() string { return "!!" }}, cellar.ErrInvalidRequest},
			{"header garbage", cellar.Integrity{ChecksumAlgorithm: string(alg), Checksum: "AA"}, cellar.ErrInvalidRequest},
		} {
			key := fmt.Sprintf("%s/%s", alg, tc.name)
			info, err := b.Put(ctx, key, bytes.NewReader(data), &cellar.PutOptions{Integrity: tc.in})
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("%s: err %v, want %v", key, err, tc.want)
				}
				if _, err := b.Head(ctx, key, nil); !errors.Is(err, cellar.ErrNoSuchKey) {
					t.Fatalf("%s: a put that failed its checksum was committed", key)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			if info.Checksum.Algorithm != string(alg) || info.Checksum.Value != right {
				t.Fatalf("%s: checksum %+v, want %s %s", key, info.Checksum, alg, right)
			}
		}
	}

	md := md5.Sum(data)
	for _, tc := range []struct {
		md5  string
		want error
	}{
		{base64.StdEncoding.EncodeToString(md[:]), nil},
		{base64.StdEncoding.EncodeToString(make([]byte, 16)), cellar.ErrBadDigest},
		{"not base64", cellar.ErrInvalidDigest},
		{base64.StdEncoding.EncodeToString([]byte("short")), cellar.ErrInvalidDigest},
	} {
		_, err := b.Put(ctx, "md5", bytes.NewReader(data), &cellar.PutOptions{Integrity: cellar.Integrity{ContentMD5: tc.md5}})
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Fatalf("Content-MD5 %q: err %v, want %v", tc.md5, err, tc.want)
		}
	}
	if _, err := b.Put(ctx, "x", nil, &cellar.PutOptions{Integrity: cellar.Integrity{ChecksumAlgorithm: "MD4"}}); !errors.Is(err, cellar.ErrInvalidRequest) {
		t.Fatalf("unknown algorithm: %v", err)
	}
	assertNoGarbage(t, s)
}

func TestMultipartChecksums(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "mpchecks")
	parts := [][]byte{randBytes(1, cellar.MinPartSize), randBytes(2, 1000)}
	whole := append(append([]byte(nil), parts[0]...), parts[1]...)

	for _, tc := range []struct {
		alg, ctype string
		want       func() string
	}{
		{"", "", func() string { return sumOf(checksum.CRC64NVME, whole) }},
		{"CRC32", "FULL_OBJECT", func() string { return sumOf(checksum.CRC32, whole) }},
		{"CRC32C", "", func() string {
			return checksum.EncodeComposite(checksum.Composite(checksum.CRC32C, [][]byte{checksum.CRC32C.Sum(parts[0]), checksum.CRC32C.Sum(parts[1])}), 2)
		}},
		{"SHA256", "COMPOSITE", func() string {
			return checksum.EncodeComposite(checksum.Composite(checksum.SHA256, [][]byte{checksum.SHA256.Sum(parts[0]), checksum.SHA256.Sum(parts[1])}), 2)
		}},
	} {
		key := "obj-" + tc.alg
		up, err := b.CreateMultipartUpload(ctx, key, &cellar.PutOptions{Integrity: cellar.Integrity{ChecksumAlgorithm: tc.alg}, ChecksumType: tc.ctype})
		if err != nil {
			t.Fatalf("%s: %v", tc.alg, err)
		}
		resumed, err := b.MultipartUpload(ctx, key, up.ID())
		if err != nil || resumed.Checksum() != up.Checksum() || up.Checksum().Algorithm == "" || up.Checksum().Type == "" {
			t.Fatalf("%s: upload checksum %+v, resumed %+v, %v", tc.alg, up.Checksum(), resumed.Checksum(), err)
		}
		var done []cellar.CompletedPart
		for i, p := range parts {
			pi, err := up.UploadPart(ctx, i+1, bytes.NewReader(p), nil)
			if err != nil {
				t.Fatal(err)
			}
			done = append(done, cellar.CompletedPart{PartNumber: i + 1, ETag: pi.ETag, Checksum: pi.Checksum})
		}
		// A wrong whole-object checksum fails Complete and keeps the upload.
		if _, err := up.Complete(ctx, done, &cellar.CompleteOptions{Checksum: "AAAAAAAAAAA="}); !errors.Is(err, cellar.ErrBadDigest) {
			t.Fatalf("%s: complete with a wrong checksum: %v", tc.alg, err)
		}
		info, err := up.Complete(ctx, done, &cellar.CompleteOptions{Checksum: tc.want()})
		if err != nil {
			t.Fatalf("%s: complete: %v", tc.alg, err)
		}
		if info.Checksum.Value != tc.want() {
			t.Fatalf("%s: object checksum %+v, want %s", tc.alg, info.Checksum, tc.want())
		}
	}

	// Bad combinations and mismatches.
	for _, tc := range []struct{ alg, ctype string }{{"SHA1", "FULL_OBJECT"}, {"CRC64NVME", "COMPOSITE"}, {"CRC32", "PARTIAL"}} {
		if _, err := b.CreateMultipartUpload(ctx, "bad", &cellar.PutOptions{Integrity: cellar.Integrity{ChecksumAlgorithm: tc.alg}, ChecksumType: tc.ctype}); !errors.Is(err, cellar.ErrInvalidRequest) {
			t.Fatalf("%s %s: %v", tc.alg, tc.ctype, err)
		}
	}
	up, err := b.CreateMultipartUpload(ctx, "mis", &cellar.PutOptions{Integrity: cellar.Integrity{ChecksumAlgorithm: "CRC32"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := up.UploadPart(ctx, 1, bytes.NewReader(parts[1]), &cellar.PartOptions{Integrity: cellar.Integrity{ChecksumAlgorithm: "SHA1"}}); !errors.Is(err, cellar.ErrInvalidRequest) {
		t.Fatalf("part with another algorithm: %v", err)
	}
	if _, err := up.UploadPart(ctx, 1, bytes.NewReader(parts[1]), &cellar.PartOptions{Integrity: cellar.Integrity{Checksum: sumOf(checksum.CRC32, parts[0])}}); !errors.Is(err, cellar.ErrBadDigest) {
		t.Fatalf("part with a wrong checksum: %v", err)
	}
	pi, err := up.UploadPart(ctx, 1, bytes.NewReader(parts[1]), &cellar.PartOptions{Integrity: cellar.Integrity{Checksum: sumOf(checksum.CRC32, parts[1])}})
	if err != nil || pi.Checksum != sumOf(checksum.CRC32, parts[1]) {
		t.Fatalf("part: %+v %v", pi, err)
	}
	if _, err := up.Complete(ctx, []cellar.CompletedPart{{PartNumber: 1, ETag: pi.ETag, Checksum: sumOf(checksum.CRC32, parts[0])}}, nil); !errors.Is(err, cellar.ErrInvalidPart) {
		t.Fatalf("complete naming a wrong part checksum: %v", err)
	}
	if err := up.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	assertNoGarbage(t, s)
}

func TestContentHeaders(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "headers")
	h := cellar.ContentHeaders{CacheControl: "max-age=60", ContentDisposition: `attachment; filename="a.txt"`, ContentEncoding: "gzip", ContentLanguage: "en", Expires: "Wed, 21 Oct 2026 07:28:00 GMT"}
	if _, err := b.Put(ctx, "k", strings.NewReader("x"), &cellar.PutOptions{ContentHeaders: h}); err != nil {
		t.Fatal(err)
	}
	if info, _ := b.Head(ctx, "k", nil); info.ContentHeaders != h {
		t.Fatalf("head: %+v", info.ContentHeaders)
	}
	res, err := b.CopyObject(ctx, "copy", "headers", "k", nil)
	if err != nil || res.Object.ContentHeaders != h {
		t.Fatalf("copy keeps headers: %+v %v", res.Object.ContentHeaders, err)
	}
	res, err = b.CopyObject(ctx, "k", "headers", "k", &cellar.CopyOptions{MetadataDirective: cellar.DirectiveReplace, ContentHeaders: cellar.ContentHeaders{CacheControl: "no-store"}})
	if err != nil || res.Object.ContentHeaders != (cellar.ContentHeaders{CacheControl: "no-store"}) {
		t.Fatalf("copy replaces headers: %+v %v", res.Object.ContentHeaders, err)
	}
	up, err := b.CreateMultipartUpload(ctx, "mp", &cellar.PutOptions{ContentHeaders: h})
	if err != nil {
		t.Fatal(err)
	}
	pi, _ := up.UploadPart(ctx, 1, strings.NewReader("part"), nil)
	info, err := up.Complete(ctx, []cellar.CompletedPart{{PartNumber: 1, ETag: pi.ETag}}, nil)
	if err != nil || info.ContentHeaders != h {
		t.Fatalf("multipart headers: %+v %v", info.ContentHeaders, err)
	}
	if _, err := b.Put(ctx, "bad", nil, &cellar.PutOptions{ContentHeaders: cellar.ContentHeaders{CacheControl: "a\nb"}}); !errors.Is(err, cellar.ErrInvalidArgument) {
		t.Fatalf("header with a newline: %v", err)
	}
}
