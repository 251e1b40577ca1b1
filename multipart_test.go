package cellar_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cellarhq/cellar"
	"github.com/cellarhq/cellar/backend"
	"github.com/cellarhq/cellar/index"
)

const mib = 1 << 20

// mpBytes is randBytes, fast enough for parts of several MiB under -race.
func mpBytes(seed uint64, n int) []byte {
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	b := make([]byte, n)
	rand.NewChaCha8(s).Read(b)
	return b
}

// mpETag is the ETag S3 gives an object made of these parts.
func mpETag(parts ...[]byte) string {
	h := md5.New()
	for _, p := range parts {
		sum := md5.Sum(p)
		h.Write(sum[:])
	}
	return hex.EncodeToString(h.Sum(nil)) + "-" + strconv.Itoa(len(parts))
}

func uploadPart(t testing.TB, u *cellar.MultipartUpload, n int, data []byte) cellar.PartInfo {
	t.Helper()
	info, err := u.UploadPart(context.Background(), n, bytes.NewReader(data), &cellar.PartOptions{Size: int64(len(data))})
	if err != nil {
		t.Fatalf("upload part %d: %v", n, err)
	}
	if info.PartNumber != n || info.Size != int64(len(data)) || info.ETag != md5hex(data) {
		t.Fatalf("part %d: info %+v", n, info)
	}
	return info
}

func createUpload(t testing.TB, b *cellar.Bucket, key string, opts *cellar.PutOptions) *cellar.MultipartUpload {
	t.Helper()
	u, err := b.CreateMultipartUpload(context.Background(), key, opts)
	if err != nil {
		t.Fatalf("create upload of %s: %v", key, err)
	}
	return u
}

func TestMultipartLifecycle(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "multipart")
	u := createUpload(t, b, "big/object", &cellar.PutOptions{
		ContentType: "video/mp4",
		Metadata:    map[string]string{"Camera": "x100"},
		Tags:        map[string]string{"kind": "video"},
	})
	if len(u.ID()) < 32 || strings.Trim(u.ID(), "0123456789abcdef") != "" || u.Key() != "big/object" {
		t.Fatalf("upload ID %q key %q", u.ID(), u.Key())
	}
	// Nothing is visible before Complete.
	if _, err := b.Head(ctx, "big/object", nil); !errors.Is(err, cellar.ErrNoSuchKey) {
		t.Fatalf("head before complete: %v", err)
	}
	parts := [][]byte{mpBytes(1, 5*mib+3), mpBytes(3, 100_001)}
	// Out of order, as clients may send them.
	var infos [2]cellar.PartInfo
	for _, i := range []int{1, 0} {
		infos[i] = uploadPart(t, u, i+1, parts[i])
	}
	page, err := u.ListParts(ctx, nil)
	if err != nil || len(page.Parts) != 2 || page.IsTruncated {
		t.Fatalf("list parts: %+v %v", page, err)
	}
	for i, p := range page.Parts {
		if p.PartNumber != i+1 || p.ETag != infos[i].ETag || p.Size != int64(len(parts[i])) || p.LastModified.IsZero() {
			t.Fatalf("listed part %d: %+v", i, p)
		}
	}
	uploads, err := b.ListMultipartUploads(ctx, nil)
	if err != nil || len(uploads.Uploads) != 1 || uploads.Uploads[0].UploadID != u.ID() || uploads.Uploads[0].Key != "big/object" {
		t.Fatalf("list uploads: %+v %v", uploads, err)
	}
	// Parts in progress are no orphans.
	assertNoGarbage(t, s)
	if err := s.DeleteBucket(ctx, "multipart"); !errors.Is(err, cellar.ErrBucketNotEmpty) {
		t.Fatalf("delete bucket with an upload in progress: %v", err)
	}

	info, err := u.Complete(ctx, []cellar.CompletedPart{
		{PartNumber: 1, ETag: `"` + infos[0].ETag + `"`}, // quoted, as S3 clients send them
		{PartNumber: 2, ETag: infos[1].ETag},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	all := bytes.Join(parts, nil)
	if info.ETag != mpETag(parts...) || info.Size != int64(len(all)) || info.PartsCount != 2 || !info.IsLatest || info.VersionID != "null" {
		t.Fatalf("complete: %+v", info)
	}
	h, err := b.Head(ctx, "big/object", nil)
	if err != nil || h.ETag != info.ETag || h.ContentType != "video/mp4" || h.Metadata["camera"] != "x100" || h.TagCount != 1 || h.PartsCount != 2 {
		t.Fatalf("head: %+v %v", h, err)
	}
	if got := readAll(t, b, "big/object", nil); !bytes.Equal(got, all) {
		t.Fatal("read back different bytes")
	}
	// The upload is gone.
	if uploads, _ := b.ListMultipartUploads(ctx, nil); len(uploads.Uploads) != 0 {
		t.Fatalf("uploads after complete: %+v", uploads)
	}
	for name, err := range map[string]error{
		"upload part": func() error { _, err := u.UploadPart(ctx, 3, strings.NewReader("x"), nil); return err }(),
		"list parts":  func() error { _, err := u.ListParts(ctx, nil); return err }(),
		"complete": func() error {
			_, err := u.Complete(ctx, []cellar.CompletedPart{{PartNumber: 1, ETag: infos[0].ETag}}, nil)
			return err
		}(),
		"abort":  u.Abort(ctx),
		"resume": func() error { _, err := b.MultipartUpload(ctx, "big/object", u.ID()); return err }(),
	} {
		if !errors.Is(err, cellar.ErrNoSuchUpload) || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s after complete: %v, want ErrNoSuchUpload", name, err)
		}
	}
	// The object's data survives the orphan sweep (its parts' data
	// references now belong to the version) ...
	assertNoGarbage(t, s)
	if got := readAll(t, b, "big/object", nil); !bytes.Equal(got, all) {
		t.Fatal("read back different bytes after sweeping")
	}
	// ... and goes with it.
	if _, err := b.Delete(ctx, "big/object", nil); err != nil {
		t.Fatal(err)
	}
	assertNoGarbage(t, s)
	if n := countBlobs(t, s); n != 0 {
		t.Fatalf("%d blobs left after deleting the object", n)
	}
	if err := s.DeleteBucket(ctx, "multipart"); err != nil {
		t.Fatalf("delete emptied bucket: %v", err)
	}
}

