package sigv4

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// streamingRequest returns a request for an aws-chunked upload of payload,
// signed with SignStreaming at testNow.
func streamingRequest(t testing.TB, payload []byte, o *StreamOptions) *http.Request {
	t.Helper()
	r := httptest.NewRequest("PUT", "http://cellar.test/bucket/key", nil)
	if err := SignStreaming(r, testCreds, testRegion, testNow, payload, o); err != nil {
		t.Fatal(err)
	}
	return r
}

func encodedBody(t testing.TB, r *http.Request) []byte {
	t.Helper()
	b, err := r.GetBody()
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(b)
	return data
}

func withBody(r *http.Request, body []byte) *http.Request {
	r = r.Clone(r.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	return r
}

func randPayload(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

var streamModes = []struct {
	name string
	opts func(payload []byte) *StreamOptions
}{
	{"signed", func([]byte) *StreamOptions { return &StreamOptions{} }},
	{"signed-trailer", func(p []byte) *StreamOptions {
		return &StreamOptions{Trailer: http.Header{"X-Amz-Checksum-Sha256": {sha256Hex(p)}}}
	}},
	{"signed-two-trailers", func(p []byte) *StreamOptions {
		return &StreamOptions{Trailer: http.Header{"X-Amz-Checksum-Sha256": {sha256Hex(p)}, "X-Amz-Meta-A": {"b  c"}}}
	}},
	{"unsigned-trailer", func(p []byte) *StreamOptions {
		return &StreamOptions{Unsigned: true, Trailer: http.Header{"X-Amz-Checksum-Sha256": {sha256Hex(p)}}}
	}},
	{"unsigned-no-trailer", func([]byte) *StreamOptions { return &StreamOptions{Unsigned: true} }},
}

func TestStreamingRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, mode := range streamModes {
		t.Run(mode.name, func(t *testing.T) {
			for _, n := range []int{0, 1, 7, 100, 8192, 65536, 65537, 200000} {
				payload := randPayload(rng, n)
				o := mode.opts(payload)
				o.ChunkSize = []int{0, 1, 3, 1000, 8192}[rng.IntN(5)]
				if n > 10000 && o.ChunkSize < 1000 {
					o.ChunkSize = 0
				}
				r := streamingRequest(t, payload, o)
				for _, reader := range []string{"all", "one-byte-reads", "one-byte-source", "half"} {
					r := withBody(r, encodedBody(t, r))
					if reader == "one-byte-source" {
						r.Body = io.NopCloser(iotest.OneByteReader(r.Body))
					}
					if reader == "half" {
						r.Body = io.NopCloser(iotest.HalfReader(r.Body))
					}
					res := mustVerify(t, fixedVerifier(testNow), r)
					if !res.Streaming || res.DecodedLength != int64(n) {
						t.Fatalf("result = %+v", res)
					}
					var src io.Reader = res.Body
					if reader == "one-byte-reads" {
						src = iotest.OneByteReader(res.Body)
					}
					got, err := io.ReadAll(src)
					if err != nil {
						t.Fatalf("n=%d chunk=%d %s: %v", n, o.ChunkSize, reader, err)
					}
					if !bytes.Equal(got, payload) {
						t.Fatalf("n=%d chunk=%d %s: decoded %d bytes, differ", n, o.ChunkSize, reader, len(got))
					}
					tr := res.Trailer()
					if tr == nil || len(tr) != len(o.Trailer) {
						t.Fatalf("Trailer() = %v, want %v", tr, o.Trailer)
					}
					for k := range o.Trailer {
						if tr.Get(k) != trimAll(o.Trailer.Get(k)) {
							t.Fatalf("trailer %s = %q, want %q", k, tr.Get(k), o.Trailer.Get(k))
						}
					}
				}
			}
		})
	}
}

func TestStreamingIOTest(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789"), 3000)
	r := streamingRequest(t, payload, &StreamOptions{ChunkSize: 4096,
		Trailer: http.Header{"X-Amz-Checksum-Crc32": {"AAAAAA=="}}})
	res := mustVerify(t, fixedVerifier(testNow), r)
	if err := iotest.TestReader(res.Body, payload); err != nil {
		t.Fatal(err)
	}
}

// TestStreamingTruncated cuts a valid body at every byte: no cut may decode
// successfully.
func TestStreamingTruncated(t *testing.T) {
	payload := []byte("The quick brown fox jumps over the lazy dog")
	for _, mode := range streamModes {
		t.Run(mode.name, func(t *testing.T) {
			r := streamingRequest(t, payload, func() *StreamOptions {
				o := mode.opts(payload)
				o.ChunkSize = 10
				return o
			}())
			body := encodedBody(t, r)
			for cut := 0; cut < len(body); cut++ {
				res := mustVerify(t, fixedVerifier(testNow), withBody(r, body[:cut]))
				got, err := io.ReadAll(res.Body)
				if err == nil {
					// Leaving out the final CRLF (or, with trailers, the
					// empty line after them) is tolerated; nothing else is.
					if !bytes.Equal(got, payload) || len(body)-cut > 2 {
						t.Fatalf("cut at %d of %d decoded %q", cut, len(body), got)
					}
					continue
				}
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("cut at %d: error %v is not an *Error", cut, err)
				}
				if res.Trailer() != nil {
					t.Fatalf("cut at %d: Trailer() after a failure", cut)
				}
			}
		})
	}
}

