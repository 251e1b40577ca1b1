package sigv4

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
	f.Add("AWS4-HMAC-SHA256 Credential=a/20130524/r/s3/aws4_request, SignedHeaders=host, Signature=00")
	f.Add("AWS AKID:sig")
	f.Add("AWS4-HMAC-SHA256 Credential=,SignedHeaders=;;,Signature=")
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/e/f, Credential=x")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := parseAuthorization(h)
		if err != nil {
			if a != nil {
				t.Fatal("result and error")
			}
			if err.Code == "" || err.Status == 0 {
				t.Fatalf("error without code or status: %+v", err)
			}
			return
		}
		if a.cred.accessKey == "" || a.cred.region == "" || len(a.cred.date) != 8 || len(a.signedHeaders) == 0 {
			t.Fatalf("accepted %q as %+v", h, a)
		}
		for _, n := range a.signedHeaders {
			if !isLowerToken(n) {
				t.Fatalf("accepted signed header %q", n)
			}
		}
	})
}

func FuzzCanonicalURI(f *testing.F) {
	for _, s := range []string{"/", "/test$file.text", "/a b/c+d", "/日本/%", "//./../x", "", "/\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		enc := canonicalURI(path)
		for i := 0; i < len(enc); i++ {
			c := enc[i]
			if c == '%' {
				if i+2 >= len(enc) || !isHex(enc[i+1]) || !isHex(enc[i+2]) ||
					strings.ToUpper(enc[i+1:i+3]) != enc[i+1:i+3] {
					t.Fatalf("canonicalURI(%q) = %q: bad escape at %d", path, enc, i)
				}
				i += 2
				continue
			}
			if !unreserved(c) && c != '/' {
				t.Fatalf("canonicalURI(%q) = %q: raw byte %q", path, enc, c)
			}
		}
		dec, err := url.PathUnescape(enc)
		if path == "" {
			path = "/"
		}
		if err != nil || dec != path {
			t.Fatalf("canonicalURI(%q) = %q decodes to %q, %v", path, enc, dec, err)
		}
		// The component form escapes '/' too.
		if strings.Contains(uriEncode(path, false), "/") {
			t.Fatalf("uriEncode(%q, false) kept a slash", path)
		}
	})
}

func FuzzCanonicalQuery(f *testing.F) {
	for _, s := range []string{"", "lifecycle", "max-keys=2&prefix=J", "a=1&a=0&b", "x=%2F&y=+", "&&=&", "k=%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		params, err := parseQuery(raw)
		if err != nil {
			return
		}
		c := canonicalQuery(params, "")
		// The canonical form parses back to the same pairs.
		again, err := parseQuery(c)
		if err != nil {
			t.Fatalf("canonical query %q of %q does not parse: %v", c, raw, err)
		}
		if len(again) != len(params) {
			t.Fatalf("canonical query %q of %q has %d pairs, want %d", c, raw, len(again), len(params))
		}
		if c2 := canonicalQuery(again, ""); c2 != c {
			t.Fatalf("canonical query is not stable: %q then %q", c, c2)
		}
	})
}