func TestMultipartReplacePart(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "replace")
	u := createUpload(t, b, "k", nil)
	first := uploadPart(t, u, 1, mpBytes(1, 1000))
	second := uploadPart(t, u, 1, mpBytes(2, 5*mib))
	last := uploadPart(t, u, 2, []byte("tail"))
	page, err := u.ListParts(ctx, nil)
	if err != nil || len(page.Parts) != 2 || page.Parts[0].ETag != second.ETag {
		t.Fatalf("list parts after replacing part 1: %+v %v", page, err)
	}
	assertNoGarbage(t, s) // the replaced part is swept (DeleteGrace < 0)
	if n := countBlobs(t, s); n != 9 {
		t.Fatalf("%d blobs for a part of six shards and a small part of three", n)
	}
	if _, err := u.Complete(ctx, []cellar.CompletedPart{{PartNumber: 1, ETag: first.ETag}, {PartNumber: 2, ETag: last.ETag}}, nil); !errors.Is(err, cellar.ErrInvalidPart) {
		t.Fatalf("complete with the replaced part's ETag: %v", err)
	}
	info, err := u.Complete(ctx, []cellar.CompletedPart{{PartNumber: 1, ETag: second.ETag}, {PartNumber: 2, ETag: last.ETag}}, nil)
	if err != nil || info.ETag != mpETag(mpBytes(2, 5*mib), []byte("tail")) {
		t.Fatalf("complete: %+v %v", info, err)
	}
	if got := readAll(t, b, "k", nil); !bytes.Equal(got, append(mpBytes(2, 5*mib), "tail"...)) {
		t.Fatal("wrong bytes")
	}
	assertNoGarbage(t, s)
}

func TestMultipartBadInput(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "bad")
	if _, err := b.Put(ctx, "other", strings.NewReader("keep"), nil); err != nil {
		t.Fatal(err)
	}
	before := countBlobs(t, s)

	// Creating.
	for name, tc := range map[string]struct {
		key  string
		opts *cellar.PutOptions
		want error
	}{
		"empty key":      {"", nil, cellar.ErrInvalidKey},
		"long key":       {strings.Repeat("k", 1025), nil, cellar.ErrInvalidKey},
		"bad metadata":   {"k", &cellar.PutOptions{Metadata: map[string]string{"bad name": "v"}}, cellar.ErrInvalidMetadata},
		"big metadata":   {"k", &cellar.PutOptions{Metadata: map[string]string{"a": strings.Repeat("v", 2048)}}, cellar.ErrMetadataTooLarge},
		"bad tag":        {"k", &cellar.PutOptions{Tags: map[string]string{"aws:x": "v"}}, cellar.ErrInvalidTag},
		"size":           {"k", &cellar.PutOptions{Size: 10}, cellar.ErrInvalidArgument},
		"condition":      {"k", &cellar.PutOptions{IfNoneMatch: "*"}, cellar.ErrInvalidArgument},
		"missing bucket": {"k", nil, cellar.ErrNoSuchBucket},
	} {
		bb := b
		if name == "missing bucket" {
			bb = s.Bucket("nope")
		}
		if _, err := bb.CreateMultipartUpload(ctx, tc.key, tc.opts); !errors.Is(err, tc.want) {
			t.Errorf("create, %s: %v, want %v", name, err, tc.want)
		}
	}

	u := createUpload(t, b, "k", nil)
	p1 := uploadPart(t, u, 1, mpBytes(1, 5*mib))
	p2 := uploadPart(t, u, 2, []byte("small"))
	p3 := uploadPart(t, u, 3, []byte("last"))

	// Uploading parts.
	for _, n := range []int{0, -1, 10001} {
		if _, err := u.UploadPart(ctx, n, strings.NewReader("x"), nil); !errors.Is(err, cellar.ErrInvalidArgument) {
			t.Errorf("part number %d: %v", n, err)
		}
	}
	if _, err := u.UploadPart(ctx, 4, strings.NewReader("short"), &cellar.PartOptions{Size: 6}); !errors.Is(err, cellar.ErrIncompleteBody) {
		t.Errorf("short part body: %v", err)
	}
	if _, err := u.UploadPart(ctx, 4, nil, &cellar.PartOptions{Size: cellar.MaxPartSize + 1}); !errors.Is(err, cellar.ErrEntityTooLarge) {
		t.Errorf("part over 5 GiB: %v", err)
	}

	// Completing.
	for name, tc := range map[string]struct {
		parts []cellar.CompletedPart
		opts  *cellar.CompleteOptions
		want  error
	}{
		"no parts":        {nil, nil, cellar.ErrInvalidArgument},
		"wrong order":     {[]cellar.CompletedPart{{PartNumber: 3, ETag: p3.ETag}, {PartNumber: 1, ETag: p1.ETag}}, nil, cellar.ErrInvalidPartOrder},
		"duplicate":       {[]cellar.CompletedPart{{PartNumber: 1, ETag: p1.ETag}, {PartNumber: 1, ETag: p1.ETag}}, nil, cellar.ErrInvalidPartOrder},
		"missing part":    {[]cellar.CompletedPart{{PartNumber: 1, ETag: p1.ETag}, {PartNumber: 4, ETag: p1.ETag}}, nil, cellar.ErrInvalidPart},
		"etag mismatch":   {[]cellar.CompletedPart{{PartNumber: 1, ETag: p3.ETag}, {PartNumber: 3, ETag: p3.ETag}}, nil, cellar.ErrInvalidPart},
		"part too small":  {[]cellar.CompletedPart{{PartNumber: 1, ETag: p1.ETag}, {PartNumber: 2, ETag: p2.ETag}, {PartNumber: 3, ETag: p3.ETag}}, nil, cellar.ErrEntityTooSmall},
		"part number 0":   {[]cellar.CompletedPart{{PartNumber: 0, ETag: p1.ETag}}, nil, cellar.ErrInvalidArgument},
		"part number big": {[]cellar.CompletedPart{{PartNumber: 10001, ETag: p1.ETag}}, nil, cellar.ErrInvalidArgument},
		"bad condition":   {[]cellar.CompletedPart{{PartNumber: 1, ETag: p1.ETag}}, &cellar.CompleteOptions{IfNoneMatch: "abc"}, cellar.ErrInvalidArgument},
	} {
		if _, err := u.Complete(ctx, tc.parts, tc.opts); !errors.Is(err, tc.want) {
			t.Errorf("complete, %s: %v, want %v", name, err, tc.want)
		}
	}
	// Each failure left the upload as it was and made no object.
	if page, err := u.ListParts(ctx, nil); err != nil || len(page.Parts) != 3 {
		t.Fatalf("parts after failed completes: %+v %v", page, err)
	}
	if _, err := b.Head(ctx, "k", nil); !errors.Is(err, cellar.ErrNoSuchKey) {
		t.Fatalf("object after failed completes: %v", err)
	}
	assertNoGarbage(t, s)

	// Unknown uploads.
	for _, id := range []string{"", "nope", strings.Repeat("0", 48), u.ID()[:47] + "/", strings.ToUpper(u.ID())} {
		if _, err := b.MultipartUpload(ctx, "k", id); !errors.Is(err, cellar.ErrNoSuchUpload) {
			t.Errorf("resume %q: %v", id, err)
		}
	}
	if _, err := b.MultipartUpload(ctx, "other", u.ID()); !errors.Is(err, cellar.ErrNoSuchUpload) {
		t.Errorf("resume under another key: %v", err)
	}

	// Aborting.
	if err := u.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Complete(ctx, []cellar.CompletedPart{{PartNumber: 1, ETag: p1.ETag}}, nil); !errors.Is(err, cellar.ErrNoSuchUpload) {
		t.Errorf("complete after abort: %v", err)
	}
	if err := u.Abort(ctx); !errors.Is(err, cellar.ErrNoSuchUpload) {
		t.Errorf("abort twice: %v", err)
	}
	if _, err := u.UploadPart(ctx, 1, strings.NewReader("x"), nil); !errors.Is(err, cellar.ErrNoSuchUpload) {
		t.Errorf("upload part after abort: %v", err)
	}
	assertNoGarbage(t, s)
	if n := countBlobs(t, s); n != before {
		t.Fatalf("%d blobs after abort, want %d", n, before)
	}
}

