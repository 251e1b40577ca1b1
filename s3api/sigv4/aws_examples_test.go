package sigv4

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The examples in AWS's "Signature Calculations for the Authorization
// Header" and "Authenticating Requests: Using Query Parameters" pages for
// S3, with the signatures AWS computed for them.
const (
	exampleAccessKey = "AKIAIOSFODNN7EXAMPLE"
	exampleSecret    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	exampleCred      = exampleAccessKey + "/20130524/us-east-1/s3/aws4_request"
)

var exampleTime = time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)

func exampleVerifier(now time.Time) *Verifier {
	return &Verifier{
		Region: "us-east-1",
		Lookup: func(k string) (string, bool) {
			if k == exampleAccessKey {
				return exampleSecret, true
			}
			return "", false
		},
		Now: func() time.Time { return now },
	}
}

// readRequest parses raw as a server would receive it. Lines end in "\n" in
// the source and are sent with CRLF.
func readRequest(t testing.TB, head, body string) *http.Request {
	t.Helper()
	raw := strings.ReplaceAll(strings.TrimLeft(head, "\n"), "\n", "\r\n") + "\r\n" + body
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatalf("ReadRequest: %v", err)
	}
	return r
}

func mustVerify(t testing.TB, v *Verifier, r *http.Request) *Result {
	t.Helper()
	res, err := v.Verify(r)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return res
}

func readBody(t testing.TB, res *Result) []byte {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return b
}

func TestAWSExampleGetObject(t *testing.T) {
	r := readRequest(t, `
GET /test.txt HTTP/1.1
Host: examplebucket.s3.amazonaws.com
Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41
Range: bytes=0-9
x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
x-amz-date: 20130524T000000Z
`, "")
	res := mustVerify(t, exampleVerifier(exampleTime), r)
	if res.AccessKey != exampleAccessKey || res.Anonymous || res.Streaming {
		t.Errorf("result = %+v", res)
	}
	if b := readBody(t, res); len(b) != 0 {
		t.Errorf("body = %q", b)
	}
	if h := res.Trailer(); h == nil || len(h) != 0 {
		t.Errorf("Trailer() = %v, want empty", h)
	}

	// The same request with the signature of another must fail.
	r.Header.Set("Range", "bytes=0-10")
	if _, err := exampleVerifier(exampleTime).Verify(r); !errors.Is(err, ErrSignatureDoesNotMatch) {
		t.Errorf("tampered Range: %v", err)
	}
}

func TestAWSExamplePutObject(t *testing.T) {
	// The key test$file.text: '$' is sent as is and signed as %24.
	const body = "Welcome to Amazon S3."
	r := readRequest(t, `
PUT /test$file.text HTTP/1.1
Host: examplebucket.s3.amazonaws.com
Date: Fri, 24 May 2013 00:00:00 GMT
Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd
x-amz-date: 20130524T000000Z
x-amz-storage-class: REDUCED_REDUNDANCY
x-amz-content-sha256: 44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072
Content-Length: 21
`, body)
	res := mustVerify(t, exampleVerifier(exampleTime), r)
	if got := readBody(t, res); string(got) != body {
		t.Errorf("body = %q", got)
	}
	if res.DecodedLength != 21 {
		t.Errorf("DecodedLength = %d", res.DecodedLength)
	}

	// The same headers over another body: the hash check fails at the end.
	r = readRequest(t, `
PUT /test$file.text HTTP/1.1
Host: examplebucket.s3.amazonaws.com
Date: Fri, 24 May 2013 00:00:00 GMT
Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd
x-amz-date: 20130524T000000Z
x-amz-storage-class: REDUCED_REDUNDANCY
x-amz-content-sha256: 44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072
Content-Length: 21
`, "Welcome to Amazon S4.")
	res = mustVerify(t, exampleVerifier(exampleTime), r)
	_, err := io.ReadAll(res.Body)
	if !errors.Is(err, ErrXAmzContentSHA256Mismatch) {
		t.Errorf("tampered body: %v", err)
	}
	if res.Trailer() != nil {
		t.Error("Trailer() non-nil after a failed body")
	}
}

func TestAWSExampleGetBucketLifecycle(t *testing.T) {
	r := readRequest(t, `
GET /?lifecycle HTTP/1.1
Host: examplebucket.s3.amazonaws.com
Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543
x-amz-date: 20130524T000000Z
x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
`, "")
	mustVerify(t, exampleVerifier(exampleTime), r)
}

