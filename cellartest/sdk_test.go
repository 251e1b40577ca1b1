package cellartest_test

// Conformance of cellar's S3 endpoint with aws-sdk-go-v2, used as a Go
// service would use it: path-style addressing, static credentials, the
// SDK's default checksum behaviour (CRC32 in an aws-chunked trailer over
// TLS), and the SDK's own error types. A client must not be able to tell
// cellar from S3.

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/minio/crc64nvme"

	"github.com/cellarhq/cellar/cellartest"
	"github.com/cellarhq/cellar/s3api/sigv4"
)

const mib = 1 << 20

// sdkEnv is a TLS server and an SDK client pointed at it, with a recorder
// of what the client sent.
type sdkEnv struct {
	srv    *cellartest.Server
	client *s3.Client
	rec    *recorder
}

func newSDK(t testing.TB) *sdkEnv {
	t.Helper()
	srv := cellartest.NewServer(t, &cellartest.Options{TLS: true})
	return sdkFor(t, srv)
}

// sdkFor returns an SDK client for srv configured as a service configures
// one for S3, with retries off so that a first failure is not hidden.
//
// The checksum settings are the SDK's defaults as config.LoadDefaultConfig
// resolves them for every service (CRC32 on each request that supports a
// checksum, responses validated); s3.New alone would leave them unset and
// send no checksums. LoadDefaultConfig itself is not used, so that the
// machine's AWS_* variables and shared config files (AWS_CA_BUNDLE, for
// one, makes it refuse a plain *http.Client) cannot change the test.
func sdkFor(t testing.TB, srv *cellartest.Server) *sdkEnv {
	t.Helper()
	rec := &recorder{base: srv.Client().Transport}
	client := s3.New(s3.Options{
		BaseEndpoint:               aws.String(srv.URL),
		UsePathStyle:               true,
		Region:                     srv.Region,
		Credentials:                credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, ""),
		HTTPClient:                 &http.Client{Transport: rec},
		RetryMaxAttempts:           1,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	})
	return &sdkEnv{srv: srv, client: client, rec: rec}
}

// recorder is an http.RoundTripper that keeps the method, path and
// headers of every request, as the SDK sent them.
type recorder struct {
	base    http.RoundTripper
	mu      sync.Mutex
	reqs    []sentRequest
	corrupt string // the path whose next GET to corrupt
}

type sentRequest struct {
	method, path string
	header       http.Header
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, sentRequest{req.Method, req.URL.EscapedPath(), req.Header.Clone()})
	corrupt := req.Method == http.MethodGet && r.corrupt != "" && req.URL.EscapedPath() == r.corrupt
	if corrupt {
		r.corrupt = ""
	}
	r.mu.Unlock()
	resp, err := r.base.RoundTrip(req)
	if err == nil && corrupt {
		resp.Body = &flipFirstByte{ReadCloser: resp.Body}
	}
	return resp, err
}

// corruptNext makes the next GET of path read back with its first byte
// changed, as a fault in flight would.
func (r *recorder) corruptNext(path string) {
	r.mu.Lock()
	r.corrupt = path
	r.mu.Unlock()
}

type flipFirstByte struct {
	io.ReadCloser
	done bool
}

func (f *flipFirstByte) Read(p []byte) (int, error) {
	n, err := f.ReadCloser.Read(p)
	if n > 0 && !f.done {
		p[0] ^= 0xff
		f.done = true
	}
	return n, err
}

// last returns the last request sent with method to a path ending in
// suffix.
func (r *recorder) last(method, suffix string) (sentRequest, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.reqs) - 1; i >= 0; i-- {
		if q := r.reqs[i]; q.method == method && strings.HasSuffix(q.path, suffix) {
			return q, true
		}
	}
	return sentRequest{}, false
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// randBytes returns n deterministic pseudo-random bytes.
func randBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), 7}).Read(b)
	return b
}

func md5ETag(b []byte) string {
	s := md5.Sum(b)
	return `"` + hex.EncodeToString(s[:]) + `"`
}

func mustBucket(t testing.TB, e *sdkEnv, name string) {
	t.Helper()
	if _, err := e.client.CreateBucket(ctxT(t), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("CreateBucket %s: %v", name, err)
	}
}

func mustPut(t testing.TB, e *sdkEnv, bucket, key string, body []byte) *s3.PutObjectOutput {
	t.Helper()
	out, err := e.client.PutObject(ctxT(t), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatalf("PutObject %s/%s: %v", bucket, key, err)
	}
	return out
}

// getBytes returns the body of a GetObject, failing the test on error.
func getBytes(t testing.TB, e *sdkEnv, in *s3.GetObjectInput) (*s3.GetObjectOutput, []byte) {
	t.Helper()
	out, err := e.client.GetObject(ctxT(t), in)
	if err != nil {
		t.Fatalf("GetObject %s/%s: %v", aws.ToString(in.Bucket), aws.ToString(in.Key), err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("GetObject %s/%s: reading body: %v", aws.ToString(in.Bucket), aws.ToString(in.Key), err)
	}
	return out, b
}

// wantAPIError checks that err is an S3 error with the code and HTTP
// status S3 gives.
func wantAPIError(t testing.TB, what string, err error, code string, status int) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error; want %s (%d)", what, code, status)
		return
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Errorf("%s: %v: not a smithy.APIError; want %s", what, err, code)
		return
	}
	if ae.ErrorCode() != code {
		t.Errorf("%s: error code %q (%v); want %q", what, ae.ErrorCode(), err, code)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Errorf("%s: %v: no HTTP response in error", what, err)
	} else if re.HTTPStatusCode() != status {
		t.Errorf("%s: HTTP status %d; want %d", what, re.HTTPStatusCode(), status)
	}
	if re != nil && re.ServiceRequestID() == "" {
		t.Errorf("%s: error has no request ID (x-amz-request-id)", what)
	}
}

func TestSDKBuckets(t *testing.T) {
	e := newSDK(t)
	ctx := ctxT(t)
	for _, b := range []string{"alpha", "beta.example", "gamma-1"} {
		mustBucket(t, e, b)
	}
	if _, err := e.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("alpha")}); err != nil {
		t.Errorf("HeadBucket alpha: %v", err)
	}
	_, err := e.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("missing")})
	var nf *types.NotFound
	if !errors.As(err, &nf) {
		t.Errorf("HeadBucket missing: %v; want *types.NotFound", err)
	}
	lb, err := e.client.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatalf("ListBuckets: %v", err)
	}
	var names []string
	for _, b := range lb.Buckets {
		names = append(names, aws.ToString(b.Name))
		if b.CreationDate == nil || time.Since(*b.CreationDate) > time.Hour || time.Until(*b.CreationDate) > time.Minute {
			t.Errorf("bucket %s: CreationDate %v", aws.ToString(b.Name), b.CreationDate)
		}
	}
	if want := []string{"alpha", "beta.example", "gamma-1"}; !slices.Equal(names, want) {
		t.Errorf("ListBuckets: %q; want %q", names, want)
	}

	_, err = e.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("Bad_Name")})
	wantAPIError(t, "CreateBucket Bad_Name", err, "InvalidBucketName", 400)

	mustPut(t, e, "alpha", "k", []byte("x"))
	_, err = e.client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("alpha")})
	wantAPIError(t, "DeleteBucket non-empty", err, "BucketNotEmpty", 409)
	if _, err := e.client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("gamma-1")}); err != nil {
		t.Errorf("DeleteBucket gamma-1: %v", err)
	}
	// The SDK models NoSuchBucket as a type only for ListObjects(V2); the
	// code is what other operations give.
	_, err = e.client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("gamma-1")})
	wantAPIError(t, "DeleteBucket deleted bucket", err, "NoSuchBucket", 404)
}