func TestMultipartConditionalComplete(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "cond")
	if err := b.SetVersioning(ctx, cellar.VersioningEnabled); err != nil {
		t.Fatal(err)
	}
	complete := func(key string, opts *cellar.CompleteOptions) (cellar.ObjectInfo, *cellar.MultipartUpload, error) {
		u := createUpload(t, b, key, nil)
		p := uploadPart(t, u, 1, []byte("body of "+key))
		info, err := u.Complete(ctx, []cellar.CompletedPart{{PartNumber: 1, ETag: p.ETag}}, opts)
		return info, u, err
	}
	// If-None-Match: * on a new key succeeds, on an existing one fails and
	// leaves the upload to be completed without the condition.
	first, _, err := complete("k", &cellar.CompleteOptions{IfNoneMatch: "*"})
	if err != nil || len(first.VersionID) != 32 || first.PartsCount != 1 {
		t.Fatalf("if-none-match on a new key: %+v %v", first, err)
	}
	_, u, err := complete("k", &cellar.CompleteOptions{IfNoneMatch: "*"})
	if !errors.Is(err, cellar.ErrPreconditionFailed) {
		t.Fatalf("if-none-match on an existing key: %v", err)
	}
	page, err := u.ListParts(ctx, nil)
	if err != nil || len(page.Parts) != 1 {
		t.Fatalf("upload after a failed condition: %+v %v", page, err)
	}
	if _, err := u.Complete(ctx, []cellar.CompletedPart{{PartNumber: 1, ETag: page.Parts[0].ETag}}, &cellar.CompleteOptions{IfMatch: "0123"}); !errors.Is(err, cellar.ErrPreconditionFailed) {
		t.Fatalf("if-match with a wrong ETag: %v", err)
	}
	second, err := u.Complete(ctx, []cellar.CompletedPart{{PartNumber: 1, ETag: page.Parts[0].ETag}}, &cellar.CompleteOptions{IfMatch: `"` + first.ETag + `"`})
	if err != nil || second.VersionID == first.VersionID {
		t.Fatalf("if-match with the current ETag: %+v %v", second, err)
	}
	if _, _, err := complete("absent", &cellar.CompleteOptions{IfMatch: "*"}); !errors.Is(err, cellar.ErrNoSuchKey) {
		t.Fatalf("if-match on a missing key: %v", err)
	}
	// Both versions read back.
	if got := readAll(t, b, "k", &cellar.GetOptions{VersionID: first.VersionID}); string(got) != "body of k" {
		t.Fatalf("first version: %q", got)
	}
	// The failed upload of "absent" is still there; abort it.
	page2, err := b.ListMultipartUploads(ctx, nil)
	if err != nil || len(page2.Uploads) != 1 || page2.Uploads[0].Key != "absent" {
		t.Fatalf("uploads: %+v %v", page2, err)
	}
	left, err := b.MultipartUpload(ctx, "absent", page2.Uploads[0].UploadID)
	if err != nil {
		t.Fatal(err)
	}
	if err := left.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	assertNoGarbage(t, s)
}