func TestAWSExampleListObjects(t *testing.T) {
	r := readRequest(t, `
GET /?max-keys=2&prefix=J HTTP/1.1
Host: examplebucket.s3.amazonaws.com
Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7
x-amz-date: 20130524T000000Z
x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
`, "")
	mustVerify(t, exampleVerifier(exampleTime), r)

	// The query in another order signs the same; another value does not.
	r.URL.RawQuery = "prefix=J&max-keys=2"
	mustVerify(t, exampleVerifier(exampleTime), r)
	r.URL.RawQuery = "prefix=K&max-keys=2"
	if _, err := exampleVerifier(exampleTime).Verify(r); !errors.Is(err, ErrSignatureDoesNotMatch) {
		t.Errorf("tampered query: %v", err)
	}
}

const examplePresigned = "https://examplebucket.s3.amazonaws.com/test.txt" +
	"?X-Amz-Algorithm=AWS4-HMAC-SHA256" +
	"&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request" +
	"&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host" +
	"&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"

func TestAWSExamplePresignedURL(t *testing.T) {
	got, err := Presign("GET", "https://examplebucket.s3.amazonaws.com/test.txt",
		Credentials{exampleAccessKey, exampleSecret}, "us-east-1", exampleTime, 86400*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got != examplePresigned {
		t.Errorf("Presign =\n  %s\nwant\n  %s", got, examplePresigned)
	}

	path := strings.TrimPrefix(examplePresigned, "https://examplebucket.s3.amazonaws.com")
	for _, tc := range []struct {
		now  time.Time
		want *Error
	}{
		{exampleTime, nil},
		{exampleTime.Add(86400 * time.Second), nil},
		{exampleTime.Add(86401 * time.Second), ErrAccessDenied}, // expired
		{exampleTime.Add(-10 * time.Minute), nil},               // a client clock a little behind
		{exampleTime.Add(-20 * time.Minute), ErrAccessDenied},   // not valid yet
	} {
		r := readRequest(t, "GET "+path+" HTTP/1.1\nHost: examplebucket.s3.amazonaws.com\n", "")
		res, err := exampleVerifier(tc.now).Verify(r)
		if tc.want == nil {
			if err != nil {
				t.Errorf("at %v: %v", tc.now, err)
			} else if res.AccessKey != exampleAccessKey {
				t.Errorf("AccessKey = %q", res.AccessKey)
			}
			continue
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("at %v: error %v, want %v", tc.now, err, tc.want)
		}
	}
	r := readRequest(t, "GET "+path+" HTTP/1.1\nHost: examplebucket.s3.amazonaws.com\n", "")
	_, err = exampleVerifier(exampleTime.Add(48 * time.Hour)).Verify(r)
	var e *Error
	if !errors.As(err, &e) || e.Message != "Request has expired" || e.Status != 403 {
		t.Errorf("expired: %v", err)
	}
}

// exampleChunked is the body of AWS's chunked upload example: 65 KiB of 'a'
// in a 64 KiB and a 1 KiB chunk and the final chunk.
func exampleChunked(sigs [3]string, trailer string) string {
	return "10000;chunk-signature=" + sigs[0] + "\r\n" + strings.Repeat("a", 65536) + "\r\n" +
		"400;chunk-signature=" + sigs[1] + "\r\n" + strings.Repeat("a", 1024) + "\r\n" +
		"0;chunk-signature=" + sigs[2] + "\r\n" + trailer + "\r\n"
}

var exampleChunkSigs = [3]string{
	"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
	"0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
	"b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
}

func exampleStreamingRequest(t testing.TB, body string) *http.Request {
	return readRequest(t, `
PUT /examplebucket/chunkObject.txt HTTP/1.1
Host: s3.amazonaws.com
x-amz-date: 20130524T000000Z
x-amz-storage-class: REDUCED_REDUNDANCY
Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9
x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD
Content-Encoding: aws-chunked
x-amz-decoded-content-length: 66560
Content-Length: 66824
`, body)
}

func TestAWSExampleChunkedUpload(t *testing.T) {
	body := exampleChunked(exampleChunkSigs, "")
	if len(body) != 66824 {
		t.Fatalf("example body is %d bytes", len(body))
	}
	res := mustVerify(t, exampleVerifier(exampleTime), exampleStreamingRequest(t, body))
	if !res.Streaming || res.DecodedLength != 66560 || res.PayloadHash != StreamingPayload {
		t.Errorf("result = %+v", res)
	}
	if res.Trailer() != nil {
		t.Error("Trailer() before the end")
	}
	if got := readBody(t, res); string(got) != strings.Repeat("a", 66560) {
		t.Errorf("decoded %d bytes", len(got))
	}
	if h := res.Trailer(); h == nil || len(h) != 0 {
		t.Errorf("Trailer() = %v", h)
	}

	// Each chunk signature, flipped, fails the upload.
	for i := range exampleChunkSigs {
		sigs := exampleChunkSigs
		sigs[i] = strings.Repeat("0", 64)
		res := mustVerify(t, exampleVerifier(exampleTime), exampleStreamingRequest(t, exampleChunked(sigs, "")))
		if _, err := io.ReadAll(res.Body); !errors.Is(err, ErrSignatureDoesNotMatch) {
			t.Errorf("chunk %d signature corrupted: %v", i, err)
		}
	}
	// Swapping the chunks' signatures breaks the chain.
	sigs := exampleChunkSigs
	sigs[0], sigs[1] = sigs[1], sigs[0]
	res = mustVerify(t, exampleVerifier(exampleTime), exampleStreamingRequest(t, exampleChunked(sigs, "")))
	if _, err := io.ReadAll(res.Body); !errors.Is(err, ErrSignatureDoesNotMatch) {
		t.Errorf("swapped signatures: %v", err)
	}
	// A changed data byte.
	bad := []byte(body)
	bad[1000] = 'b'
	res = mustVerify(t, exampleVerifier(exampleTime), exampleStreamingRequest(t, string(bad)))
	got, err := io.ReadAll(res.Body)
	if !errors.Is(err, ErrSignatureDoesNotMatch) {
		t.Errorf("tampered data: %v", err)
	}
	if len(got) != 0 {
		t.Errorf("returned %d bytes of an unverified chunk", len(got))
	}
}

var exampleTrailerSigs = [3]string{
	"b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
	"1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
	"2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
}

const exampleTrailer = "x-amz-checksum-crc32c:sOO8/Q==\r\n" +
	"x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n"

func exampleTrailerRequest(t testing.TB, body string) *http.Request {
	return readRequest(t, `
PUT /examplebucket/chunkObject.txt HTTP/1.1
Host: s3.amazonaws.com
x-amz-date: 20130524T000000Z
x-amz-storage-class: REDUCED_REDUNDANCY
Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer,Signature=106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e
x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
Content-Encoding: aws-chunked
x-amz-decoded-content-length: 66560
x-amz-trailer: x-amz-checksum-crc32c
Content-Length: `+strconv.Itoa(len(body))+"\n", body)
}

func TestAWSExampleChunkedUploadWithTrailer(t *testing.T) {
	for name, body := range map[string]string{
		"as documented":        exampleChunked(exampleTrailerSigs, exampleTrailer),
		"empty line first":     exampleChunked(exampleTrailerSigs, "\r\n"+exampleTrailer),
		"no final empty line":  strings.TrimSuffix(exampleChunked(exampleTrailerSigs, exampleTrailer), "\r\n"),
		"extra spaces in line": exampleChunked(exampleTrailerSigs, strings.Replace(exampleTrailer, ":sOO8", ":  sOO8", 1)),
	} {
		t.Run(name, func(t *testing.T) {
			res := mustVerify(t, exampleVerifier(exampleTime), exampleTrailerRequest(t, body))
			if got := readBody(t, res); len(got) != 66560 {
				t.Fatalf("decoded %d bytes", len(got))
			}
			h := res.Trailer()
			if h.Get("x-amz-checksum-crc32c") != "sOO8/Q==" || len(h) != 1 {
				t.Errorf("Trailer() = %v", h)
			}
		})
	}
	for name, body := range map[string]string{
		"bad trailer signature": exampleChunked(exampleTrailerSigs, strings.Replace(exampleTrailer, "d81f", "d81e", 1)),
		"tampered trailer":      exampleChunked(exampleTrailerSigs, strings.Replace(exampleTrailer, "sOO8", "sOO9", 1)),
		"no trailer signature":  exampleChunked(exampleTrailerSigs, "x-amz-checksum-crc32c:sOO8/Q==\r\n"),
	} {
		t.Run(name, func(t *testing.T) {
			res := mustVerify(t, exampleVerifier(exampleTime), exampleTrailerRequest(t, body))
			_, err := io.ReadAll(res.Body)
			if !errors.Is(err, ErrSignatureDoesNotMatch) {
				t.Errorf("error = %v, want SignatureDoesNotMatch", err)
			}
			if res.Trailer() != nil {
				t.Error("Trailer() after a failure")
			}
		})
	}
	// A trailer that x-amz-trailer did not declare, signed correctly, is
	// still refused. (Signed here with the package's own signer.)
	res := mustVerify(t, exampleVerifier(exampleTime), exampleTrailerRequest(t,
		exampleChunked(exampleTrailerSigs, "")))
	if _, err := io.ReadAll(res.Body); !errors.Is(err, ErrMalformedTrailer) && !errors.Is(err, ErrSignatureDoesNotMatch) {
		t.Errorf("missing declared trailer: %v", err)
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