func TestSDKPutGetHead(t *testing.T) {
	e := newSDK(t)
	ctx := ctxT(t)
	mustBucket(t, e, "objects")
	body := randBytes(1, 10_000)
	// Keys that need escaping in a path and in XML.
	keys := []string{"plain.txt", "dir/sub dir/ä ö+&=%?#.bin", "a<b>&'\"", "trailing/", "a//b", "/leading", "dot/./x", "up/../y", "tab\there", "~user/!$*();,@:"}
	for _, key := range keys {
		put, err := e.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket:      aws.String("objects"),
			Key:         aws.String(key),
			Body:        bytes.NewReader(body),
			ContentType: aws.String("application/x-test"),
			Metadata:    map[string]string{"colour": "blue", "owner-id": "42"},
		})
		if err != nil {
			t.Fatalf("PutObject %q: %v", key, err)
		}
		if got := aws.ToString(put.ETag); got != md5ETag(body) {
			t.Errorf("PutObject %q: ETag %s; want %s", key, got, md5ETag(body))
		}
		get, got := getBytes(t, e, &s3.GetObjectInput{Bucket: aws.String("objects"), Key: aws.String(key)})
		if !bytes.Equal(got, body) {
			t.Errorf("GetObject %q: %d bytes differ from the %d put", key, len(got), len(body))
		}
		if aws.ToString(get.ContentType) != "application/x-test" || aws.ToString(get.ETag) != md5ETag(body) ||
			aws.ToInt64(get.ContentLength) != int64(len(body)) {
			t.Errorf("GetObject %q: type %q, ETag %s, length %d", key,
				aws.ToString(get.ContentType), aws.ToString(get.ETag), aws.ToInt64(get.ContentLength))
		}
		if get.Metadata["colour"] != "blue" || get.Metadata["owner-id"] != "42" || len(get.Metadata) != 2 {
			t.Errorf("GetObject %q: metadata %v", key, get.Metadata)
		}
		if get.LastModified == nil || time.Since(*get.LastModified) > time.Minute {
			t.Errorf("GetObject %q: LastModified %v", key, get.LastModified)
		}
		head, err := e.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("objects"), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("HeadObject %q: %v", key, err)
		}
		if aws.ToInt64(head.ContentLength) != int64(len(body)) || aws.ToString(head.ETag) != md5ETag(body) ||
			head.Metadata["colour"] != "blue" || aws.ToString(head.ContentType) != "application/x-test" {
			t.Errorf("HeadObject %q: length %d, ETag %s, metadata %v, type %q", key,
				aws.ToInt64(head.ContentLength), aws.ToString(head.ETag), head.Metadata, aws.ToString(head.ContentType))
		}
	}

	// Each key is stored as given, not as a cleaned path.
	lo, err := e.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("objects")})
	if err != nil {
		t.Fatalf("ListObjectsV2: %v", err)
	}
	if got, want := objectKeys(lo.Contents), slices.Sorted(slices.Values(keys)); !slices.Equal(got, want) {
		t.Errorf("keys listed %q; want %q", got, want)
	}

	// Ranges, as S3 answers them: 206 with Content-Range.
	for _, tc := range []struct {
		rng        string
		start, end int // inclusive
	}{
		{"bytes=0-0", 0, 0},
		{"bytes=100-4195", 100, 4195},
		{"bytes=9990-", 9990, 9999},
		{"bytes=-25", 9975, 9999},
		{"bytes=9000-20000", 9000, 9999},
	} {
		get, got := getBytes(t, e, &s3.GetObjectInput{Bucket: aws.String("objects"), Key: aws.String("plain.txt"), Range: aws.String(tc.rng)})
		if !bytes.Equal(got, body[tc.start:tc.end+1]) {
			t.Errorf("Range %s: got %d bytes, not bytes %d-%d", tc.rng, len(got), tc.start, tc.end)
		}
		if want := fmt.Sprintf("bytes %d-%d/%d", tc.start, tc.end, len(body)); aws.ToString(get.ContentRange) != want {
			t.Errorf("Range %s: Content-Range %q; want %q", tc.rng, aws.ToString(get.ContentRange), want)
		}
	}
	_, err = e.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("objects"), Key: aws.String("plain.txt"), Range: aws.String("bytes=20000-")})
	wantAPIError(t, "GetObject unsatisfiable range", err, "InvalidRange", 416)

	// Get conditions.
	_, err = e.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("objects"), Key: aws.String("plain.txt"), IfMatch: aws.String(`"0123"`)})
	wantAPIError(t, "GetObject If-Match mismatch", err, "PreconditionFailed", 412)
	_, err = e.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("objects"), Key: aws.String("plain.txt"), IfNoneMatch: aws.String(md5ETag(body))})
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusNotModified {
		t.Errorf("GetObject If-None-Match current ETag: %v; want HTTP 304", err)
	}

	// Missing keys and buckets, typed as the SDK types them.
	_, err = e.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("objects"), Key: aws.String("nope")})
	var nsk *types.NoSuchKey
	if !errors.As(err, &nsk) {
		t.Errorf("GetObject missing key: %v; want *types.NoSuchKey", err)
	}
	wantAPIError(t, "GetObject missing key", err, "NoSuchKey", 404)
	_, err = e.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("no-such-bucket"), Key: aws.String("k")})
	wantAPIError(t, "GetObject missing bucket", err, "NoSuchBucket", 404)
	_, err = e.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("objects"), Key: aws.String("nope")})
	var nf *types.NotFound
	if !errors.As(err, &nf) {
		t.Errorf("HeadObject missing key: %v; want *types.NotFound", err)
	}
	_, err = e.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("no-such-bucket"), Key: aws.String("k"), Body: strings.NewReader("x")})
	wantAPIError(t, "PutObject missing bucket", err, "NoSuchBucket", 404)

	// An empty object.
	mustPut(t, e, "objects", "empty", nil)
	get, got := getBytes(t, e, &s3.GetObjectInput{Bucket: aws.String("objects"), Key: aws.String("empty")})
	if len(got) != 0 || aws.ToInt64(get.ContentLength) != 0 || aws.ToString(get.ETag) != md5ETag(nil) {
		t.Errorf("empty object: %d bytes, length %d, ETag %s", len(got), aws.ToInt64(get.ContentLength), aws.ToString(get.ETag))
	}
}

// TestSDKSystemMetadata puts objects with the system metadata S3 stores
// and returns on GET and HEAD: Cache-Control, Content-Disposition,
// Content-Encoding, Content-Language, Expires; CopyObject keeps it or,
// with REPLACE, replaces it.
func TestSDKSystemMetadata(t *testing.T) {
	e := newSDK(t)
	ctx := ctxT(t)
	mustBucket(t, e, "sysmeta")
	expires := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	type headers struct{ cacheControl, disposition, encoding, language, expires string }
	want := headers{"max-age=60", `attachment; filename="a.txt"`, "gzip", "de-CH", expires.Format(http.TimeFormat)}
	fromGet := func(o *s3.GetObjectOutput) headers {
		return headers{aws.ToString(o.CacheControl), aws.ToString(o.ContentDisposition), aws.ToString(o.ContentEncoding), aws.ToString(o.ContentLanguage), aws.ToString(o.ExpiresString)}
	}
	fromHead := func(o *s3.HeadObjectOutput) headers {
		return headers{aws.ToString(o.CacheControl), aws.ToString(o.ContentDisposition), aws.ToString(o.ContentEncoding), aws.ToString(o.ContentLanguage), aws.ToString(o.ExpiresString)}
	}
	check := func(key string, want headers) {
		t.Helper()
		get, b := getBytes(t, e, &s3.GetObjectInput{Bucket: aws.String("sysmeta"), Key: aws.String(key)})
		if string(b) != "body" || fromGet(get) != want {
			t.Errorf("GetObject %s: body %q, headers %+v; want %+v", key, b, fromGet(get), want)
		}
		head, err := e.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("sysmeta"), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("HeadObject %s: %v", key, err)
		}
		if fromHead(head) != want {
			t.Errorf("HeadObject %s: headers %+v; want %+v", key, fromHead(head), want)
		}
		if want.expires != "" && (head.Expires == nil || !head.Expires.Equal(expires)) {
			t.Errorf("HeadObject %s: Expires %v; want %v", key, head.Expires, expires)
		}
	}
	_, err := e.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("sysmeta"), Key: aws.String("all"), Body: strings.NewReader("body"),
		CacheControl: aws.String(want.cacheControl), ContentDisposition: aws.String(want.disposition),
		ContentEncoding: aws.String(want.encoding), ContentLanguage: aws.String(want.language), Expires: &expires,
	})
	if err != nil {
		t.Fatalf("PutObject with system metadata: %v", err)
	}
	check("all", want)

	// One at a time: each is stored alone.
	for name, in := range map[string]func(*s3.PutObjectInput){
		"cache-control": func(in *s3.PutObjectInput) { in.CacheControl = aws.String("no-cache") },
		"language":      func(in *s3.PutObjectInput) { in.ContentLanguage = aws.String("fr") },
	} {
		pin := &s3.PutObjectInput{Bucket: aws.String("sysmeta"), Key: aws.String(name), Body: strings.NewReader("body")}
		in(pin)
		if _, err := e.client.PutObject(ctx, pin); err != nil {
			t.Fatalf("PutObject %s: %v", name, err)
		}
	}
	check("cache-control", headers{cacheControl: "no-cache"})
	check("language", headers{language: "fr"})

	// CopyObject keeps them; REPLACE takes the request's.
	if _, err := e.client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("sysmeta"), Key: aws.String("copy"), CopySource: aws.String("sysmeta/all")}); err != nil {
		t.Fatalf("CopyObject: %v", err)
	}
	check("copy", want)
	_, err = e.client.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket: aws.String("sysmeta"), Key: aws.String("copy"), CopySource: aws.String("sysmeta/all"),
		MetadataDirective: types.MetadataDirectiveReplace, ContentDisposition: aws.String("inline"),
	})
	if err != nil {
		t.Fatalf("CopyObject REPLACE: %v", err)
	}
	check("copy", headers{disposition: "inline"})

	// A multipart upload stores them for the completed object.
	cr, err := e.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String("sysmeta"), Key: aws.String("mp"),
		CacheControl: aws.String(want.cacheControl), ContentDisposition: aws.String(want.disposition),
		ContentEncoding: aws.String(want.encoding), ContentLanguage: aws.String(want.language), Expires: &expires,
	})
	if err != nil {
		t.Fatalf("CreateMultipartUpload with system metadata: %v", err)
	}
	part, err := e.client.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("sysmeta"), Key: aws.String("mp"), UploadId: cr.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("body")})
	if err != nil {
		t.Fatalf("UploadPart: %v", err)
	}
	_, err = e.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String("sysmeta"), Key: aws.String("mp"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: part.ETag}}},
	})
	if err != nil {
		t.Fatalf("CompleteMultipartUpload: %v", err)
	}
	check("mp", want)
}

