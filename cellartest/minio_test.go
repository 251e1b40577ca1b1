package cellartest_test

// Conformance of cellar's S3 endpoint with minio-go v7: over TLS (where
// minio-go signs UNSIGNED-PAYLOAD and may add a checksum trailer) and over
// plain HTTP (where it signs every chunk: STREAMING-AWS4-HMAC-SHA256-PAYLOAD).

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/cellarhq/cellar/cellartest"
)

// newMinio returns a minio-go client for srv. With region empty the
// client asks the server for each bucket's location first, as minio-go
// does by default.
func newMinio(t testing.TB, srv *cellartest.Server, region string) (*minio.Client, *recorder) {
	t.Helper()
	return newMinioKeys(t, srv, srv.AccessKey, srv.SecretKey, region)
}

func newMinioKeys(t testing.TB, srv *cellartest.Server, accessKey, secretKey, region string) (*minio.Client, *recorder) {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{base: srv.Client().Transport}
	c, err := minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(accessKey, secretKey, ""),
		Secure:       u.Scheme == "https",
		Transport:    rec,
		Region:       region,
		BucketLookup: minio.BucketLookupPath,
		MaxRetries:   1,
	})
	if err != nil {
		t.Fatalf("minio.New: %v", err)
	}
	return c, rec
}

func minioCode(err error) string { return minio.ToErrorResponse(err).Code }