// FuzzChunkedReader feeds arbitrary bytes to the aws-chunked decoder, signed
// and unsigned, seeded with valid bodies.
func FuzzChunkedReader(f *testing.F) {
	payload := []byte("The quick brown fox jumps over the lazy dog")
	type seed struct {
		opts *StreamOptions
		mode byte
	}
	for _, s := range []seed{
		{&StreamOptions{ChunkSize: 16}, 0},
		{&StreamOptions{ChunkSize: 16, Trailer: http.Header{"X-Amz-Checksum-Crc32": {"AAAAAA=="}}}, 1},
		{&StreamOptions{ChunkSize: 16, Unsigned: true, Trailer: http.Header{"X-Amz-Checksum-Crc32": {"AAAAAA=="}}}, 2},
	} {
		r := httptest.NewRequest("PUT", "http://cellar.test/bucket/key", nil)
		if err := SignStreaming(r, testCreds, testRegion, testNow, payload, s.opts); err != nil {
			f.Fatal(err)
		}
		body := encodedBody(f, r)
		// The seed must decode through the request the fuzz function builds.
		fr := fuzzStreamRequest(f, s.mode, int64(len(payload)), len(body))
		fr.Body = io.NopCloser(bytes.NewReader(body))
		if got := readBody(f, mustVerify(f, fixedVerifier(testNow), fr)); !bytes.Equal(got, payload) {
			f.Fatalf("seed %d decodes to %q", s.mode, got)
		}
		f.Add(body, s.mode, int64(len(payload)))
	}
	f.Add([]byte("0\r\n\r\n"), byte(2), int64(0))
	f.Add([]byte("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\n\r\n\r\n"), byte(2), int64(5))
	f.Fuzz(func(t *testing.T, body []byte, mode byte, want int64) {
		mode %= 3
		if want < 0 {
			want = -want
		}
		want %= 1 << 20
		r := fuzzStreamRequest(t, mode, want, len(body))
		r.Body = io.NopCloser(bytes.NewReader(body))
		res, err := fixedVerifier(testNow).Verify(r)
		if err != nil {
			return // the seed signature is fixed; only the body varies
		}
		got, err := io.ReadAll(res.Body)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
			if res.Trailer() != nil {
				t.Fatal("Trailer() after a failure")
			}
			return
		}
		if int64(len(got)) != want {
			t.Fatalf("decoded %d bytes, declared %d", len(got), want)
		}
		if res.Trailer() == nil {
			t.Fatal("Trailer() nil at the end")
		}
		// A signed body can only decode to what was signed: the payload
		// of the seeds.
		if mode != 2 && !bytes.Equal(got, payload) {
			t.Fatalf("signed body decoded to %q", got)
		}
	})
}

// fuzzStreamRequest is the request FuzzChunkedReader verifies, with the
// headers SignStreaming sets, so that the seed bodies verify.
func fuzzStreamRequest(t testing.TB, mode byte, want int64, length int) *http.Request {
	r := httptest.NewRequest("PUT", "http://cellar.test/bucket/key", nil)
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Decoded-Content-Length", strconv.FormatInt(want, 10))
	payload := []string{StreamingPayload, StreamingPayloadTrailer, StreamingUnsignedTrailer}[mode]
	if mode != 0 {
		r.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
	}
	r.ContentLength = int64(length)
	if _, err := signRequest(r, testCreds, testRegion, testNow, payload); err != nil {
		t.Fatal(err)
	}
	return r
}

// FuzzVerifyRequest parses arbitrary bytes as an HTTP request and verifies
// it: any outcome but a panic, a non-*Error error, or a hang is fine.
func FuzzVerifyRequest(f *testing.F) {
	r := signedRequest(f, "GET", "http://cellar.test/bucket/key?versionId=1", "", emptySHA256)
	var b bytes.Buffer
	r.Write(&b)
	f.Add(b.Bytes())
	u, _ := Presign("GET", "http://cellar.test/b/k", testCreds, testRegion, testNow, time.Hour)
	f.Add([]byte("GET " + strings.TrimPrefix(u, "http://cellar.test") + " HTTP/1.1\r\nHost: cellar.test\r\n\r\n"))
	sr := streamingRequest(f, []byte("hello"), &StreamOptions{Trailer: http.Header{"X-Amz-Checksum-Crc32": {"AAAAAA=="}}})
	b.Reset()
	sr.Write(&b)
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			return
		}
		res, verr := fixedVerifier(testNow).Verify(r)
		if verr != nil {
			if _, ok := verr.(*Error); !ok {
				t.Fatalf("Verify error %v is not an *Error", verr)
			}
			return
		}
		if _, err := io.Copy(io.Discard, res.Body); err != nil {
			var e *Error
			if !errors.As(err, &e) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Logf("body error: %v", err)
			}
		}
	})
}