// TestSDKChunkedChecksumTrailer puts a multi-MiB object with the SDK's
// default checksum behaviour over TLS, which sends the body aws-chunked
// with a CRC32 trailer: the object must read back byte-exact, and its
// ETag must be the MD5 of the payload, not of the chunked encoding.
func TestSDKChunkedChecksumTrailer(t *testing.T) {
	e := newSDK(t)
	ctx := ctxT(t)
	mustBucket(t, e, "chunked")
	for _, size := range []int{1, 64 << 10, 3*mib + 12345} {
		key := fmt.Sprintf("obj-%d", size)
		body := randBytes(uint64(size), size)
		put, err := e.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket:      aws.String("chunked"),
			Key:         aws.String(key),
			Body:        bytes.NewReader(body),
			ContentType: aws.String("application/octet-stream"),
			Metadata:    map[string]string{"size": fmt.Sprint(size)},
		})
		if err != nil {
			t.Fatalf("PutObject %d bytes: %v", size, err)
		}
		sent, _ := e.rec.last(http.MethodPut, "/chunked/"+key)
		enc := sent.header.Get("Content-Encoding")
		trailer := sent.header.Get("X-Amz-Trailer")
		t.Logf("PutObject %d bytes sent: Content-Encoding %q, X-Amz-Content-Sha256 %q, X-Amz-Trailer %q, X-Amz-Decoded-Content-Length %q",
			size, enc, sent.header.Get("X-Amz-Content-Sha256"), trailer, sent.header.Get("X-Amz-Decoded-Content-Length"))
		if !strings.Contains(enc, "aws-chunked") || !strings.EqualFold(trailer, "x-amz-checksum-crc32") {
			t.Errorf("the SDK did not send an aws-chunked body with a CRC32 trailer (Content-Encoding %q, X-Amz-Trailer %q): this test no longer covers that path", enc, trailer)
		}
		if got := aws.ToString(put.ETag); got != md5ETag(body) {
			t.Errorf("PutObject %d bytes: ETag %s; want %s (MD5 of the payload)", size, got, md5ETag(body))
		}
		if got, want := aws.ToString(put.ChecksumCRC32), crc32Base64(body); got != want || put.ChecksumType != types.ChecksumTypeFullObject {
			t.Errorf("PutObject %d bytes: x-amz-checksum-crc32 %q, type %q; want %s, FULL_OBJECT", size, got, put.ChecksumType, want)
		}
		get, got := getBytes(t, e, &s3.GetObjectInput{Bucket: aws.String("chunked"), Key: aws.String(key)})
		if !bytes.Equal(got, body) {
			t.Fatalf("GetObject %d bytes: got %d bytes, first difference at %d: the chunked body was not decoded byte-exact",
				size, len(got), firstDiff(got, body))
		}
		if ce := aws.ToString(get.ContentEncoding); strings.Contains(ce, "aws-chunked") {
			t.Errorf("GetObject %d bytes: Content-Encoding %q: aws-chunked must not be stored", size, ce)
		}
		if get.Metadata["size"] != fmt.Sprint(size) {
			t.Errorf("GetObject %d bytes: metadata %v", size, get.Metadata)
		}
	}
}

func crc32Base64(b []byte) string {
	var s [4]byte
	c := crc32.ChecksumIEEE(b)
	s[0], s[1], s[2], s[3] = byte(c>>24), byte(c>>16), byte(c>>8), byte(c)
	return base64.StdEncoding.EncodeToString(s[:])
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// checksumOf computes S3's checksum of b with the standard library and
// minio's CRC64NVME, independently of the server's code.
func checksumOf(alg types.ChecksumAlgorithm, b []byte) string {
	var h hash.Hash
	switch alg {
	case types.ChecksumAlgorithmCrc32:
		h = crc32.NewIEEE()
	case types.ChecksumAlgorithmCrc32c:
		h = crc32.New(crc32.MakeTable(crc32.Castagnoli))
	case types.ChecksumAlgorithmCrc64nvme:
		h = crc64nvme.New()
	case types.ChecksumAlgorithmSha1:
		h = sha1.New()
	case types.ChecksumAlgorithmSha256:
		h = sha256.New()
	default:
		panic("checksumOf " + string(alg))
	}
	h.Write(b)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// sdkChecksum picks alg's checksum out of the SDK's five fields.
func sdkChecksum(alg types.ChecksumAlgorithm, crc32, crc32c, crc64nvme, sha1, sha256 *string) string {
	return aws.ToString(map[types.ChecksumAlgorithm]*string{
		types.ChecksumAlgorithmCrc32: crc32, types.ChecksumAlgorithmCrc32c: crc32c, types.ChecksumAlgorithmCrc64nvme: crc64nvme,
		types.ChecksumAlgorithmSha1: sha1, types.ChecksumAlgorithmSha256: sha256,
	}[alg])
}

var sdkAlgorithms = []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmSha1, types.ChecksumAlgorithmSha256, types.ChecksumAlgorithmCrc64nvme}

// TestSDKChecksumAlgorithms asks for each checksum algorithm the SDK
// offers: PutObject answers the body's checksum, GetObject with checksum
// mode returns it and the SDK's response validation passes (and fails on
// a corrupted body), and a wrong checksum, in a header or an aws-chunked
// trailer, is BadDigest and stores nothing.
func TestSDKChecksumAlgorithms(t *testing.T) {
	e := newSDK(t)
	ctx := ctxT(t)
	mustBucket(t, e, "sums")
	body := randBytes(9, 5000)
	for _, alg := range sdkAlgorithms {
		key := "obj-" + string(alg)
		want := checksumOf(alg, body)
		put, err := e.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String("sums"), Key: aws.String(key), Body: bytes.NewReader(body), ChecksumAlgorithm: alg,
		})
		if err != nil {
			t.Errorf("PutObject with %s: %v", alg, err)
			continue
		}
		if got := sdkChecksum(alg, put.ChecksumCRC32, put.ChecksumCRC32C, put.ChecksumCRC64NVME, put.ChecksumSHA1, put.ChecksumSHA256); got != want || put.ChecksumType != types.ChecksumTypeFullObject {
			sent, _ := e.rec.last(http.MethodPut, "/sums/"+key)
			t.Errorf("PutObject with %s (trailer %q): checksum %q, type %q; want %s, FULL_OBJECT", alg, sent.header.Get("X-Amz-Trailer"), got, put.ChecksumType, want)
		}
		get, b := getBytes(t, e, &s3.GetObjectInput{Bucket: aws.String("sums"), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
		if !bytes.Equal(b, body) {
			t.Errorf("GetObject after PutObject with %s: %d bytes, differ at %d", alg, len(b), firstDiff(b, body))
		}
		if got := sdkChecksum(alg, get.ChecksumCRC32, get.ChecksumCRC32C, get.ChecksumCRC64NVME, get.ChecksumSHA1, get.ChecksumSHA256); got != want || get.ChecksumType != types.ChecksumTypeFullObject {
			t.Errorf("GetObject with checksum mode after PutObject with %s: checksum %q, type %q; want %s, FULL_OBJECT", alg, got, get.ChecksumType, want)
		}
		head, err := e.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("sums"), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			t.Fatalf("HeadObject: %v", err)
		}
		if got := sdkChecksum(alg, head.ChecksumCRC32, head.ChecksumCRC32C, head.ChecksumCRC64NVME, head.ChecksumSHA1, head.ChecksumSHA256); got != want {
			t.Errorf("HeadObject with checksum mode after PutObject with %s: %q; want %s", alg, got, want)
		}
		// The SDK validates the body against the checksum: a byte changed
		// in flight fails the read.
		e.rec.corruptNext("/sums/" + key)
		out, err := e.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("sums"), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			t.Fatalf("GetObject (corrupted): %v", err)
		}
		_, err = io.ReadAll(out.Body)
		out.Body.Close()
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), "checksum") {
			t.Errorf("GetObject of a corrupted body with %s checksum: read error %v; want the SDK's checksum mismatch", alg, err)
		}
		// A range is not validated, and the server sends no checksum.
		rng, b := getBytes(t, e, &s3.GetObjectInput{Bucket: aws.String("sums"), Key: aws.String(key), Range: aws.String("bytes=10-19"), ChecksumMode: types.ChecksumModeEnabled})
		if !bytes.Equal(b, body[10:20]) || sdkChecksum(alg, rng.ChecksumCRC32, rng.ChecksumCRC32C, rng.ChecksumCRC64NVME, rng.ChecksumSHA1, rng.ChecksumSHA256) != "" {
			t.Errorf("ranged GetObject with checksum mode: %q, checksum headers sent", b)
		}
	}
	// A wrong checksum must be refused and store nothing.
	_, err := e.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("sums"), Key: aws.String("bad"), Body: bytes.NewReader(body),
		ChecksumCRC32: aws.String(crc32Base64([]byte("something else"))),
	})
	wantAPIError(t, "PutObject with wrong CRC32", err, "BadDigest", 400)
	if _, err := e.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("sums"), Key: aws.String("bad")}); err == nil {
		t.Errorf("PutObject with wrong CRC32 failed but stored the object")
	}
	// aws-chunked bodies built by hand: a right CRC32 trailer (signed
	// chunks) is stored byte-exact; a wrong one (unsigned chunks, as the
	// SDKs send) must be refused and store nothing.
	creds := sigv4.Credentials{AccessKey: e.srv.AccessKey, SecretKey: e.srv.SecretKey}
	for _, tc := range []struct {
		key      string
		crc      string
		unsigned bool
	}{
		{"trailer-ok", crc32Base64(body), false},
		{"trailer-bad", crc32Base64([]byte("something else")), true},
	} {
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, e.srv.URL+"/sums/"+tc.key, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = sigv4.SignStreaming(req, creds, e.srv.Region, time.Now(), body, &sigv4.StreamOptions{
			ChunkSize: 1000, Unsigned: tc.unsigned, Trailer: http.Header{"X-Amz-Checksum-Crc32": {tc.crc}},
		})
		if err != nil {
			t.Fatal(err)
		}
		resp := do(t, e.srv.Client(), req)
		_, headErr := e.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("sums"), Key: aws.String(tc.key)})
		switch {
		case tc.key == "trailer-ok":
			if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Amz-Checksum-Crc32") != tc.crc {
				t.Errorf("aws-chunked PUT with a right CRC32 trailer: %s %v: %s", resp.Status, resp.Header, resp.body)
				continue
			}
			_, b := getBytes(t, e, &s3.GetObjectInput{Bucket: aws.String("sums"), Key: aws.String(tc.key)})
			if !bytes.Equal(b, body) {
				t.Errorf("aws-chunked PUT with a right CRC32 trailer: read back %d bytes, differ at %d", len(b), firstDiff(b, body))
			}
		case resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(resp.body), "<Code>BadDigest</Code>"):
			t.Errorf("aws-chunked PUT with a wrong CRC32 trailer: %s: %s; want 400 BadDigest", resp.Status, resp.body)
		case headErr == nil:
			t.Errorf("aws-chunked PUT with a wrong CRC32 trailer was refused but stored the object")
		}
	}

	// A wrong Content-MD5 is BadDigest, and stores nothing.
	sum := md5.Sum([]byte("something else"))
	_, err = e.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("sums"), Key: aws.String("bad-md5"), Body: bytes.NewReader(body),
		ContentMD5: aws.String(base64.StdEncoding.EncodeToString(sum[:])),
	})
	wantAPIError(t, "PutObject with wrong Content-MD5", err, "BadDigest", 400)
	if _, err := e.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("sums"), Key: aws.String("bad-md5")}); err == nil {
		t.Errorf("PutObject with wrong Content-MD5 stored the object")
	}

	// CopyObject computes the algorithm asked for, else the source's.
	for _, alg := range []types.ChecksumAlgorithm{"", types.ChecksumAlgorithmSha256} {
		cp, err := e.client.CopyObject(ctx, &s3.CopyObjectInput{
			Bucket: aws.String("sums"), Key: aws.String("copy-" + string(alg)), CopySource: aws.String("sums/obj-SHA1"), ChecksumAlgorithm: alg,
		})
		if err != nil {
			t.Fatalf("CopyObject with %q: %v", alg, err)
		}
		wantAlg := alg
		if wantAlg == "" {
			wantAlg = types.ChecksumAlgorithmSha1
		}
		r := cp.CopyObjectResult
		if got := sdkChecksum(wantAlg, r.ChecksumCRC32, r.ChecksumCRC32C, r.ChecksumCRC64NVME, r.ChecksumSHA1, r.ChecksumSHA256); got != checksumOf(wantAlg, body) || r.ChecksumType != types.ChecksumTypeFullObject {
			t.Errorf("CopyObject with %q: %s %q, type %q; want %s", alg, wantAlg, got, r.ChecksumType, checksumOf(wantAlg, body))
		}
	}
}