func TestMinioTLS(t *testing.T) {
	srv := cellartest.NewServer(t, &cellartest.Options{TLS: true})
	mc, rec := newMinio(t, srv, srv.Region)
	ctx := ctxT(t)
	if err := mc.MakeBucket(ctx, "mio", minio.MakeBucketOptions{Region: srv.Region}); err != nil {
		t.Fatalf("MakeBucket: %v", err)
	}
	ok, err := mc.BucketExists(ctx, "mio")
	if err != nil || !ok {
		t.Errorf("BucketExists mio: %v, %v", ok, err)
	}
	ok, err = mc.BucketExists(ctx, "nope")
	if err != nil || ok {
		t.Errorf("BucketExists nope: %v, %v; want false, nil", ok, err)
	}

	body := randBytes(10, 70_000)
	info, err := mc.PutObject(ctx, "mio", "dir/a b.bin", bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{
		ContentType:  "application/x-minio",
		UserMetadata: map[string]string{"Colour": "green"},
	})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	sent, _ := rec.last(http.MethodPut, "/mio/dir/a%20b.bin")
	t.Logf("minio PutObject over TLS sent X-Amz-Content-Sha256 %q, X-Amz-Trailer %q, Content-Encoding %q",
		sent.header.Get("X-Amz-Content-Sha256"), sent.header.Get("X-Amz-Trailer"), sent.header.Get("Content-Encoding"))
	if info.Size != int64(len(body)) || `"`+info.ETag+`"` != md5ETag(body) {
		t.Errorf("PutObject: size %d, ETag %s; want %d, %s", info.Size, info.ETag, len(body), md5ETag(body))
	}

	obj, err := mc.GetObject(ctx, "mio", "dir/a b.bin", minio.GetObjectOptions{})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	st, err := obj.Stat() // before reading: Stat gives the bytes left to read
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if st.ContentType != "application/x-minio" || st.UserMetadata["Colour"] != "green" || st.Size != int64(len(body)) || st.ETag != info.ETag {
		t.Errorf("Stat: type %q, metadata %v, size %d, ETag %s", st.ContentType, st.UserMetadata, st.Size, st.ETag)
	}
	got, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("GetObject read: %v", err)
	}
	if !bytes.Equal(got, body) {
		t.Errorf("GetObject: %d bytes, first difference at %d", len(got), firstDiff(got, body))
	}
	// ReadAt, which minio-go serves with ranged GETs.
	part := make([]byte, 1000)
	if _, err := obj.ReadAt(part, 50_000); err != nil || !bytes.Equal(part, body[50_000:51_000]) {
		t.Errorf("ReadAt: %v, equal %v", err, bytes.Equal(part, body[50_000:51_000]))
	}
	obj.Close()

	// An upload of unknown size in 5 MiB parts: minio-go's multipart path.
	big := randBytes(11, 5*mib+100)
	info, err = mc.PutObject(ctx, "mio", "big", io.MultiReader(bytes.NewReader(big)), -1, minio.PutObjectOptions{PartSize: 5 * mib})
	if err != nil {
		t.Fatalf("PutObject of unknown size: %v", err)
	}
	if !strings.HasSuffix(info.ETag, "-2") {
		t.Errorf("PutObject of unknown size: ETag %s; want a 2-part multipart ETag", info.ETag)
	}
	obj, err = mc.GetObject(ctx, "mio", "big", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err = io.ReadAll(obj)
	obj.Close()
	if err != nil || !bytes.Equal(got, big) {
		t.Errorf("GetObject of the multipart object: %v, %d bytes, first difference at %d", err, len(got), firstDiff(got, big))
	}

	for _, k := range []string{"dir/b", "dir/sub/c", "top"} {
		if _, err := mc.PutObject(ctx, "mio", k, strings.NewReader(k), int64(len(k)), minio.PutObjectOptions{}); err != nil {
			t.Fatalf("PutObject %s: %v", k, err)
		}
	}
	list := func(opts minio.ListObjectsOptions) []string {
		var keys []string
		for o := range mc.ListObjects(ctx, "mio", opts) {
			if o.Err != nil {
				t.Fatalf("ListObjects %+v: %v", opts, o.Err)
			}
			keys = append(keys, o.Key)
		}
		return keys
	}
	if got, want := list(minio.ListObjectsOptions{Recursive: true}), []string{"big", "dir/a b.bin", "dir/b", "dir/sub/c", "top"}; !slices.Equal(got, want) {
		t.Errorf("ListObjects recursive: %q; want %q", got, want)
	}
	if got, want := list(minio.ListObjectsOptions{Prefix: "dir/"}), []string{"dir/a b.bin", "dir/b", "dir/sub/"}; !slices.Equal(got, want) {
		t.Errorf("ListObjects dir/: %q; want %q", got, want)
	}
	if got, want := list(minio.ListObjectsOptions{Recursive: true, MaxKeys: 2, UseV1: true}), []string{"big", "dir/a b.bin", "dir/b", "dir/sub/c", "top"}; !slices.Equal(got, want) {
		t.Errorf("ListObjects v1 in pages of 2: %q; want %q", got, want)
	}

	if err := mc.RemoveObject(ctx, "mio", "top", minio.RemoveObjectOptions{}); err != nil {
		t.Errorf("RemoveObject: %v", err)
	}
	_, err = mc.StatObject(ctx, "mio", "top", minio.StatObjectOptions{})
	if code := minioCode(err); code != "NoSuchKey" {
		t.Errorf("StatObject of a removed key: %v (code %q); want NoSuchKey", err, code)
	}
	objs := make(chan minio.ObjectInfo, 2)
	objs <- minio.ObjectInfo{Key: "dir/b"}
	objs <- minio.ObjectInfo{Key: "dir/sub/c"}
	close(objs)
	for e := range mc.RemoveObjects(ctx, "mio", objs, minio.RemoveObjectsOptions{}) {
		t.Errorf("RemoveObjects: %s: %v", e.ObjectName, e.Err)
	}
	if got, want := list(minio.ListObjectsOptions{Recursive: true}), []string{"big", "dir/a b.bin"}; !slices.Equal(got, want) {
		t.Errorf("after removes: %q; want %q", got, want)
	}

	// Presigned URLs, used with plain net/http.
	hc := srv.Client()
	pu, err := mc.PresignedPutObject(ctx, "mio", "pre signed", 5*time.Minute)
	if err != nil {
		t.Fatalf("PresignedPutObject: %v", err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, pu.String(), strings.NewReader("via presigned put"))
	if resp := do(t, hc, req); resp.StatusCode != http.StatusOK {
		t.Fatalf("presigned PUT: %s: %s", resp.Status, resp.body)
	}
	pg, err := mc.PresignedGetObject(ctx, "mio", "pre signed", 5*time.Minute, url.Values{"response-content-type": {"text/plain"}})
	if err != nil {
		t.Fatalf("PresignedGetObject: %v", err)
	}
	resp := do(t, hc, mustRequest(t, ctx, http.MethodGet, pg.String()))
	if resp.StatusCode != http.StatusOK || string(resp.body) != "via presigned put" || resp.Header.Get("Content-Type") != "text/plain" {
		t.Errorf("presigned GET: %s, %q, type %q; want 200, the body, text/plain (response-content-type)", resp.Status, resp.body, resp.Header.Get("Content-Type"))
	}

	// minio-go sends the GET at the first Read (a first Stat would be a
	// HEAD, whose error has no body, so no code but the status).
	missing, err := mc.GetObject(ctx, "nope", "x", minio.GetObjectOptions{})
	if err == nil {
		_, err = io.ReadAll(missing)
	}
	if code := minioCode(err); code != "NoSuchBucket" {
		t.Errorf("GetObject in a missing bucket: %v (code %q); want NoSuchBucket", err, code)
	}
}

// TestMinioStreamingSignature puts over plain HTTP, where minio-go signs
// each 64 KiB chunk of the body (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), and
// leaves the region empty so minio-go asks for the bucket's location.
func TestMinioStreamingSignature(t *testing.T) {
	srv := cellartest.NewServer(t, nil)
	mc, rec := newMinio(t, srv, "")
	ctx := context.Background()
	if err := mc.MakeBucket(ctx, "stream", minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("MakeBucket: %v", err)
	}
	loc, err := mc.GetBucketLocation(ctx, "stream")
	if err != nil || loc != srv.Region {
		t.Errorf("GetBucketLocation: %q, %v; want %q", loc, err, srv.Region)
	}
	for _, size := range []int{0, 1, 64 << 10, 200_001} {
		key := fmt.Sprintf("s-%d", size)
		body := randBytes(uint64(size)+100, size)
		info, err := mc.PutObject(ctx, "stream", key, bytes.NewReader(body), int64(size), minio.PutObjectOptions{ContentType: "application/x-stream"})
		if err != nil {
			t.Fatalf("PutObject %d bytes: %v", size, err)
		}
		sent, _ := rec.last(http.MethodPut, "/stream/"+key)
		if size > 0 && !strings.HasPrefix(sent.header.Get("X-Amz-Content-Sha256"), "STREAMING-AWS4-HMAC-SHA256-PAYLOAD") {
			t.Errorf("PutObject %d bytes: X-Amz-Content-Sha256 %q: not the streaming signature this test is for", size, sent.header.Get("X-Amz-Content-Sha256"))
		}
		if `"`+info.ETag+`"` != md5ETag(body) {
			t.Errorf("PutObject %d bytes: ETag %s; want %s", size, info.ETag, md5ETag(body))
		}
		obj, err := mc.GetObject(ctx, "stream", key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(obj)
		obj.Close()
		if err != nil || !bytes.Equal(got, body) {
			t.Errorf("GetObject %d bytes: %v, %d bytes, first difference at %d", size, err, len(got), firstDiff(got, body))
		}
	}
	// A chunk signed with the wrong key must be refused and store nothing.
	bad, _ := newMinioKeys(t, srv, srv.AccessKey, srv.SecretKey+"x", srv.Region)
	_, err = bad.PutObject(ctx, "stream", "forged", strings.NewReader("forged"), 6, minio.PutObjectOptions{})
	if code := minioCode(err); code != "SignatureDoesNotMatch" {
		t.Errorf("PutObject with a wrong secret: %v (code %q); want SignatureDoesNotMatch", err, code)
	}
}

// TestMinioChecksums runs minio-go with TrailingHeaders, as against MinIO
// or S3: a multipart PutObject asks for CRC32C on CreateMultipartUpload,
// sends each part's CRC32C and names the object's COMPOSITE checksum in
// CompleteMultipartUpload, without the "-N" suffix.
func TestMinioChecksums(t *testing.T) {
	srv := cellartest.NewServer(t, &cellartest.Options{TLS: true})
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{base: srv.Client().Transport}
	mc, err := minio.New(u.Host, &minio.Options{
		Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, ""), Secure: true, Transport: rec,
		Region: srv.Region, BucketLookup: minio.BucketLookupPath, MaxRetries: 1, TrailingHeaders: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	if err := mc.MakeBucket(ctx, "sums", minio.MakeBucketOptions{Region: srv.Region}); err != nil {
		t.Fatal(err)
	}
	body := randBytes(12, 70_000)
	info, err := mc.PutObject(ctx, "sums", "one", bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	// minio-go sends x-amz-checksum-algorithm here but no checksum, which
	// PutObject does not take: the object gets S3's default, CRC64NVME.
	if want := checksumOf(types.ChecksumAlgorithmCrc64nvme, body); info.ChecksumCRC64NVME != want || info.ChecksumMode != "FULL_OBJECT" {
		t.Errorf("PutObject: ChecksumCRC64NVME %q, type %q; want %s FULL_OBJECT", info.ChecksumCRC64NVME, info.ChecksumMode, want)
	}

	big := randBytes(13, 5*mib+100)
	info, err = mc.PutObject(ctx, "sums", "big", bytes.NewReader(big), int64(len(big)), minio.PutObjectOptions{PartSize: 5 * mib})
	if err != nil {
		t.Fatalf("multipart PutObject: %v", err)
	}
	if want := compositeChecksum(types.ChecksumAlgorithmCrc32c, big, 5*mib); info.ChecksumCRC32C != want {
		t.Errorf("multipart PutObject: ChecksumCRC32C %q; want %s", info.ChecksumCRC32C, want)
	}
	if sent, _ := rec.last(http.MethodPost, "/sums/big"); sent.header.Get("X-Amz-Checksum-Type") != "COMPOSITE" || strings.Contains(sent.header.Get("X-Amz-Checksum-Crc32c"), "-") {
		t.Errorf("CompleteMultipartUpload sent x-amz-checksum-crc32c %q, type %q: not the suffixless COMPOSITE value this test is for",
			sent.header.Get("X-Amz-Checksum-Crc32c"), sent.header.Get("X-Amz-Checksum-Type"))
	}
	obj, err := mc.GetObject(ctx, "sums", "big", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(obj)
	obj.Close()
	if err != nil || !bytes.Equal(got, big) {
		t.Errorf("GetObject of the multipart object: %v, %d bytes", err, len(got))
	}
}