func TestListParts(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "parts")
	u := createUpload(t, b, "k", nil)
	nums := []int{21, 1, 13, 2, 8, 3, 5, 10000}
	for _, n := range nums {
		uploadPart(t, u, n, []byte(strconv.Itoa(n)))
	}
	slices.Sort(nums)
	for _, maxParts := range []int{1, 2, 3, 7, 8, 9, 0, 5000} {
		var got []int
		marker, pages := 0, 0
		for {
			page, err := u.ListParts(ctx, &cellar.ListPartsOptions{PartNumberMarker: marker, MaxParts: maxParts})
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if maxParts > 0 && len(page.Parts) > maxParts {
				t.Fatalf("max %d: page of %d", maxParts, len(page.Parts))
			}
			for _, p := range page.Parts {
				got = append(got, p.PartNumber)
			}
			if len(page.Parts) > 0 && page.NextPartNumberMarker != page.Parts[len(page.Parts)-1].PartNumber {
				t.Fatalf("next marker %d after part %d", page.NextPartNumberMarker, page.Parts[len(page.Parts)-1].PartNumber)
			}
			if !page.IsTruncated {
				break
			}
			marker = page.NextPartNumberMarker
		}
		if !slices.Equal(got, nums) {
			t.Fatalf("max %d: listed %v, want %v", maxParts, got, nums)
		}
		if want := max(1, (len(nums)+max(maxParts, 1)-1)/max(maxParts, 1)); maxParts > 0 && maxParts < len(nums) && pages != want {
			t.Fatalf("max %d: %d pages, want %d", maxParts, pages, want)
		}
	}
	page, err := u.ListParts(ctx, &cellar.ListPartsOptions{PartNumberMarker: 5})
	if err != nil || len(page.Parts) != 4 || page.Parts[0].PartNumber != 8 {
		t.Fatalf("after marker 5: %+v %v", page, err)
	}
	if page, err := u.ListParts(ctx, &cellar.ListPartsOptions{PartNumberMarker: 10000}); err != nil || len(page.Parts) != 0 || page.IsTruncated {
		t.Fatalf("after marker 10000: %+v %v", page, err)
	}
	for _, o := range []cellar.ListPartsOptions{{PartNumberMarker: -1}, {MaxParts: -1}} {
		if _, err := u.ListParts(ctx, &o); !errors.Is(err, cellar.ErrInvalidArgument) {
			t.Errorf("%+v: %v", o, err)
		}
	}
	if err := u.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	assertNoGarbage(t, s)
}

// modelUploads lists uploads as S3 does, from the full sorted list.
func modelUploads(all []cellar.UploadInfo, o cellar.ListUploadsOptions) (ups []string, prefixes []string) {
	seen := map[string]bool{}
	for _, u := range all {
		if !strings.HasPrefix(u.Key, o.Prefix) {
			continue
		}
		if o.KeyMarker != "" {
			if u.Key < o.KeyMarker || u.Key == o.KeyMarker && (o.UploadIDMarker == "" || u.UploadID <= o.UploadIDMarker) {
				continue
			}
		}
		if o.Delimiter != "" {
			if i := strings.Index(u.Key[len(o.Prefix):], o.Delimiter); i >= 0 {
				cp := u.Key[:len(o.Prefix)+i+len(o.Delimiter)]
				if !seen[cp] && cp != o.KeyMarker {
					seen[cp] = true
					prefixes = append(prefixes, cp)
				}
				continue
			}
		}
		ups = append(ups, u.Key+" "+u.UploadID)
	}
	return ups, prefixes
}