func TestSDKListObjectsV2(t *testing.T) {
	e := newSDK(t)
	ctx := ctxT(t)
	mustBucket(t, e, "list")
	keys := []string{"a/1", "a/2", "a/b/3", "b/1", "c", "d e/1", "dé", "z"}
	for _, k := range keys {
		mustPut(t, e, "list", k, []byte(k))
	}
	// Prefix and delimiter.
	out, err := e.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("list"), Delimiter: aws.String("/")})
	if err != nil {
		t.Fatalf("ListObjectsV2 delimiter: %v", err)
	}
	if got, want := objectKeys(out.Contents), []string{"c", "dé", "z"}; !slices.Equal(got, want) {
		t.Errorf("delimiter /: objects %q; want %q", got, want)
	}
	if got, want := prefixes(out.CommonPrefixes), []string{"a/", "b/", "d e/"}; !slices.Equal(got, want) {
		t.Errorf("delimiter /: prefixes %q; want %q", got, want)
	}
	if aws.ToInt32(out.KeyCount) != 6 || aws.ToBool(out.IsTruncated) {
		t.Errorf("delimiter /: KeyCount %d, IsTruncated %v; want 6, false", aws.ToInt32(out.KeyCount), aws.ToBool(out.IsTruncated))
	}
	for _, o := range out.Contents {
		if aws.ToInt64(o.Size) != int64(len(aws.ToString(o.Key))) || aws.ToString(o.ETag) != md5ETag([]byte(aws.ToString(o.Key))) || o.LastModified == nil {
			t.Errorf("object %s: size %d, ETag %s, LastModified %v", aws.ToString(o.Key), aws.ToInt64(o.Size), aws.ToString(o.ETag), o.LastModified)
		}
	}
	out, err = e.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("list"), Prefix: aws.String("a/"), Delimiter: aws.String("/")})
	if err != nil {
		t.Fatalf("ListObjectsV2 prefix a/: %v", err)
	}
	if got, want := objectKeys(out.Contents), []string{"a/1", "a/2"}; !slices.Equal(got, want) {
		t.Errorf("prefix a/: objects %q; want %q", got, want)
	}
	if got, want := prefixes(out.CommonPrefixes), []string{"a/b/"}; !slices.Equal(got, want) {
		t.Errorf("prefix a/: prefixes %q; want %q", got, want)
	}
	out, err = e.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("list"), StartAfter: aws.String("c")})
	if err != nil {
		t.Fatalf("ListObjectsV2 start-after: %v", err)
	}
	if got, want := objectKeys(out.Contents), []string{"d e/1", "dé", "z"}; !slices.Equal(got, want) {
		t.Errorf("start-after c: %q; want %q", got, want)
	}

	// encoding-type=url: keys come back encoded, as S3 sends them.
	odd := []string{"odd/a b", "odd/ä+ö", "odd/x%y&z"}
	for _, k := range odd {
		mustPut(t, e, "list", k, []byte(k))
	}
	enc, err := e.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("list"), Prefix: aws.String("odd/"), EncodingType: types.EncodingTypeUrl})
	if err != nil {
		t.Fatalf("ListObjectsV2 encoding-type=url: %v", err)
	}
	var decoded []string
	for _, k := range objectKeys(enc.Contents) {
		d, err := url.QueryUnescape(k)
		if err != nil || strings.ContainsAny(k, " %&") && d == k {
			t.Errorf("encoding-type=url: key %q not URL-encoded (%v)", k, err)
		}
		decoded = append(decoded, d)
	}
	if want := []string{"odd/a b", "odd/x%y&z", "odd/ä+ö"}; !slices.Equal(decoded, want) {
		t.Errorf("encoding-type=url: decoded keys %q; want %q", decoded, want)
	}
	for _, k := range odd {
		if _, err := e.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("list"), Key: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
	}

	// Paging with the SDK's paginator, two keys a page.
	for _, delim := range []string{"", "/"} {
		p := s3.NewListObjectsV2Paginator(e.client, &s3.ListObjectsV2Input{Bucket: aws.String("list"), MaxKeys: aws.Int32(2), Delimiter: aws.String(delim)})
		var got []string
		pages := 0
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("paginator (delimiter %q) page %d: %v", delim, pages, err)
			}
			pages++
			if n := len(page.Contents) + len(page.CommonPrefixes); n > 2 {
				t.Errorf("paginator (delimiter %q): page of %d entries, MaxKeys 2", delim, n)
			}
			got = append(got, objectKeys(page.Contents)...)
			got = append(got, prefixes(page.CommonPrefixes)...)
			if pages > 10 {
				t.Fatalf("paginator (delimiter %q): more than 10 pages", delim)
			}
		}
		slices.Sort(got)
		want := keys
		if delim == "/" {
			want = []string{"a/", "b/", "c", "d e/", "dé", "z"}
		}
		if !slices.Equal(got, want) {
			t.Errorf("paginator (delimiter %q): %q in %d pages; want %q", delim, got, pages, want)
		}
	}

	// ListObjects v1 with a marker, and on a missing bucket.
	v1, err := e.client.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("list"), Marker: aws.String("b/1"), MaxKeys: aws.Int32(2)})
	if err != nil {
		t.Fatalf("ListObjects: %v", err)
	}
	if got, want := objectKeys(v1.Contents), []string{"c", "d e/1"}; !slices.Equal(got, want) || !aws.ToBool(v1.IsTruncated) {
		t.Errorf("ListObjects marker b/1: %q, truncated %v; want %q, true", got, aws.ToBool(v1.IsTruncated), want)
	}
	_, err = e.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("no-such-bucket")})
	var nsb *types.NoSuchBucket
	if !errors.As(err, &nsb) {
		t.Errorf("ListObjectsV2 missing bucket: %v; want *types.NoSuchBucket", err)
	}
}

func objectKeys(objs []types.Object) []string {
	var ks []string
	for _, o := range objs {
		ks = append(ks, aws.ToString(o.Key))
	}
	return ks
}

func prefixes(ps []types.CommonPrefix) []string {
	var s []string
	for _, p := range ps {
		s = append(s, aws.ToString(p.Prefix))
	}
	return s
}

// copySource is the x-amz-copy-source of bucket/key, escaped as S3
// documents.
func copySource(bucket, key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return bucket + "/" + strings.Join(segs, "/")
}

func TestSDKCopyObject(t *testing.T) {
	e := newSDK(t)
	ctx := ctxT(t)
	mustBucket(t, e, "src")
	mustBucket(t, e, "dst")
	body := randBytes(2, 4321)
	const srcKey = "from/ä b+c.txt"
	_, err := e.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("src"), Key: aws.String(srcKey), Body: bytes.NewReader(body),
		ContentType: aws.String("text/x-source"), Metadata: map[string]string{"origin": "src"},
	})
	if err != nil {
		t.Fatal(err)
	}
	// COPY directive keeps metadata and content type.
	cp, err := e.client.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket: aws.String("dst"), Key: aws.String("copy 1"), CopySource: aws.String(copySource("src", srcKey)),
	})
	if err != nil {
		t.Fatalf("CopyObject: %v", err)
	}
	if cp.CopyObjectResult == nil || aws.ToString(cp.CopyObjectResult.ETag) != md5ETag(body) || cp.CopyObjectResult.LastModified == nil {
		t.Errorf("CopyObject result %+v; want ETag %s", cp.CopyObjectResult, md5ETag(body))
	}
	get, got := getBytes(t, e, &s3.GetObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy 1")})
	if !bytes.Equal(got, body) || get.Metadata["origin"] != "src" || aws.ToString(get.ContentType) != "text/x-source" {
		t.Errorf("copy: %d bytes (equal %v), metadata %v, type %q", len(got), bytes.Equal(got, body), get.Metadata, aws.ToString(get.ContentType))
	}
	// REPLACE directive takes the request's.
	_, err = e.client.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket: aws.String("dst"), Key: aws.String("copy2"), CopySource: aws.String(copySource("src", srcKey)),
		MetadataDirective: types.MetadataDirectiveReplace, Metadata: map[string]string{"new": "yes"}, ContentType: aws.String("text/plain"),
	})
	if err != nil {
		t.Fatalf("CopyObject REPLACE: %v", err)
	}
	head, err := e.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy2")})
	if err != nil {
		t.Fatal(err)
	}
	if head.Metadata["new"] != "yes" || head.Metadata["origin"] != "" || aws.ToString(head.ContentType) != "text/plain" {
		t.Errorf("copy REPLACE: metadata %v, type %q", head.Metadata, aws.ToString(head.ContentType))
	}
	// Copy-source conditions, a missing source, and a copy onto itself.
	_, err = e.client.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket: aws.String("dst"), Key: aws.String("copy3"), CopySource: aws.String(copySource("src", srcKey)),
		CopySourceIfMatch: aws.String(`"ffff"`),
	})
	wantAPIError(t, "CopyObject x-amz-copy-source-if-match mismatch", err, "PreconditionFailed", 412)
	_, err = e.client.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket: aws.String("dst"), Key: aws.String("copy3"), CopySource: aws.String(copySource("src", "missing")),
	})
	wantAPIError(t, "CopyObject missing source", err, "NoSuchKey", 404)
	_, err = e.client.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket: aws.String("src"), Key: aws.String(srcKey), CopySource: aws.String(copySource("src", srcKey)),
	})
	wantAPIError(t, "CopyObject onto itself", err, "InvalidRequest", 400)
}