// TestStreamingBitFlips flips every byte of a signed body: none may decode
// successfully to different data.
func TestStreamingBitFlips(t *testing.T) {
	payload := []byte("The quick brown fox jumps over the lazy dog")
	for _, mode := range streamModes[:3] { // the signed ones
		t.Run(mode.name, func(t *testing.T) {
			o := mode.opts(payload)
			o.ChunkSize = 16
			r := streamingRequest(t, payload, o)
			body := encodedBody(t, r)
			for i := range body {
				for _, flip := range []byte{0x01, 0x20, 0x80} {
					bad := bytes.Clone(body)
					bad[i] ^= flip
					res := mustVerify(t, fixedVerifier(testNow), withBody(r, bad))
					got, err := io.ReadAll(res.Body)
					if err == nil {
						// Only changes the decoder may ignore: hex case in a
						// chunk size, spaces around a trailer value.
						if !bytes.Equal(got, payload) {
							t.Fatalf("flip %#x at %d decoded %q", flip, i, got)
						}
						if tr := res.Trailer(); mode.name != "signed" && !equalTrailers(tr, o.Trailer) {
							t.Fatalf("flip %#x at %d changed trailers to %v", flip, i, tr)
						}
					}
				}
			}
		})
	}
}

func equalTrailers(got, want http.Header) bool {
	if len(got) != len(want) {
		return false
	}
	for k := range want {
		if got.Get(k) != trimAll(want.Get(k)) {
			return false
		}
	}
	return true
}

func TestStreamingVerifiedBeforeRelease(t *testing.T) {
	payload := bytes.Repeat([]byte("x"), 300)
	r := streamingRequest(t, payload, &StreamOptions{ChunkSize: 100})
	body := encodedBody(t, r)
	// Corrupt the middle of the second chunk's data.
	header := len("64;chunk-signature=") + 64 + 2
	body[header+100+2+header+50] = 'y'
	res := mustVerify(t, fixedVerifier(testNow), withBody(r, body))
	got, err := io.ReadAll(res.Body)
	if !errors.Is(err, ErrSignatureDoesNotMatch) {
		t.Fatalf("error = %v", err)
	}
	if len(got)%100 != 0 || bytes.ContainsRune(got, 'y') {
		t.Fatalf("returned %d bytes including unverified ones", len(got))
	}
}