func TestListMultipartUploads(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "uploads")
	var all []cellar.UploadInfo
	for _, key := range []string{"d", "a", "b/1", "a", "c/x/y", "b/2", "a", "c/z", "b/1", "e/"} {
		u := createUpload(t, b, key, nil)
		all = append(all, cellar.UploadInfo{Key: key, UploadID: u.ID(), Initiated: u.Initiated()})
	}
	// Sorted by key, then by initiation (which is creation order here).
	slices.SortStableFunc(all, func(x, y cellar.UploadInfo) int { return strings.Compare(x.Key, y.Key) })
	page, err := b.ListMultipartUploads(ctx, nil)
	if err != nil || page.IsTruncated || len(page.Uploads) != len(all) {
		t.Fatalf("list: %+v %v", page, err)
	}
	for i, u := range page.Uploads {
		if u.Key != all[i].Key || u.UploadID != all[i].UploadID || !u.Initiated.Equal(all[i].Initiated) || u.StorageClass != "STANDARD" {
			t.Fatalf("upload %d: %+v, want %+v", i, u, all[i])
		}
	}
	// Every way of paging gives what the model says.
	for _, o := range []cellar.ListUploadsOptions{
		{}, {Prefix: "b/"}, {Delimiter: "/"}, {Prefix: "c/", Delimiter: "/"}, {Prefix: "zz"},
		{KeyMarker: "a"}, {KeyMarker: "a", UploadIDMarker: all[0].UploadID}, {KeyMarker: "b/", Delimiter: "/"},
		{UploadIDMarker: all[3].UploadID}, {KeyMarker: "b", Delimiter: "/"}, {Prefix: "c", Delimiter: "/x"},
	} {
		wantUps, wantPrefixes := modelUploads(all, o)
		for _, maxUploads := range []int{1, 2, 3, 1000} {
			o := o
			o.MaxUploads = maxUploads
			var ups, prefixes []string
			for {
				page, err := b.ListMultipartUploads(ctx, &o)
				if err != nil {
					t.Fatal(err)
				}
				if len(page.Uploads)+len(page.CommonPrefixes) > maxUploads {
					t.Fatalf("%+v: page too long: %+v", o, page)
				}
				for _, u := range page.Uploads {
					ups = append(ups, u.Key+" "+u.UploadID)
				}
				prefixes = append(prefixes, page.CommonPrefixes...)
				if !page.IsTruncated {
					break
				}
				o.KeyMarker, o.UploadIDMarker = page.NextKeyMarker, page.NextUploadIDMarker
			}
			if !slices.Equal(ups, wantUps) || !slices.Equal(prefixes, wantPrefixes) {
				t.Fatalf("%+v: got %v %v, want %v %v", o, ups, prefixes, wantUps, wantPrefixes)
			}
		}
	}
	n := 0
	for u, err := range b.Uploads(ctx, &cellar.ListUploadsOptions{MaxUploads: 3}) {
		if err != nil || u.UploadID != all[n].UploadID {
			t.Fatalf("walk %d: %+v %v", n, u, err)
		}
		n++
	}
	if n != len(all) {
		t.Fatalf("walked %d uploads, want %d", n, len(all))
	}
	if _, err := b.ListMultipartUploads(ctx, &cellar.ListUploadsOptions{MaxUploads: -1}); !errors.Is(err, cellar.ErrInvalidArgument) {
		t.Fatalf("negative MaxUploads: %v", err)
	}
	if _, err := s.Bucket("nope").ListMultipartUploads(ctx, nil); !errors.Is(err, cellar.ErrNoSuchBucket) {
		t.Fatalf("missing bucket: %v", err)
	}
}