func TestSDKDelete(t *testing.T) {
	e := newSDK(t)
	ctx := ctxT(t)
	mustBucket(t, e, "del")
	for i := range 5 {
		mustPut(t, e, "del", fmt.Sprintf("k%d", i), []byte("x"))
	}
	// DeleteObject of a present and of a missing key both succeed (204).
	for _, k := range []string{"k0", "never-existed"} {
		if _, err := e.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("del"), Key: aws.String(k)}); err != nil {
			t.Errorf("DeleteObject %s: %v", k, err)
		}
	}
	out, err := e.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
		Bucket: aws.String("del"),
		Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String("k1")}, {Key: aws.String("k2")}, {Key: aws.String("missing")}}},
	})
	if err != nil {
		t.Fatalf("DeleteObjects: %v", err)
	}
	var deleted []string
	for _, d := range out.Deleted {
		deleted = append(deleted, aws.ToString(d.Key))
	}
	slices.Sort(deleted)
	if want := []string{"k1", "k2", "missing"}; !slices.Equal(deleted, want) || len(out.Errors) != 0 {
		t.Errorf("DeleteObjects: deleted %q, errors %+v; want %q", deleted, out.Errors, want)
	}
	sent, _ := e.rec.last(http.MethodPost, "/del")
	t.Logf("DeleteObjects sent Content-MD5 %q, x-amz-checksum-crc32 %q, x-amz-sdk-checksum-algorithm %q",
		sent.header.Get("Content-Md5"), sent.header.Get("X-Amz-Checksum-Crc32"), sent.header.Get("X-Amz-Sdk-Checksum-Algorithm"))
	// Quiet mode lists only errors.
	out, err = e.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
		Bucket: aws.String("del"),
		Delete: &types.Delete{Quiet: aws.Bool(true), Objects: []types.ObjectIdentifier{{Key: aws.String("k3")}}},
	})
	if err != nil || len(out.Deleted) != 0 || len(out.Errors) != 0 {
		t.Errorf("DeleteObjects quiet: %v, deleted %d, errors %d; want none listed", err, len(out.Deleted), len(out.Errors))
	}
	lo, err := e.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("del")})
	if err != nil {
		t.Fatal(err)
	}
	if got := objectKeys(lo.Contents); !slices.Equal(got, []string{"k4"}) {
		t.Errorf("after deletes: %q; want [k4]", got)
	}
}

func TestSDKVersioning(t *testing.T) {
	e := newSDK(t)
	ctx := ctxT(t)
	mustBucket(t, e, "ver")
	gv, err := e.client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("ver")})
	if err != nil || gv.Status != "" {
		t.Errorf("GetBucketVersioning of a new bucket: %v, status %q; want no status", err, gv.Status)
	}
	_, err = e.client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
		Bucket:                  aws.String("ver"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled},
	})
	if err != nil {
		t.Fatalf("PutBucketVersioning: %v", err)
	}
	gv, err = e.client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("ver")})
	if err != nil || gv.Status != types.BucketVersioningStatusEnabled {
		t.Fatalf("GetBucketVersioning: %v, status %q; want Enabled", err, gv.Status)
	}
	v1 := mustPut(t, e, "ver", "doc", []byte("version one"))
	v2 := mustPut(t, e, "ver", "doc", []byte("version two"))
	id1, id2 := aws.ToString(v1.VersionId), aws.ToString(v2.VersionId)
	if id1 == "" || id2 == "" || id1 == id2 || id1 == "null" {
		t.Fatalf("version IDs %q, %q: want two distinct non-null IDs", id1, id2)
	}
	_, b := getBytes(t, e, &s3.GetObjectInput{Bucket: aws.String("ver"), Key: aws.String("doc"), VersionId: aws.String(id1)})
	if string(b) != "version one" {
		t.Errorf("GetObject version 1: %q", b)
	}
	get, b := getBytes(t, e, &s3.GetObjectInput{Bucket: aws.String("ver"), Key: aws.String("doc")})
	if string(b) != "version two" || aws.ToString(get.VersionId) != id2 {
		t.Errorf("GetObject latest: %q, version %q; want version two, %q", b, aws.ToString(get.VersionId), id2)
	}
	del, err := e.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("ver"), Key: aws.String("doc")})
	if err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	if !aws.ToBool(del.DeleteMarker) || aws.ToString(del.VersionId) == "" {
		t.Errorf("DeleteObject on a versioned bucket: DeleteMarker %v, version %q; want a delete marker", aws.ToBool(del.DeleteMarker), aws.ToString(del.VersionId))
	}
	_, err = e.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("ver"), Key: aws.String("doc")})
	var nsk *types.NoSuchKey
	if !errors.As(err, &nsk) {
		t.Errorf("GetObject behind a delete marker: %v; want *types.NoSuchKey", err)
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response.Header.Get("X-Amz-Delete-Marker") != "true" {
		t.Errorf("GetObject behind a delete marker: x-amz-delete-marker %q; want true", re.Response.Header.Get("X-Amz-Delete-Marker"))
	}
	_, b = getBytes(t, e, &s3.GetObjectInput{Bucket: aws.String("ver"), Key: aws.String("doc"), VersionId: aws.String(id2)})
	if string(b) != "version two" {
		t.Errorf("GetObject version 2 after delete: %q", b)
	}

	lv, err := e.client.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("ver")})
	if err != nil {
		t.Fatalf("ListObjectVersions: %v", err)
	}
	var got []string
	for _, v := range lv.Versions {
		got = append(got, fmt.Sprintf("%s %s latest=%v", aws.ToString(v.Key), aws.ToString(v.VersionId), aws.ToBool(v.IsLatest)))
	}
	if want := []string{"doc " + id2 + " latest=false", "doc " + id1 + " latest=false"}; !slices.Equal(got, want) {
		t.Errorf("ListObjectVersions versions:\n%q\nwant\n%q", got, want)
	}
	if len(lv.DeleteMarkers) != 1 || aws.ToString(lv.DeleteMarkers[0].VersionId) != aws.ToString(del.VersionId) || !aws.ToBool(lv.DeleteMarkers[0].IsLatest) {
		t.Errorf("ListObjectVersions delete markers %+v; want one, latest, version %q", lv.DeleteMarkers, aws.ToString(del.VersionId))
	}
	// Paging through versions, one a page.
	p := s3.NewListObjectVersionsPaginator(e.client, &s3.ListObjectVersionsInput{Bucket: aws.String("ver"), MaxKeys: aws.Int32(1)})
	n := 0
	for p.HasMorePages() && n < 10 {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListObjectVersions page %d: %v", n, err)
		}
		n += len(page.Versions) + len(page.DeleteMarkers)
	}
	if n != 3 {
		t.Errorf("ListObjectVersions paged: %d entries; want 3", n)
	}
	// Deleting the marker by version ID brings version two back.
	if _, err := e.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("ver"), Key: aws.String("doc"), VersionId: del.VersionId}); err != nil {
		t.Fatalf("DeleteObject of the delete marker: %v", err)
	}
	_, b = getBytes(t, e, &s3.GetObjectInput{Bucket: aws.String("ver"), Key: aws.String("doc")})
	if string(b) != "version two" {
		t.Errorf("GetObject after removing the delete marker: %q", b)
	}
	_, err = e.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("ver"), Key: aws.String("doc"), VersionId: aws.String(strings.Repeat("0", 32))})
	wantAPIError(t, "GetObject of a missing version", err, "NoSuchVersion", 404)
}

func TestSDKTagging(t *testing.T) {
	e := newSDK(t)
	ctx := ctxT(t)
	mustBucket(t, e, "tags")
	_, err := e.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("tags"), Key: aws.String("obj"), Body: strings.NewReader("tagged"), Tagging: aws.String("team=storage&tier=a%20b"),
	})
	if err != nil {
		t.Fatalf("PutObject with tagging: %v", err)
	}
	get, _ := getBytes(t, e, &s3.GetObjectInput{Bucket: aws.String("tags"), Key: aws.String("obj")})
	if aws.ToInt32(get.TagCount) != 2 {
		t.Errorf("GetObject: x-amz-tagging-count %d; want 2", aws.ToInt32(get.TagCount))
	}
	tagsOf := func() map[string]string {
		t.Helper()
		out, err := e.client.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("obj")})
		if err != nil {
			t.Fatalf("GetObjectTagging: %v", err)
		}
		m := map[string]string{}
		for _, tg := range out.TagSet {
			m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		return m
	}
	if got := tagsOf(); len(got) != 2 || got["team"] != "storage" || got["tier"] != "a b" {
		t.Errorf("tags at put: %v", got)
	}
	_, err = e.client.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{
		Bucket: aws.String("tags"), Key: aws.String("obj"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("env"), Value: aws.String("a b+c=d/e@f:g_h.i-j")}}},
	})
	if err != nil {
		t.Fatalf("PutObjectTagging: %v", err)
	}
	if got := tagsOf(); len(got) != 1 || got["env"] != "a b+c=d/e@f:g_h.i-j" {
		t.Errorf("tags after PutObjectTagging: %v", got)
	}
	if _, err := e.client.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("obj")}); err != nil {
		t.Fatalf("DeleteObjectTagging: %v", err)
	}
	if got := tagsOf(); len(got) != 0 {
		t.Errorf("tags after DeleteObjectTagging: %v", got)
	}
	_, err = e.client.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("missing")})
	wantAPIError(t, "GetObjectTagging missing key", err, "NoSuchKey", 404)
}