func TestStreamingErrors(t *testing.T) {
	payload := []byte("0123456789abcdefghij")
	sig := strings.Repeat("0", 64)
	for _, tc := range []struct {
		name   string
		opts   *StreamOptions
		edit   func(r *http.Request, body []byte) []byte
		want   *Error
		verify *Error // an error from Verify itself
	}{
		{name: "decoded length too large", opts: &StreamOptions{ChunkSize: 8, Unsigned: true},
			edit: func(r *http.Request, b []byte) []byte {
				r.Header.Set("X-Amz-Decoded-Content-Length", "21")
				return b
			}, want: ErrIncompleteBody},
		{name: "decoded length too small", opts: &StreamOptions{ChunkSize: 8, Unsigned: true},
			edit: func(r *http.Request, b []byte) []byte {
				r.Header.Set("X-Amz-Decoded-Content-Length", "19")
				return b
			}, want: ErrInvalidRequest},
		{name: "no decoded length", opts: &StreamOptions{Unsigned: true},
			edit: func(r *http.Request, b []byte) []byte {
				r.Header.Del("X-Amz-Decoded-Content-Length")
				return b
			}, verify: ErrMissingContentLength},
		{name: "bad decoded length", opts: &StreamOptions{Unsigned: true},
			edit: func(r *http.Request, b []byte) []byte {
				r.Header.Set("X-Amz-Decoded-Content-Length", "-1")
				return b
			}, verify: ErrInvalidArgument},
		{name: "corrupt chunk signature", opts: &StreamOptions{ChunkSize: 8},
			edit: func(r *http.Request, b []byte) []byte {
				i := bytes.Index(b, []byte("chunk-signature=")) + 16
				b[i] ^= 1
				return b
			}, want: ErrSignatureDoesNotMatch},
		{name: "missing chunk signature", opts: &StreamOptions{ChunkSize: 8},
			edit: func(r *http.Request, b []byte) []byte {
				return []byte("14\r\n" + string(payload) + "\r\n0\r\n\r\n")
			}, want: ErrSignatureDoesNotMatch},
		{name: "short chunk signature", opts: &StreamOptions{},
			edit: func(r *http.Request, b []byte) []byte {
				return []byte("14;chunk-signature=abc\r\n" + string(payload) + "\r\n")
			}, want: ErrSignatureDoesNotMatch},
		{name: "bad chunk size", opts: &StreamOptions{Unsigned: true},
			edit: func(r *http.Request, b []byte) []byte { return []byte("1g\r\n") }, want: ErrInvalidRequest},
		{name: "negative chunk size", opts: &StreamOptions{Unsigned: true},
			edit: func(r *http.Request, b []byte) []byte { return []byte("-14\r\n") }, want: ErrInvalidRequest},
		{name: "empty chunk size", opts: &StreamOptions{Unsigned: true},
			edit: func(r *http.Request, b []byte) []byte { return []byte("\r\n") }, want: ErrInvalidRequest},
		{name: "huge chunk size", opts: &StreamOptions{Unsigned: true},
			edit: func(r *http.Request, b []byte) []byte { return []byte("ffffffffffffffff\r\n") }, want: ErrInvalidRequest},
		{name: "overlong chunk size", opts: &StreamOptions{Unsigned: true},
			edit: func(r *http.Request, b []byte) []byte { return []byte("00000000000000014\r\n") }, want: ErrInvalidRequest},
		{name: "chunk beyond decoded length", opts: &StreamOptions{Unsigned: true},
			edit: func(r *http.Request, b []byte) []byte { return []byte("15\r\n") }, want: ErrInvalidRequest},
		{name: "signed chunk over the limit", opts: &StreamOptions{},
			edit: func(r *http.Request, b []byte) []byte {
				r.Header.Set("X-Amz-Decoded-Content-Length", "1000000000")
				return []byte(strconv.FormatInt(MaxSignedChunkSize+1, 16) + ";chunk-signature=" + sig + "\r\n")
			}, want: ErrInvalidRequest},
		{name: "line too long", opts: &StreamOptions{Unsigned: true},
			edit: func(r *http.Request, b []byte) []byte {
				return []byte("1;" + strings.Repeat("x", maxLineLen) + "\r\n")
			}, want: ErrInvalidRequest},
		{name: "bare LF", opts: &StreamOptions{Unsigned: true},
			edit: func(r *http.Request, b []byte) []byte { return []byte("14\n") }, want: ErrInvalidRequest},
		{name: "chunk data longer than its size", opts: &StreamOptions{Unsigned: true},
			edit: func(r *http.Request, b []byte) []byte {
				return []byte("13\r\n" + string(payload) + "\r\n0\r\n\r\n")
			}, want: ErrInvalidRequest},
		{name: "signed chunk data longer than its size", opts: &StreamOptions{ChunkSize: 20},
			edit: func(r *http.Request, b []byte) []byte {
				return bytes.Replace(b, []byte("14;"), []byte("13;"), 1)
			}, want: ErrInvalidRequest},
		{name: "empty body", opts: &StreamOptions{},
			edit: func(r *http.Request, b []byte) []byte { return nil }, want: ErrIncompleteBody},
		{name: "data after final chunk", opts: &StreamOptions{},
			edit: func(r *http.Request, b []byte) []byte {
				return append(b[:len(b)-2], "x-amz-checksum-crc32:AAAAAA==\r\n\r\n"...)
			}, want: ErrInvalidRequest},
		{name: "bad trailer signature", opts: &StreamOptions{Trailer: http.Header{"X-Amz-Checksum-Crc32": {"AAAAAA=="}}},
			edit: func(r *http.Request, b []byte) []byte {
				i := bytes.Index(b, []byte("x-amz-trailer-signature:")) + 24
				b[i] ^= 1
				return b
			}, want: ErrSignatureDoesNotMatch},
		{name: "tampered trailer", opts: &StreamOptions{Trailer: http.Header{"X-Amz-Checksum-Crc32": {"AAAAAA=="}}},
			edit: func(r *http.Request, b []byte) []byte {
				return bytes.Replace(b, []byte("AAAAAA=="), []byte("AAAAAQ=="), 1)
			}, want: ErrSignatureDoesNotMatch},
		{name: "trailer signature not last", opts: &StreamOptions{Trailer: http.Header{"X-Amz-Checksum-Crc32": {"AAAAAA=="}}},
			edit: func(r *http.Request, b []byte) []byte {
				return append(b[:len(b)-2], "x-amz-meta-z:1\r\n\r\n"...)
			}, want: ErrMalformedTrailer},
		{name: "undeclared trailer", opts: &StreamOptions{Unsigned: true, Trailer: http.Header{"X-Amz-Checksum-Crc32": {"AAAAAA=="}}},
			edit: func(r *http.Request, b []byte) []byte {
				return append(b[:len(b)-2], "x-amz-checksum-crc32c:AAAAAA==\r\n\r\n"...)
			}, want: ErrMalformedTrailer},
		{name: "missing declared trailer", opts: &StreamOptions{Unsigned: true, Trailer: http.Header{"X-Amz-Checksum-Crc32": {"AAAAAA=="}}},
			edit: func(r *http.Request, b []byte) []byte {
				r.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32, x-amz-checksum-sha1")
				return b
			}, want: ErrMalformedTrailer},
		{name: "duplicate trailer", opts: &StreamOptions{Unsigned: true, Trailer: http.Header{"X-Amz-Checksum-Crc32": {"AAAAAA=="}}},
			edit: func(r *http.Request, b []byte) []byte {
				return append(b[:len(b)-2], "x-amz-checksum-crc32:AAAAAA==\r\n\r\n"...)
			}, want: ErrMalformedTrailer},
		{name: "malformed trailer line", opts: &StreamOptions{Unsigned: true, Trailer: http.Header{"X-Amz-Checksum-Crc32": {"AAAAAA=="}}},
			edit: func(r *http.Request, b []byte) []byte {
				return bytes.Replace(b, []byte("x-amz-checksum-crc32:"), []byte("x-amz-checksum-crc32 "), 1)
			}, want: ErrMalformedTrailer},
		{name: "signature on an unsigned trailer", opts: &StreamOptions{Unsigned: true, Trailer: http.Header{"X-Amz-Checksum-Crc32": {"AAAAAA=="}}},
			edit: func(r *http.Request, b []byte) []byte {
				return append(b[:len(b)-2], "x-amz-trailer-signature:"+sig+"\r\n\r\n"...)
			}, want: ErrMalformedTrailer},
		{name: "too many trailers", opts: &StreamOptions{Unsigned: true},
			edit: func(r *http.Request, b []byte) []byte {
				r.Header.Set("X-Amz-Content-Sha256", StreamingUnsignedTrailer)
				var s strings.Builder
				s.WriteString("14\r\n" + string(payload) + "\r\n0\r\n")
				for i := range maxTrailers + 1 {
					fmt.Fprintf(&s, "x-amz-meta-%d:v\r\n", i)
				}
				return []byte(s.String() + "\r\n")
			}, want: ErrMalformedTrailer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := streamingRequest(t, payload, tc.opts)
			before := r.Header.Clone()
			body := tc.edit(r, encodedBody(t, r))
			if !equalHeaders(before, r.Header) {
				// Re-sign the edited headers. (Chunk signatures chain from
				// the old seed, so such cases use unsigned chunks or fail
				// before the first signature check.)
				if _, err := signRequest(r, testCreds, testRegion, testNow, r.Header.Get("X-Amz-Content-Sha256")); err != nil {
					t.Fatal(err)
				}
			}
			r2 := r
			res, err := fixedVerifier(testNow).Verify(withBody(r2, body))
			if tc.verify != nil {
				wantError(t, err, tc.verify, "")
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			_, err = io.ReadAll(res.Body)
			wantError(t, err, tc.want, "")
			if _, again := res.Body.Read(make([]byte, 10)); again != err {
				t.Errorf("error not sticky: %v then %v", err, again)
			}
		})
	}
}