func TestGetPartNumberAndRanges(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "get")
	parts := [][]byte{mpBytes(1, 5*mib), mpBytes(2, 5*mib+1), mpBytes(3, 77_777)}
	whole := putParts(t, b, "mp", parts)
	for i, p := range parts {
		opts := &cellar.GetOptions{PartNumber: i + 1}
		if got := readAll(t, b, "mp", opts); !bytes.Equal(got, p) {
			t.Fatalf("part %d: wrong bytes", i+1)
		}
		obj, err := b.Get(ctx, "mp", opts)
		if err != nil {
			t.Fatal(err)
		}
		info := obj.Info()
		obj.Close()
		if info.Size != int64(len(p)) || info.ETag != whole.ETag || info.PartsCount != 3 {
			t.Fatalf("part %d: info %+v", i+1, info)
		}
		h, err := b.Head(ctx, "mp", opts)
		if err != nil || h.Size != int64(len(p)) || h.ETag != whole.ETag || h.PartsCount != 3 {
			t.Fatalf("head part %d: %+v %v", i+1, h, err)
		}
	}
	for _, n := range []int{4, 10000} {
		if _, err := b.Get(ctx, "mp", &cellar.GetOptions{PartNumber: n}); !errors.Is(err, cellar.ErrInvalidPartNumber) {
			t.Errorf("get part %d: %v", n, err)
		}
		if _, err := b.Head(ctx, "mp", &cellar.GetOptions{PartNumber: n}); !errors.Is(err, cellar.ErrInvalidPartNumber) {
			t.Errorf("head part %d: %v", n, err)
		}
	}
	for _, n := range []int{-1, 10001} {
		if _, err := b.Head(ctx, "mp", &cellar.GetOptions{PartNumber: n}); !errors.Is(err, cellar.ErrInvalidArgument) {
			t.Errorf("head part %d: %v", n, err)
		}
	}
	// An object put in one piece has one part: itself.
	if _, err := b.Put(ctx, "single", strings.NewReader("one piece"), nil); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, b, "single", &cellar.GetOptions{PartNumber: 1}); string(got) != "one piece" {
		t.Fatalf("part 1 of a single object: %q", got)
	}
	if h, err := b.Head(ctx, "single", nil); err != nil || h.PartsCount != 0 {
		t.Fatalf("head single: %+v %v", h, err)
	}
	if _, err := b.Get(ctx, "single", &cellar.GetOptions{PartNumber: 2}); !errors.Is(err, cellar.ErrInvalidPartNumber) {
		t.Fatalf("part 2 of a single object: %v", err)
	}

	// Ranged reads across part boundaries.
	all := bytes.Join(parts, nil)
	obj, err := b.Get(ctx, "mp", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	b1, b2 := int64(len(parts[0])), int64(len(parts[0])+len(parts[1]))
	for _, r := range [][2]int64{
		{b1 - 1, 2}, {b1 - 100_000, 200_000}, {b1, 1}, {b2 - 1, 2}, {b2 - 3, 77_780},
		{b2 + 77_000, 777}, {b2 + 77_000, 7777},
	} {
		off, n := r[0], r[1]
		buf := make([]byte, n)
		got, err := obj.ReadAt(buf, off)
		end := min(off+n, int64(len(all)))
		if int64(got) != end-off || !bytes.Equal(buf[:got], all[off:end]) {
			t.Fatalf("ReadAt(%d, %d): %d bytes, %v", off, n, got, err)
		}
		if end < off+n && err != io.EOF {
			t.Fatalf("ReadAt(%d, %d) past the end: %v", off, n, err)
		}
	}
	// Seek and stream across a boundary.
	if _, err := obj.Seek(b2-5000, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(obj)
	if err != nil || !bytes.Equal(rest, all[b2-5000:]) {
		t.Fatalf("stream from %d: %d bytes %v", b2-5000, len(rest), err)
	}
}

func TestUploadPartConcurrent(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "conc")
	u := createUpload(t, b, "k", nil)
	// 16 goroutines upload 16 parts at once, and 16 more all upload
	// part 17: one of them wins, the others' data is replaced.
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 32 {
		wg.Go(func() {
			n, data := i+1, mpBytes(uint64(i), 50_000+i)
			if i >= 16 {
				n = 17
			}
			info, err := u.UploadPart(ctx, n, bytes.NewReader(data), nil)
			if err == nil && info.ETag != md5hex(data) {
				err = fmt.Errorf("part %d: ETag %s", n, info.ETag)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	page, err := u.ListParts(ctx, nil)
	if err != nil || len(page.Parts) != 17 {
		t.Fatalf("parts: %+v %v", page, err)
	}
	for i, p := range page.Parts[:16] {
		if p.ETag != md5hex(mpBytes(uint64(i), 50_000+i)) {
			t.Fatalf("part %d has the wrong ETag", i+1)
		}
	}
	winner := -1
	for i := 16; i < 32; i++ {
		if page.Parts[16].ETag == md5hex(mpBytes(uint64(i), 50_000+i)) {
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("part 17 is none of the uploads")
	}
	assertNoGarbage(t, s)
	if n := countBlobs(t, s); n != 17*6 {
		t.Fatalf("%d blobs for 17 parts", n)
	}
	// Complete with part 17 alone: the other parts go.
	info, err := u.Complete(ctx, []cellar.CompletedPart{{PartNumber: 17, ETag: page.Parts[16].ETag}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, b, "k", nil); !bytes.Equal(got, mpBytes(uint64(winner), 50_000+winner)) || info.PartsCount != 1 {
		t.Fatal("wrong bytes")
	}
	assertNoGarbage(t, s)
	if n := countBlobs(t, s); n != 6 {
		t.Fatalf("%d blobs for a one-part object", n)
	}
}

// TestCompleteRacesUploadPart completes (or aborts) an upload while parts
// are being uploaded to it: every part either made it in before and is
// freed as unused, or fails with ErrNoSuchUpload and leaves nothing.
func TestCompleteRacesUploadPart(t *testing.T) {
	for _, abort := range []bool{false, true} {
		t.Run(fmt.Sprintf("abort=%v", abort), func(t *testing.T) {
			ctx := context.Background()
			s := newStore(t, nil)
			b := newBucket(t, s, "race")
			u := createUpload(t, b, "k", nil)
			first := uploadPart(t, u, 1, []byte("the only part"))
			var wg sync.WaitGroup
			var mu sync.Mutex
			var stored, refused int
			started := make(chan struct{}, 8)
			for g := range 8 {
				wg.Go(func() {
					for i := 0; ; i++ {
						_, err := u.UploadPart(ctx, 2+g, bytes.NewReader(mpBytes(uint64(g*1000+i), 20_000)), nil)
						mu.Lock()
						if err == nil {
							stored++
						} else {
							refused++
						}
						mu.Unlock()
						if i == 0 {
							started <- struct{}{}
						}
						if errors.Is(err, cellar.ErrNoSuchUpload) {
							return
						}
						if err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			for range 8 {
				<-started
			}
			if abort {
				if err := u.Abort(ctx); err != nil {
					t.Fatal(err)
				}
			} else if _, err := u.Complete(ctx, []cellar.CompletedPart{{PartNumber: 1, ETag: first.ETag}}, nil); err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			if refused != 8 || stored < 8 {
				t.Fatalf("stored %d parts, refused %d", stored, refused)
			}
			assertNoGarbage(t, s)
			want := 3 // the only part is small: RS(1,2)
			if abort {
				want = 0
			}
			if n := countBlobs(t, s); n != want {
				t.Fatalf("%d blobs left, want %d", n, want)
			}
		})
	}
}

func TestAbortFreesEverything(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "abort")
	if _, err := b.Put(ctx, "keep", strings.NewReader("kept"), nil); err != nil {
		t.Fatal(err)
	}
	before := countBlobs(t, s)
	u := createUpload(t, b, "k", nil)
	for n := 1; n <= 3; n++ {
		uploadPart(t, u, n, mpBytes(uint64(n), 100_000))
	}
	uploadPart(t, u, 2, mpBytes(9, 1000)) // a replaced part too
	if n := countBlobs(t, s); n <= before {
		t.Fatalf("%d blobs after uploading parts", n)
	}
	if err := u.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countBlobs(t, s); n != before {
		t.Fatalf("%d blobs after abort and sweep, want %d", n, before)
	}
	if page, _ := b.ListMultipartUploads(ctx, nil); len(page.Uploads) != 0 {
		t.Fatalf("uploads after abort: %+v", page)
	}
	assertNoGarbage(t, s)
	if got := readAll(t, b, "keep", nil); string(got) != "kept" {
		t.Fatal("other object changed")
	}
}

func TestMultipartGraceAndHeal(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	opts := smallOpts()
	opts.DeleteGrace = time.Minute
	opts.Clock = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s, zones := faultyStore(t, opts)
	b := newBucket(t, s, "grace")
	u := createUpload(t, b, "k", nil)
	// A part written with a zone offline is healed later.
	zones[1].SetOffline(true)
	uploadPart(t, u, 1, mpBytes(1, 300_000))
	zones[1].SetOffline(false)
	if rep, err := s.Heal(ctx); err != nil || rep.Healed != 2 {
		t.Fatalf("heal: %+v %v", rep, err)
	}
	if rep, err := s.Check(ctx); err != nil || len(rep.Problems) > 0 || rep.Degraded != 0 {
		t.Fatalf("check after heal: %+v %v", rep, err)
	}
	// A replaced part is kept for the grace period.
	uploadPart(t, u, 1, mpBytes(2, 1000))
	if rep, _ := s.Sweep(ctx); rep.Deleted != 0 {
		t.Fatalf("replaced part deleted before the grace period: %+v", rep)
	}
	mu.Lock()
	now = now.Add(61 * time.Second)
	mu.Unlock()
	if rep, _ := s.Sweep(ctx); rep.Deleted != 1 {
		t.Fatalf("replaced part not deleted after the grace period: %+v", rep)
	}
	if err := u.Abort(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestMultipartResumeNewStore goes on with an upload in a new Store over
// the same zones and index, as a new process would.
func TestMultipartResumeNewStore(t *testing.T) {
	ctx := context.Background()
	idx, err := index.OpenPebbleMemory(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	zones := []backend.Backend{backend.NewMemory(), backend.NewMemory(), backend.NewMemory()}
	open := func() *cellar.Store {
		o := smallOpts()
		o.Zones, o.Index = zones, idx
		return newStore(t, o)
	}
	s1 := open()
	b1 := newBucket(t, s1, "resume")
	u1 := createUpload(t, b1, "k", &cellar.PutOptions{ContentType: "text/plain"})
	p1 := uploadPart(t, u1, 1, mpBytes(1, 5*mib))
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := u1.UploadPart(ctx, 2, strings.NewReader("x"), nil); !errors.Is(err, cellar.ErrClosed) {
		t.Fatalf("upload part on a closed store: %v", err)
	}

	s2 := open()
	b2 := s2.Bucket("resume")
	u2, err := b2.MultipartUpload(ctx, "k", u1.ID())
	if err != nil {
		t.Fatal(err)
	}
	if !u2.Initiated().Equal(u1.Initiated()) {
		t.Fatalf("initiated %v, was %v", u2.Initiated(), u1.Initiated())
	}
	page, err := u2.ListParts(ctx, nil)
	if err != nil || len(page.Parts) != 1 || page.Parts[0].ETag != p1.ETag {
		t.Fatalf("parts in the new store: %+v %v", page, err)
	}
	p2 := uploadPart(t, u2, 2, []byte("end"))
	info, err := u2.Complete(ctx, []cellar.CompletedPart{{PartNumber: 1, ETag: p1.ETag}, {PartNumber: 2, ETag: p2.ETag}}, nil)
	if err != nil || info.ContentType != "text/plain" {
		t.Fatalf("complete: %+v %v", info, err)
	}
	if got := readAll(t, b2, "k", nil); !bytes.Equal(got, append(mpBytes(1, 5*mib), "end"...)) {
		t.Fatal("wrong bytes")
	}
	assertNoGarbage(t, s2)
}

func TestUploadPartCopy(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	opts := smallOpts()
	opts.Clock = func() time.Time { return now }
	s := newStore(t, opts)
	src := newBucket(t, s, "src")
	dst := newBucket(t, s, "dst")
	if err := src.SetVersioning(ctx, cellar.VersioningEnabled); err != nil {
		t.Fatal(err)
	}
	big := mpBytes(1, 5*mib+1000)
	v1, err := src.Put(ctx, "big", bytes.NewReader(big), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Put(ctx, "big", strings.NewReader("newer version"), nil); err != nil {
		t.Fatal(err)
	}
	small, err := src.Put(ctx, "small", strings.NewReader("small source"), nil)
	if err != nil {
		t.Fatal(err)
	}
	u := createUpload(t, dst, "copy", nil)
	past, future := now.Add(-time.Hour), now.Add(time.Hour)

	// Conditions on the source: every failure is a precondition failure.
	for name, o := range map[string]cellar.PartCopyOptions{
		"if-match":                    {CopySourceIfMatch: "nope"},
		"if-none-match":               {CopySourceIfNoneMatch: small.ETag},
		"if-unmodified-since":         {CopySourceIfUnmodifiedSince: past},
		"if-modified-since":           {CopySourceIfModifiedSince: now},
		"if-none-match false + since": {CopySourceIfNoneMatch: `"` + small.ETag + `"`, CopySourceIfModifiedSince: past},
	} {
		if _, err := u.UploadPartCopy(ctx, 2, "src", "small", &o); !errors.Is(err, cellar.ErrPreconditionFailed) {
			t.Errorf("%s: %v, want ErrPreconditionFailed", name, err)
		}
	}
	for name, o := range map[string]cellar.PartCopyOptions{
		"if-match true + unmodified-since false": {CopySourceIfMatch: small.ETag, CopySourceIfUnmodifiedSince: past},
		"if-modified-since in the future":        {CopySourceIfModifiedSince: future},
		"if-none-match true + since false":       {CopySourceIfNoneMatch: "other", CopySourceIfModifiedSince: now},
	} {
		if _, err := u.UploadPartCopy(ctx, 2, "src", "small", &o); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Ranges.
	for _, r := range [][2]int64{{-1, 5}, {5, 4}, {0, int64(len(big))}, {int64(len(big)), int64(len(big))}} {
		if _, err := u.UploadPartCopy(ctx, 1, "src", "big", &cellar.PartCopyOptions{SourceVersionID: v1.VersionID, Range: &r}); !errors.Is(err, cellar.ErrInvalidRange) {
			t.Errorf("range %v: %v", r, err)
		}
	}
	if _, err := u.UploadPartCopy(ctx, 1, "src", "missing", nil); !errors.Is(err, cellar.ErrNoSuchKey) {
		t.Errorf("missing source: %v", err)
	}
	if _, err := u.UploadPartCopy(ctx, 1, "nope", "big", nil); !errors.Is(err, cellar.ErrNoSuchBucket) {
		t.Errorf("missing source bucket: %v", err)
	}
	if _, err := u.UploadPartCopy(ctx, 0, "src", "big", nil); !errors.Is(err, cellar.ErrInvalidArgument) {
		t.Errorf("part 0: %v", err)
	}

	// Part 1: the first 5 MiB + 10 bytes of the old version of big; part
	// 2: all of small (copied above); part 3: a range inside big.
	r1 := [2]int64{0, 5*mib + 9}
	c1, err := u.UploadPartCopy(ctx, 1, "src", "big", &cellar.PartCopyOptions{SourceVersionID: v1.VersionID, Range: &r1})
	if err != nil || c1.Size != 5*mib+10 || c1.ETag != md5hex(big[:5*mib+10]) {
		t.Fatalf("copy part 1: %+v %v", c1, err)
	}
	r3 := [2]int64{100, 199}
	c3, err := u.UploadPartCopy(ctx, 3, "src", "big", &cellar.PartCopyOptions{SourceVersionID: v1.VersionID, Range: &r3})
	if err != nil {
		t.Fatal(err)
	}
	page, err := u.ListParts(ctx, nil)
	if err != nil || len(page.Parts) != 3 {
		t.Fatalf("parts: %+v %v", page, err)
	}
	c2 := page.Parts[1]
	if _, err := u.Complete(ctx, []cellar.CompletedPart{{PartNumber: 1, ETag: c1.ETag}, {PartNumber: 2, ETag: c2.ETag}, {PartNumber: 3, ETag: c3.ETag}}, nil); !errors.Is(err, cellar.ErrEntityTooSmall) {
		t.Fatalf("complete with a small middle part: %v", err)
	}
	info, err := u.Complete(ctx, []cellar.CompletedPart{{PartNumber: 1, ETag: c1.ETag}, {PartNumber: 2, ETag: c2.ETag}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]byte(nil), big[:5*mib+10]...), "small source"...)
	if info.Size != int64(len(want)) {
		t.Fatalf("size %d", info.Size)
	}
	// The copy shares nothing with its sources.
	if _, err := src.Delete(ctx, "big", &cellar.DeleteOptions{VersionID: v1.VersionID}); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Delete(ctx, "small", &cellar.DeleteOptions{VersionID: small.VersionID}); err != nil {
		t.Fatal(err)
	}
	assertNoGarbage(t, s)
	if got := readAll(t, dst, "copy", nil); !bytes.Equal(got, want) {
		t.Fatal("wrong bytes")
	}
}

// WriteRange and WriteTo give the bytes ReadAt and Read give, across part
// boundaries, and pass the writer's error through as it is.
func TestObjectWriteRange(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "write-range")
	parts := [][]byte{mpBytes(4, 5*mib), mpBytes(5, 5*mib+3), mpBytes(6, 1234)}
	putParts(t, b, "mp", parts)
	data := bytes.Join(parts, nil)
	obj, err := b.Get(ctx, "mp", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	size := int64(len(data))
	for _, c := range []struct{ off, n int64 }{
		{0, size}, {0, 0}, {5*mib - 10, 20}, {5*mib - 1, 5*mib + 5}, {size - 1, 1},
		{size - 100, 1000}, {size, 1}, {size + 5, 1}, {123, 3 * mib},
	} {
		var buf bytes.Buffer
		n, err := obj.WriteRange(&buf, c.off, c.n)
		want := data[min(c.off, size):min(c.off+c.n, size)]
		wantErr := error(nil)
		if c.off >= size || c.off+c.n > size {
			wantErr = io.EOF
		}
		if n != int64(len(want)) || err != wantErr || !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("WriteRange(%d, %d) = %d, %v; want %d, %v", c.off, c.n, n, err, len(want), wantErr)
		}
	}
	if _, err := obj.WriteRange(io.Discard, -1, 1); !errors.Is(err, cellar.ErrInvalidArgument) {
		t.Errorf("negative offset: %v", err)
	}
	// io.Copy uses WriteTo, from the current offset.
	if _, err := obj.Seek(5*mib-7, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if n, err := io.Copy(&buf, obj); err != nil || !bytes.Equal(buf.Bytes(), data[5*mib-7:]) {
		t.Fatalf("io.Copy after Seek: %d, %v", n, err)
	}
	if n, err := obj.WriteTo(&buf); n != 0 || err != nil {
		t.Fatalf("WriteTo at the end: %d, %v", n, err)
	}
	errFull := errors.New("full")
	w := &failAfter{n: 5*mib + 99, err: errFull}
	if n, err := obj.WriteRange(w, 0, size); err != errFull || n != 5*mib+99 || !bytes.Equal(w.got, data[:5*mib+99]) {
		t.Fatalf("WriteRange into a failing writer: %d, %v, want %d, %v", n, err, 5*mib+99, errFull)
	}
	obj.Close()
	if _, err := obj.WriteRange(io.Discard, 0, 1); !errors.Is(err, cellar.ErrClosed) {
		t.Errorf("WriteRange after Close: %v", err)
	}
}

// failAfter takes n bytes, then fails with err.
type failAfter struct {
	n   int
	err error
	got []byte
}

func (w *failAfter) Write(p []byte) (int, error) {
	c := min(len(p), w.n-len(w.got))
	w.got = append(w.got, p[:c]...)
	if c < len(p) {
		return c, w.err
	}
	return c, nil
}

// putParts uploads parts as a multipart upload of key and completes it.
func putParts(t *testing.T, b *cellar.Bucket, key string, parts [][]byte) cellar.ObjectInfo {
	t.Helper()
	u := createUpload(t, b, key, nil)
	var done []cellar.CompletedPart
	for i, p := range parts {
		done = append(done, cellar.CompletedPart{PartNumber: i + 1, ETag: uploadPart(t, u, i+1, p).ETag})
	}
	info, err := u.Complete(context.Background(), done, nil)
	if err != nil {
		t.Fatal(err)
	}
	return info
}