// TestSDKMultipartManager uploads one multi-MiB object with the SDK's
// upload manager (5 MiB parts, three at a time) and downloads it with
// its download manager (concurrent ranged GETs).
func TestSDKMultipartManager(t *testing.T) {
	e := newSDK(t)
	ctx := ctxT(t)
	mustBucket(t, e, "mpu")
	const size = 11*mib + 4321 // parts of 5, 5 and 1 MiB
	body := randBytes(3, size)
	up := manager.NewUploader(e.client, func(u *manager.Uploader) {
		u.PartSize = 5 * mib
		u.Concurrency = 3
	})
	res, err := up.Upload(ctx, &s3.PutObjectInput{
		Bucket: aws.String("mpu"), Key: aws.String("big/object.bin"), Body: bytes.NewReader(body),
		ContentType: aws.String("application/x-big"), Metadata: map[string]string{"parts": "3"},
	})
	if err != nil {
		t.Fatalf("manager.Upload: %v", err)
	}
	if res.UploadID == "" || !strings.HasSuffix(aws.ToString(res.ETag), `-3"`) {
		t.Errorf("manager.Upload: upload ID %q, ETag %s; want a multipart upload of 3 parts", res.UploadID, aws.ToString(res.ETag))
	}
	if want := multipartETag(body, 5*mib); aws.ToString(res.ETag) != want {
		t.Errorf("manager.Upload: ETag %s; want %s (MD5 of the part MD5s)", aws.ToString(res.ETag), want)
	}
	// The manager asks for CRC32 (COMPOSITE), sends each part's CRC32 and
	// names them in Complete: the object's checksum is the CRC32 of the
	// parts' CRC32s, "-3".
	wantCRC := compositeChecksum(types.ChecksumAlgorithmCrc32, body, 5*mib)
	if aws.ToString(res.ChecksumCRC32) != wantCRC || res.ChecksumType != types.ChecksumTypeComposite {
		t.Errorf("manager.Upload: ChecksumCRC32 %q, type %q; want %s COMPOSITE", aws.ToString(res.ChecksumCRC32), res.ChecksumType, wantCRC)
	}
	for _, p := range res.CompletedParts {
		n := int(aws.ToInt32(p.PartNumber))
		if want := checksumOf(types.ChecksumAlgorithmCrc32, body[(n-1)*5*mib:min(n*5*mib, len(body))]); aws.ToString(p.ChecksumCRC32) != want {
			t.Errorf("manager.Upload part %d: ChecksumCRC32 %q; want %s", n, aws.ToString(p.ChecksumCRC32), want)
		}
	}
	head, err := e.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big/object.bin"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil || aws.ToString(head.ChecksumCRC32) != wantCRC || head.ChecksumType != types.ChecksumTypeComposite {
		t.Errorf("HeadObject with checksum mode: %v, ChecksumCRC32 %q, type %q; want %s COMPOSITE", err, aws.ToString(head.ChecksumCRC32), head.ChecksumType, wantCRC)
	}
	// A composite checksum is not one the SDK validates a GET with.
	get, got := getBytes(t, e, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big/object.bin"), ChecksumMode: types.ChecksumModeEnabled})
	if aws.ToString(get.ChecksumCRC32) != wantCRC {
		t.Errorf("GetObject with checksum mode: ChecksumCRC32 %q; want %s", aws.ToString(get.ChecksumCRC32), wantCRC)
	}
	if !bytes.Equal(got, body) {
		t.Fatalf("GetObject after multipart upload: %d bytes, first difference at %d", len(got), firstDiff(got, body))
	}
	if aws.ToString(get.ContentType) != "application/x-big" || get.Metadata["parts"] != "3" {
		t.Errorf("GetObject after multipart upload: type %q, metadata %v", aws.ToString(get.ContentType), get.Metadata)
	}
	// Ranged reads across part boundaries.
	_, part := getBytes(t, e, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big/object.bin"), Range: aws.String(fmt.Sprintf("bytes=%d-%d", 5*mib-10, 5*mib+9))})
	if !bytes.Equal(part, body[5*mib-10:5*mib+10]) {
		t.Errorf("range across the part boundary differs")
	}
	// PartNumber reads one part, as S3 does.
	pn, err := e.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big/object.bin"), PartNumber: aws.Int32(2)})
	if err != nil {
		t.Errorf("HeadObject partNumber=2: %v", err)
	} else if aws.ToInt64(pn.ContentLength) != 5*mib || aws.ToInt32(pn.PartsCount) != 3 {
		t.Errorf("HeadObject partNumber=2: length %d, parts count %d; want %d, 3", aws.ToInt64(pn.ContentLength), aws.ToInt32(pn.PartsCount), 5*mib)
	}
	// A GET of one part with checksum mode: the object's checksum does not
	// cover the part, so none is sent and the SDK reads the part unchecked.
	pg, part2 := getBytes(t, e, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big/object.bin"), PartNumber: aws.Int32(2), ChecksumMode: types.ChecksumModeEnabled})
	if !bytes.Equal(part2, body[5*mib:10*mib]) || pg.ChecksumCRC32 != nil {
		t.Errorf("GetObject partNumber=2 with checksum mode: %d bytes, ChecksumCRC32 %q", len(part2), aws.ToString(pg.ChecksumCRC32))
	}

	// A CRC64NVME given up front: the manager creates a CRC64NVME upload
	// (FULL_OBJECT, the only type it has) and Complete checks the value.
	small := body[:5*mib+4321]
	full := checksumOf(types.ChecksumAlgorithmCrc64nvme, small)
	res, err = up.Upload(ctx, &s3.PutObjectInput{
		Bucket: aws.String("mpu"), Key: aws.String("full"), Body: bytes.NewReader(small),
		ChecksumCRC64NVME: aws.String(full),
	})
	if err != nil {
		t.Fatalf("manager.Upload with a full-object CRC64NVME: %v", err)
	}
	if aws.ToString(res.ChecksumCRC64NVME) != full || res.ChecksumType != types.ChecksumTypeFullObject || res.UploadID == "" {
		t.Errorf("manager.Upload with a full-object CRC64NVME: %q %q (upload %q); want %s FULL_OBJECT", aws.ToString(res.ChecksumCRC64NVME), res.ChecksumType, res.UploadID, full)
	}
	if _, b := getBytes(t, e, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("full"), ChecksumMode: types.ChecksumModeEnabled}); !bytes.Equal(b, small) {
		t.Errorf("GetObject of the FULL_OBJECT upload (validated by the SDK): %d bytes", len(b))
	}
	// A wrong one fails Complete with BadDigest.
	_, err = up.Upload(ctx, &s3.PutObjectInput{
		Bucket: aws.String("mpu"), Key: aws.String("full-bad"), Body: bytes.NewReader(small),
		ChecksumCRC64NVME: aws.String(checksumOf(types.ChecksumAlgorithmCrc64nvme, nil)),
	})
	wantAPIError(t, "manager.Upload with a wrong full-object CRC64NVME", err, "BadDigest", 400)
	if _, err := e.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("mpu"), Key: aws.String("full-bad")}); err == nil {
		t.Errorf("a multipart upload with a wrong full-object checksum was completed")
	}

	down := manager.NewDownloader(e.client, func(d *manager.Downloader) {
		d.PartSize = 4 * mib
		d.Concurrency = 3
	})
	buf := manager.NewWriteAtBuffer(make([]byte, 0, size))
	n, err := down.Download(ctx, buf, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big/object.bin")})
	if err != nil {
		t.Fatalf("manager.Download: %v", err)
	}
	if n != size || !bytes.Equal(buf.Bytes(), body) {
		t.Errorf("manager.Download: %d bytes, first difference at %d", n, firstDiff(buf.Bytes(), body))
	}
}

// compositeChecksum is S3's COMPOSITE checksum of body uploaded in parts
// of partSize: the checksum of the parts' binary checksums, then "-" and
// the part count.
func compositeChecksum(alg types.ChecksumAlgorithm, body []byte, partSize int) string {
	var sums []byte
	n := 0
	for off := 0; off < len(body); off += partSize {
		b, _ := base64.StdEncoding.DecodeString(checksumOf(alg, body[off:min(off+partSize, len(body))]))
		sums = append(sums, b...)
		n++
	}
	return fmt.Sprintf("%s-%d", checksumOf(alg, sums), n)
}

// multipartETag is S3's ETag of an object uploaded in parts of partSize:
// the MD5 of the concatenated part MD5s, then "-" and the part count.
func multipartETag(body []byte, partSize int) string {
	var sums []byte
	n := 0
	for off := 0; off < len(body); off += partSize {
		s := md5.Sum(body[off:min(off+partSize, len(body))])
		sums = append(sums, s[:]...)
		n++
	}
	s := md5.Sum(sums)
	return fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(s[:]), n)
}