func equalHeaders(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if strings.Join(v, "\x00") != strings.Join(b[k], "\x00") {
			return false
		}
	}
	return true
}

func TestStreamingEditedHeadersResigned(t *testing.T) {
	// An edited signed header without re-signing fails Verify itself.
	r := streamingRequest(t, []byte("abc"), nil)
	r.Header.Set("X-Amz-Decoded-Content-Length", "4")
	_, err := fixedVerifier(testNow).Verify(r)
	wantError(t, err, ErrSignatureDoesNotMatch, "")
}

func TestSignStreamingFormat(t *testing.T) {
	// SignStreaming reproduces AWS's chunked example byte for byte.
	r := httptest.NewRequest("PUT", "http://s3.amazonaws.com/examplebucket/chunkObject.txt", nil)
	r.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
	payload := bytes.Repeat([]byte("a"), 66560)
	if err := SignStreaming(r, Credentials{exampleAccessKey, exampleSecret}, "us-east-1", exampleTime, payload, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := string(encodedBody(t, r)), exampleChunked(exampleChunkSigs, ""); got != want {
		t.Errorf("SignStreaming body differs from AWS's example")
	}
	if !strings.HasSuffix(r.Header.Get("Authorization"), "Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9") {
		t.Errorf("Authorization = %s", r.Header.Get("Authorization"))
	}

	r = httptest.NewRequest("PUT", "http://s3.amazonaws.com/examplebucket/chunkObject.txt", nil)
	r.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
	if err := SignStreaming(r, Credentials{exampleAccessKey, exampleSecret}, "us-east-1", exampleTime, payload,
		&StreamOptions{Trailer: http.Header{"X-Amz-Checksum-Crc32c": {"sOO8/Q=="}}}); err != nil {
		t.Fatal(err)
	}
	// AWS's trailer example leaves Content-Length unsigned, which
	// SignStreaming signs, so only the framing is compared.
	sigRE := regexp.MustCompile(`signature[=:][0-9a-f]{64}`)
	if got, want := sigRE.ReplaceAllString(string(encodedBody(t, r)), "sig"),
		sigRE.ReplaceAllString(exampleChunked(exampleTrailerSigs, exampleTrailer), "sig"); got != want {
		t.Errorf("SignStreaming trailer body differs from AWS's example:\n%q\n%q", got[len(got)-100:], want[len(want)-100:])
	}
	mustVerify(t, exampleVerifier(exampleTime), r)
	if err := SignStreaming(r, testCreds, testRegion, testNow, payload, &StreamOptions{ChunkSize: -1}); err == nil {
		t.Error("negative chunk size accepted")
	}
}

func BenchmarkChunkedReader(b *testing.B) {
	payload := bytes.Repeat([]byte("cellar!!"), 1<<20/8) // 1 MiB
	for _, mode := range []struct {
		name string
		o    *StreamOptions
	}{
		{"signed-64KiB", &StreamOptions{ChunkSize: 64 << 10}},
		{"signed-1MiB", &StreamOptions{ChunkSize: 1 << 20}},
		{"signed-trailer-64KiB", &StreamOptions{ChunkSize: 64 << 10, Trailer: http.Header{"X-Amz-Checksum-Crc32": {"AAAAAA=="}}}},
		{"unsigned-64KiB", &StreamOptions{ChunkSize: 64 << 10, Unsigned: true, Trailer: http.Header{"X-Amz-Checksum-Crc32": {"AAAAAA=="}}}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			r := streamingRequest(b, payload, mode.o)
			body := encodedBody(b, r)
			v := fixedVerifier(testNow)
			buf := make([]byte, 32<<10)
			rd := bytes.NewReader(body)
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			for b.Loop() {
				rd.Reset(body)
				r.Body = io.NopCloser(rd)
				res, err := v.Verify(r)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{res.Body}, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerifyHeader(b *testing.B) {
	r := signedRequest(b, "GET", "http://cellar.test/bucket/some/key.txt?versionId=1", "", emptySHA256)
	v := fixedVerifier(testNow)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r); err != nil {
			b.Fatal(err)
		}
	}
}