func TestSDKMultipartManual(t *testing.T) {
	e := newSDK(t)
	ctx := ctxT(t)
	mustBucket(t, e, "mpu")
	cr, err := e.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String("mpu"), Key: aws.String("manual"), ContentType: aws.String("text/x-parts"), Metadata: map[string]string{"m": "1"},
	})
	if err != nil {
		t.Fatalf("CreateMultipartUpload: %v", err)
	}
	uploadID := aws.ToString(cr.UploadId)
	if uploadID == "" || aws.ToString(cr.Key) != "manual" || aws.ToString(cr.Bucket) != "mpu" {
		t.Fatalf("CreateMultipartUpload: %+v", cr)
	}
	// The parts are sent out of order; part 2 is the small last part.
	parts := [][]byte{randBytes(4, 5*mib), randBytes(5, 777)}
	var completed []types.CompletedPart
	for _, pn := range []int32{2, 1} {
		up, err := e.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String("mpu"), Key: aws.String("manual"), UploadId: aws.String(uploadID),
			PartNumber: aws.Int32(pn), Body: bytes.NewReader(parts[pn-1]),
		})
		if err != nil {
			t.Fatalf("UploadPart %d: %v", pn, err)
		}
		if aws.ToString(up.ETag) != md5ETag(parts[pn-1]) {
			t.Errorf("UploadPart %d: ETag %s; want %s", pn, aws.ToString(up.ETag), md5ETag(parts[pn-1]))
		}
		// The SDK sent a CRC32 (its default), which was checked; the
		// upload, created without an algorithm, keeps CRC64NVME, and the
		// answer gives the part's.
		sent, _ := e.rec.last(http.MethodPut, "/mpu/manual")
		if want := checksumOf(types.ChecksumAlgorithmCrc64nvme, parts[pn-1]); aws.ToString(up.ChecksumCRC64NVME) != want || up.ChecksumCRC32 != nil {
			t.Errorf("UploadPart %d (sent trailer %q): ChecksumCRC64NVME %q, ChecksumCRC32 %q; want %s and none",
				pn, sent.header.Get("X-Amz-Trailer"), aws.ToString(up.ChecksumCRC64NVME), aws.ToString(up.ChecksumCRC32), want)
		}
		completed = append(completed, types.CompletedPart{PartNumber: aws.Int32(pn), ETag: up.ETag, ChecksumCRC64NVME: up.ChecksumCRC64NVME})
	}
	slices.SortFunc(completed, func(a, b types.CompletedPart) int { return int(aws.ToInt32(a.PartNumber) - aws.ToInt32(b.PartNumber)) })

	lp, err := e.client.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("mpu"), Key: aws.String("manual"), UploadId: aws.String(uploadID)})
	if err != nil {
		t.Fatalf("ListParts: %v", err)
	}
	if len(lp.Parts) != 2 || aws.ToInt32(lp.Parts[0].PartNumber) != 1 || aws.ToInt64(lp.Parts[0].Size) != 5*mib || aws.ToInt64(lp.Parts[1].Size) != 777 {
		t.Errorf("ListParts: %d parts %+v", len(lp.Parts), lp.Parts)
	}
	lu, err := e.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("mpu")})
	if err != nil {
		t.Fatalf("ListMultipartUploads: %v", err)
	}
	if len(lu.Uploads) != 1 || aws.ToString(lu.Uploads[0].UploadId) != uploadID || aws.ToString(lu.Uploads[0].Key) != "manual" {
		t.Errorf("ListMultipartUploads: %+v", lu.Uploads)
	}

	// Completing with parts out of order is refused.
	_, err = e.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String("mpu"), Key: aws.String("manual"), UploadId: aws.String(uploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{completed[1], completed[0]}},
	})
	wantAPIError(t, "CompleteMultipartUpload parts out of order", err, "InvalidPartOrder", 400)

	done, err := e.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String("mpu"), Key: aws.String("manual"), UploadId: aws.String(uploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: completed},
	})
	if err != nil {
		t.Fatalf("CompleteMultipartUpload: %v", err)
	}
	want := append(append([]byte(nil), parts[0]...), parts[1]...)
	if aws.ToString(done.ETag) != multipartETag(want, 5*mib) {
		t.Errorf("CompleteMultipartUpload: ETag %s; want %s", aws.ToString(done.ETag), multipartETag(want, 5*mib))
	}
	if c := checksumOf(types.ChecksumAlgorithmCrc64nvme, want); aws.ToString(done.ChecksumCRC64NVME) != c || done.ChecksumType != types.ChecksumTypeFullObject {
		t.Errorf("CompleteMultipartUpload: ChecksumCRC64NVME %q, type %q; want %s FULL_OBJECT", aws.ToString(done.ChecksumCRC64NVME), done.ChecksumType, c)
	}
	get, got := getBytes(t, e, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("manual")})
	if !bytes.Equal(got, want) {
		t.Fatalf("GetObject after Complete: %d bytes, first difference at %d", len(got), firstDiff(got, want))
	}
	if aws.ToString(get.ContentType) != "text/x-parts" || get.Metadata["m"] != "1" {
		t.Errorf("GetObject after Complete: type %q, metadata %v", aws.ToString(get.ContentType), get.Metadata)
	}

	// UploadPartCopy: one (last, so small) part copied from a range of the
	// object just completed.
	pc, err := e.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("part-copy")})
	if err != nil {
		t.Fatal(err)
	}
	upc, err := e.client.UploadPartCopy(ctx, &s3.UploadPartCopyInput{
		Bucket: aws.String("mpu"), Key: aws.String("part-copy"), UploadId: pc.UploadId, PartNumber: aws.Int32(1),
		CopySource: aws.String(copySource("mpu", "manual")), CopySourceRange: aws.String("bytes=5242000-5242999"),
	})
	if err != nil {
		t.Fatalf("UploadPartCopy: %v", err)
	}
	if upc.CopyPartResult == nil || aws.ToString(upc.CopyPartResult.ETag) != md5ETag(want[5242000:5243000]) {
		t.Errorf("UploadPartCopy result %+v; want ETag %s", upc.CopyPartResult, md5ETag(want[5242000:5243000]))
	} else {
		_, err = e.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
			Bucket: aws.String("mpu"), Key: aws.String("part-copy"), UploadId: pc.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: upc.CopyPartResult.ETag}}},
		})
		if err != nil {
			t.Fatalf("CompleteMultipartUpload of the copied part: %v", err)
		}
		if _, b := getBytes(t, e, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("part-copy")}); !bytes.Equal(b, want[5242000:5243000]) {
			t.Errorf("object made by UploadPartCopy: %d bytes, differ at %d", len(b), firstDiff(b, want[5242000:5243000]))
		}
	}

	// An aborted upload is gone.
	ab, err := e.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("aborted")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("aborted"), UploadId: ab.UploadId}); err != nil {
		t.Fatalf("AbortMultipartUpload: %v", err)
	}
	_, err = e.client.UploadPart(ctx, &s3.UploadPartInput{
		Bucket: aws.String("mpu"), Key: aws.String("aborted"), UploadId: ab.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("x"),
	})
	wantAPIError(t, "UploadPart to an aborted upload", err, "NoSuchUpload", 404)
	// The SDK models NoSuchUpload as a type for AbortMultipartUpload only.
	_, err = e.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("aborted"), UploadId: ab.UploadId})
	var nsu *types.NoSuchUpload
	if !errors.As(err, &nsu) {
		t.Errorf("AbortMultipartUpload of an aborted upload: %v; want *types.NoSuchUpload", err)
	}
	// A small part that is not the last is refused at Complete.
	sm, err := e.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("small")})
	if err != nil {
		t.Fatal(err)
	}
	var smallParts []types.CompletedPart
	for pn := int32(1); pn <= 2; pn++ {
		up, err := e.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String("mpu"), Key: aws.String("small"), UploadId: sm.UploadId, PartNumber: aws.Int32(pn), Body: strings.NewReader("tiny"),
		})
		if err != nil {
			t.Fatalf("UploadPart small %d: %v", pn, err)
		}
		smallParts = append(smallParts, types.CompletedPart{PartNumber: aws.Int32(pn), ETag: up.ETag})
	}
	_, err = e.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String("mpu"), Key: aws.String("small"), UploadId: sm.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: smallParts},
	})
	wantAPIError(t, "CompleteMultipartUpload with a small first part", err, "EntityTooSmall", 400)
}

func TestSDKPresign(t *testing.T) {
	e := newSDK(t)
	ctx := ctxT(t)
	mustBucket(t, e, "pre")
	presigner := s3.NewPresignClient(e.client, func(o *s3.PresignOptions) { o.Expires = 5 * time.Minute })
	hc := e.srv.Client()
	body := randBytes(6, 3000)

	put, err := presigner.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("pre"), Key: aws.String("up load.bin"), ContentType: aws.String("image/png")})
	if err != nil {
		t.Fatalf("PresignPutObject: %v", err)
	}
	req, err := http.NewRequestWithContext(ctx, put.Method, put.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range put.SignedHeader {
		if !strings.EqualFold(k, "Host") {
			req.Header[k] = vs
		}
	}
	resp := do(t, hc, req)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") != md5ETag(body) {
		t.Fatalf("presigned PUT: %s, ETag %s: %s", resp.Status, resp.Header.Get("ETag"), resp.body)
	}

	get, err := presigner.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("pre"), Key: aws.String("up load.bin")})
	if err != nil {
		t.Fatalf("PresignGetObject: %v", err)
	}
	resp = do(t, hc, mustRequest(t, ctx, get.Method, get.URL))
	if resp.StatusCode != http.StatusOK || !bytes.Equal(resp.body, body) || resp.Header.Get("Content-Type") != "image/png" {
		t.Errorf("presigned GET: %s, %d bytes (equal %v), type %q", resp.Status, len(resp.body), bytes.Equal(resp.body, body), resp.Header.Get("Content-Type"))
	}
	// A tampered URL, an expired one, and one for another key are refused.
	u, _ := url.Parse(get.URL)
	q := u.Query()
	q.Set("X-Amz-Expires", "6000")
	u.RawQuery = q.Encode()
	resp = do(t, hc, mustRequest(t, ctx, http.MethodGet, u.String()))
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(resp.body), "<Code>SignatureDoesNotMatch</Code>") {
		t.Errorf("tampered presigned GET: %s: %s; want 403 SignatureDoesNotMatch", resp.Status, resp.body)
	}
	u, _ = url.Parse(get.URL)
	u.Path = "/pre/other"
	resp = do(t, hc, mustRequest(t, ctx, http.MethodGet, u.String()))
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("presigned GET of another key: %s; want 403", resp.Status)
	}
	expired, err := presigner.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("pre"), Key: aws.String("up load.bin")},
		// Signed two minutes ago, valid for one second.
		func(o *s3.PresignOptions) { o.Expires = time.Second }, withSigningTime(time.Now().Add(-2*time.Minute)))
	if err != nil {
		t.Fatalf("PresignGetObject expired: %v", err)
	}
	resp = do(t, hc, mustRequest(t, ctx, http.MethodGet, expired.URL))
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(resp.body), "<Code>AccessDenied</Code>") {
		t.Errorf("expired presigned GET: %s: %s; want 403 AccessDenied", resp.Status, resp.body)
	}
	// Unsigned requests are refused.
	resp = do(t, hc, mustRequest(t, ctx, http.MethodGet, e.srv.URL+"/pre/up%20load.bin"))
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("anonymous GET: %s; want 403", resp.Status)
	}
}

// withSigningTime makes a presign sign as of t.
func withSigningTime(at time.Time) func(*s3.PresignOptions) {
	return func(o *s3.PresignOptions) {
		o.Presigner = timedPresigner{o.Presigner, at}
	}
}

type timedPresigner struct {
	s3.HTTPPresignerV4
	at time.Time
}

func (p timedPresigner) PresignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string, _ time.Time, optFns ...func(*v4.SignerOptions)) (string, http.Header, error) {
	return p.HTTPPresignerV4.PresignHTTP(ctx, creds, r, payloadHash, service, region, p.at, optFns...)
}

type response struct {
	*http.Response
	body []byte
}

func do(t testing.TB, hc *http.Client, req *http.Request) response {
	t.Helper()
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	return response{resp, b}
}

func mustRequest(t testing.TB, ctx context.Context, method, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestSDKConditionalPut(t *testing.T) {
	e := newSDK(t)
	ctx := ctxT(t)
	mustBucket(t, e, "cond")
	in := func(body string) *s3.PutObjectInput {
		return &s3.PutObjectInput{Bucket: aws.String("cond"), Key: aws.String("once"), Body: strings.NewReader(body), IfNoneMatch: aws.String("*")}
	}
	if _, err := e.client.PutObject(ctx, in("first")); err != nil {
		t.Fatalf("first PutObject If-None-Match *: %v", err)
	}
	_, err := e.client.PutObject(ctx, in("second"))
	wantAPIError(t, "second PutObject If-None-Match *", err, "PreconditionFailed", 412)
	_, b := getBytes(t, e, &s3.GetObjectInput{Bucket: aws.String("cond"), Key: aws.String("once")})
	if string(b) != "first" {
		t.Errorf("after a refused conditional put: %q; want first", b)
	}
	// If-Match: the current ETag wins, another loses.
	_, err = e.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cond"), Key: aws.String("once"), Body: strings.NewReader("third"), IfMatch: aws.String(md5ETag([]byte("first")))})
	if err != nil {
		t.Errorf("PutObject If-Match current ETag: %v", err)
	}
	_, err = e.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cond"), Key: aws.String("once"), Body: strings.NewReader("fourth"), IfMatch: aws.String(md5ETag([]byte("first")))})
	wantAPIError(t, "PutObject If-Match stale ETag", err, "PreconditionFailed", 412)
}

// TestSDKStartup measures the time from NewServer to the first answered
// request, which is what every test using cellartest pays.
func TestSDKStartup(t *testing.T) {
	start := time.Now()
	srv := cellartest.NewServer(t, nil)
	started := time.Since(start)
	e := sdkFor(t, srv)
	if _, err := e.client.ListBuckets(ctxT(t), &s3.ListBucketsInput{}); err != nil {
		t.Fatalf("ListBuckets: %v", err)
	}
	t.Logf("NewServer took %v; NewServer to the first answered ListBuckets took %v", started, time.Since(start))
}

// TestSDKBucketLifecycle puts, reads and deletes a lifecycle
// configuration with the SDK, which sends PutBucketLifecycleConfiguration
// with a checksum (S3 requires one).
func TestSDKBucketLifecycle(t *testing.T) {
	e := newSDK(t)
	ctx := ctxT(t)
	mustBucket(t, e, "lifecycle")
	_, err := e.client.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String("lifecycle")})
	wantAPIError(t, "GetBucketLifecycleConfiguration before any", err, "NoSuchLifecycleConfiguration", 404)

	rules := []types.LifecycleRule{
		{
			ID:         aws.String("logs"),
			Status:     types.ExpirationStatusEnabled,
			Filter:     &types.LifecycleRuleFilter{Prefix: aws.String("logs/")},
			Expiration: &types.LifecycleExpiration{Days: aws.Int32(30)},
		},
		{
			ID:     aws.String("scratch"),
			Status: types.ExpirationStatusDisabled,
			Filter: &types.LifecycleRuleFilter{And: &types.LifecycleRuleAndOperator{
				Prefix: aws.String("tmp/"),
				Tags:   []types.Tag{{Key: aws.String("class"), Value: aws.String("scratch")}},
			}},
			NoncurrentVersionExpiration: &types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(7), NewerNoncurrentVersions: aws.Int32(2)},
		},
		{
			ID:                             aws.String("uploads"),
			Status:                         types.ExpirationStatusEnabled,
			Filter:                         &types.LifecycleRuleFilter{},
			AbortIncompleteMultipartUpload: &types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(3)},
		},
	}
	put, err := e.client.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
		Bucket:                 aws.String("lifecycle"),
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: rules},
	})
	if err != nil {
		t.Fatalf("PutBucketLifecycleConfiguration: %v", err)
	}
	if put.TransitionDefaultMinimumObjectSize != types.TransitionDefaultMinimumObjectSizeAllStorageClasses128k {
		t.Errorf("PutBucketLifecycleConfiguration: TransitionDefaultMinimumObjectSize %q", put.TransitionDefaultMinimumObjectSize)
	}
	sent, ok := e.rec.last("PUT", "/lifecycle")
	if !ok {
		t.Fatal("PutBucketLifecycleConfiguration not recorded")
	}
	checked := sent.header.Get("Content-MD5") != "" || strings.Contains(strings.ToLower(sent.header.Get("X-Amz-Trailer")), "x-amz-checksum-")
	for k := range sent.header {
		checked = checked || strings.HasPrefix(strings.ToLower(k), "x-amz-checksum-")
	}
	if !checked {
		t.Errorf("PutBucketLifecycleConfiguration sent no checksum: %v", sent.header)
	}

	got, err := e.client.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String("lifecycle")})
	if err != nil {
		t.Fatalf("GetBucketLifecycleConfiguration: %v", err)
	}
	if got.TransitionDefaultMinimumObjectSize != types.TransitionDefaultMinimumObjectSizeAllStorageClasses128k {
		t.Errorf("GetBucketLifecycleConfiguration: TransitionDefaultMinimumObjectSize %q", got.TransitionDefaultMinimumObjectSize)
	}
	if len(got.Rules) != len(rules) {
		t.Fatalf("GetBucketLifecycleConfiguration: %d rules; want %d", len(got.Rules), len(rules))
	}
	for i, r := range got.Rules {
		w := rules[i]
		if aws.ToString(r.ID) != aws.ToString(w.ID) || r.Status != w.Status {
			t.Errorf("rule %d: ID %q Status %q; want %q %q", i, aws.ToString(r.ID), r.Status, aws.ToString(w.ID), w.Status)
		}
	}
	if r := got.Rules[0]; r.Filter == nil || aws.ToString(r.Filter.Prefix) != "logs/" || r.Expiration == nil || aws.ToInt32(r.Expiration.Days) != 30 {
		t.Errorf("rule logs: %+v", r)
	}
	if r := got.Rules[1]; r.Filter == nil || r.Filter.And == nil || aws.ToString(r.Filter.And.Prefix) != "tmp/" || len(r.Filter.And.Tags) != 1 ||
		aws.ToString(r.Filter.And.Tags[0].Key) != "class" || aws.ToString(r.Filter.And.Tags[0].Value) != "scratch" ||
		r.NoncurrentVersionExpiration == nil || aws.ToInt32(r.NoncurrentVersionExpiration.NoncurrentDays) != 7 ||
		aws.ToInt32(r.NoncurrentVersionExpiration.NewerNoncurrentVersions) != 2 {
		t.Errorf("rule scratch: %+v", r)
	}
	if r := got.Rules[2]; r.AbortIncompleteMultipartUpload == nil || aws.ToInt32(r.AbortIncompleteMultipartUpload.DaysAfterInitiation) != 3 {
		t.Errorf("rule uploads: %+v", r)
	}

	// A transition S3 refuses (STANDARD_IA before 30 days) is refused,
	// and the rules in force stay.
	_, err = e.client.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
		Bucket: aws.String("lifecycle"),
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{{
			ID: aws.String("archive"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{},
			Transitions: []types.Transition{{Days: aws.Int32(10), StorageClass: types.TransitionStorageClassStandardIa}},
		}}},
	})
	wantAPIError(t, "PutBucketLifecycleConfiguration with a transition at 10 days", err, "InvalidArgument", 400)
	// An invalid rule is InvalidArgument.
	_, err = e.client.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
		Bucket: aws.String("lifecycle"),
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{{
			ID: aws.String("zero"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{},
			Expiration: &types.LifecycleExpiration{Days: aws.Int32(0)},
		}}},
	})
	wantAPIError(t, "PutBucketLifecycleConfiguration with Days 0", err, "InvalidArgument", 400)
	if got, err := e.client.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String("lifecycle")}); err != nil || len(got.Rules) != len(rules) {
		t.Errorf("GetBucketLifecycleConfiguration after refusals: %v", err)
	}

	if _, err := e.client.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: aws.String("lifecycle")}); err != nil {
		t.Fatalf("DeleteBucketLifecycle: %v", err)
	}
	_, err = e.client.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String("lifecycle")})
	wantAPIError(t, "GetBucketLifecycleConfiguration after DeleteBucketLifecycle", err, "NoSuchLifecycleConfiguration", 404)
}
