package sigv4

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/encoding/httpbinding"
)

// These tests sign requests with aws-sdk-go-v2's signer, send them over a
// real HTTP connection, and verify them on the server side.

const testRegion = "eu-west-3"

var testCreds = Credentials{AccessKey: "AKIDTESTKEY", SecretKey: "s3cr3t/with+chars="}

func testVerifier() *Verifier {
	return &Verifier{
		Region: testRegion,
		Lookup: func(k string) (string, bool) {
			if k == testCreds.AccessKey {
				return testCreds.SecretKey, true
			}
			return "", false
		},
	}
}

// verifyServer answers "OK <sha256 of body> <trailers>" for a request that
// verifies, or "<code>: <message>" for one that does not.
func verifyServer(t testing.TB, v *Verifier) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := v.Verify(r)
		if err != nil {
			e := err.(*Error)
			w.WriteHeader(e.Status)
			fmt.Fprintf(w, "%s: %s", e.Code, e.Message)
			return
		}
		defer res.Body.Close()
		h := sha256.New()
		if _, err := io.Copy(h, res.Body); err != nil {
			if e, ok := err.(*Error); ok {
				w.WriteHeader(e.Status)
				fmt.Fprintf(w, "%s: %s", e.Code, e.Message)
			} else {
				w.WriteHeader(500)
				fmt.Fprintf(w, "read: %v", err)
			}
			return
		}
		var tr []string
		for k, vs := range res.Trailer() {
			tr = append(tr, k+"="+strings.Join(vs, ","))
		}
		fmt.Fprintf(w, "OK %x %s %s", h.Sum(nil), res.AccessKey, strings.Join(tr, ";"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func send(t testing.TB, r *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatalf("%s %s: %v", r.Method, r.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// randString returns a string drawn from the characters that break naive
// canonicalization.
func randString(rng *rand.Rand, min, max int, extra ...string) string {
	alphabet := []string{"a", "b", "Z", "0", "9", "-", "_", ".", "~", " ", "  ", "+", "%", "%2F", "%20", "$", "&", "=",
		"?", "#", "!", "'", "(", ")", "*", ",", ";", ":", "@", "[", "]", "é", "日本", "\\", "^", "`", "{", "}",
		"|", "\"", "<", ">", "\t", "\x01", "\x7f", "\xff"}
	alphabet = append(alphabet, extra...)
	n := min + rng.IntN(max-min+1)
	var b strings.Builder
	for range n {
		b.WriteString(alphabet[rng.IntN(len(alphabet))])
	}
	return b.String()
}

func randKey(rng *rand.Rand) string {
	return randString(rng, 1, 30, "/", "//", "/./", "/../")
}

func randQuery(rng *rand.Rand) url.Values {
	q := url.Values{}
	names := []string{"prefix", "delimiter", "uploads", "versionId", "x-id", "max-keys", "list-type", "a b", "ä", "k+"}
	for range rng.IntN(5) {
		name := names[rng.IntN(len(names))]
		if rng.IntN(4) == 0 {
			name = randString(rng, 1, 5)
		}
		val := ""
		if rng.IntN(4) != 0 {
			val = randString(rng, 0, 12)
		}
		q.Add(name, val)
	}
	return q
}

// randRequest returns a request for srv with a random path, query, headers
// and body. s3Path sets RawPath to S3's encoding of the key, as the S3
// clients do; otherwise Go's default path escaping is sent.
func randRequest(t testing.TB, rng *rand.Rand, base string, s3Path bool) (*http.Request, []byte) {
	methods := []string{"GET", "PUT", "HEAD", "DELETE", "POST"}
	method := methods[rng.IntN(len(methods))]
	var body []byte
	if method == "PUT" || method == "POST" {
		body = []byte(randString(rng, 0, 200))
	}
	u, _ := url.Parse(base)
	u.Path = "/bucket/" + randKey(rng)
	if s3Path {
		u.RawPath = httpbinding.EscapePath(u.Path, false)
	}
	u.RawQuery = randQuery(rng).Encode()
	r, err := http.NewRequest(method, u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	r.URL = u // keep RawPath exactly
	if body != nil {
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		r.ContentLength = int64(len(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(string(body))), nil }
	}
	if rng.IntN(2) == 0 {
		r.Header.Set("Content-Type", "text/plain;  charset=utf-8 ")
	}
	for range rng.IntN(4) {
		v := strings.TrimSpace(randString(rng, 1, 10, "x", "y"))
		v = strings.Map(func(c rune) rune {
			if c < ' ' || c == 0x7f || c == '\uFFFD' {
				return 'x'
			}
			return c
		}, v)
		if v == "" {
			v = "v"
		}
		r.Header.Add("X-Amz-Meta-"+strconv.Itoa(rng.IntN(3)), "  "+v+"   end  ")
	}
	if rng.IntN(3) == 0 {
		r.Header.Set("X-Amz-Storage-Class", "STANDARD_IA")
	}
	if rng.IntN(3) == 0 {
		r.Header.Set("Range", "bytes=0-9")
	}
	return r, body
}

func payloadHash(rng *rand.Rand, body []byte) string {
	if rng.IntN(3) == 0 {
		return UnsignedPayload
	}
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

func sdkSigner() *v4.Signer {
	return v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
}

var sdkCreds = aws.Credentials{AccessKeyID: testCreds.AccessKey, SecretAccessKey: testCreds.SecretKey}

func TestSDKSignedRequestsVerify(t *testing.T) {
	srv := verifyServer(t, testVerifier())
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range 300 {
		r, body := randRequest(t, rng, srv.URL, i%3 != 0)
		ph := payloadHash(rng, body)
		desc := fmt.Sprintf("%s %s", r.Method, r.URL.String())
		r.Header.Set("X-Amz-Content-Sha256", ph) // as the S3 client does before signing
		if err := sdkSigner().SignHTTP(context.Background(), sdkCreds, r, ph, "s3", testRegion, time.Now()); err != nil {
			t.Fatal(err)
		}
		status, resp := send(t, r)
		if status != 200 {
			t.Fatalf("%s: %d %s", desc, status, resp)
		}
		if r.Method != "HEAD" {
			sum := sha256.Sum256(body)
			if want := "OK " + hex.EncodeToString(sum[:]); !strings.HasPrefix(resp, want) {
				t.Fatalf("%s: %s, want %s", desc, resp, want)
			}
		}
	}
}

func TestSignRequestMatchesSDK(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	now := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	for range 500 {
		r, body := randRequest(t, rng, "http://127.0.0.1:9000", true)
		ph := payloadHash(rng, body)
		r.Header.Set("X-Amz-Content-Sha256", ph)
		ours := r.Clone(context.Background())
		if err := sdkSigner().SignHTTP(context.Background(), sdkCreds, r, ph, "s3", testRegion, now); err != nil {
			t.Fatal(err)
		}
		if err := SignRequest(ours, testCreds, testRegion, now, ph); err != nil {
			t.Fatal(err)
		}
		if got, want := ours.Header.Get("Authorization"), r.Header.Get("Authorization"); got != want {
			t.Fatalf("%s %s:\n ours %s\n sdk  %s", r.Method, r.URL, got, want)
		}
	}
}

func TestSignRequestRoundTrip(t *testing.T) {
	srv := verifyServer(t, testVerifier())
	rng := rand.New(rand.NewPCG(3, 3))
	for range 200 {
		r, body := randRequest(t, rng, srv.URL, rng.IntN(2) == 0)
		if err := SignRequest(r, testCreds, testRegion, time.Now(), payloadHash(rng, body)); err != nil {
			t.Fatal(err)
		}
		if status, resp := send(t, r); status != 200 {
			t.Fatalf("%s %s: %d %s", r.Method, r.URL, status, resp)
		}
	}
}

func TestSDKPresignedURLsVerify(t *testing.T) {
	srv := verifyServer(t, testVerifier())
	rng := rand.New(rand.NewPCG(4, 4))
	for i := range 200 {
		u, _ := url.Parse(srv.URL)
		u.Path = "/bucket/" + randKey(rng)
		if i%3 != 0 {
			u.RawPath = httpbinding.EscapePath(u.Path, false)
		}
		q := randQuery(rng)
		q.Set("X-Amz-Expires", strconv.Itoa(1+rng.IntN(604800)))
		u.RawQuery = q.Encode()
		method := []string{"GET", "PUT", "HEAD", "DELETE"}[rng.IntN(4)]
		r, _ := http.NewRequest(method, u.String(), nil)
		r.URL = u
		if rng.IntN(2) == 0 {
			r.Header.Set("Content-Type", "application/octet-stream")
		}
		signed, headers, err := sdkSigner().PresignHTTP(context.Background(), sdkCreds, r, UnsignedPayload, "s3", testRegion, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequest(method, signed, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, vs := range headers {
			if k != "Host" {
				req.Header[k] = vs
			}
		}
		if method == "PUT" {
			req.Body = io.NopCloser(strings.NewReader("presigned body"))
			req.ContentLength = 14
		}
		if status, resp := send(t, req); status != 200 {
			t.Fatalf("%s %s: %d %s", method, signed, status, resp)
		}
	}
}

func TestPresignRoundTrip(t *testing.T) {
	srv := verifyServer(t, testVerifier())
	rng := rand.New(rand.NewPCG(5, 5))
	for range 200 {
		u, _ := url.Parse(srv.URL)
		u.Path = "/bucket/" + randKey(rng)
		u.RawQuery = randQuery(rng).Encode()
		method := []string{"GET", "PUT", "HEAD", "DELETE"}[rng.IntN(4)]
		signed, err := Presign(method, u.String(), testCreds, testRegion, time.Now(), time.Duration(1+rng.IntN(604800))*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequest(method, signed, nil)
		if err != nil {
			t.Fatal(err)
		}
		if status, resp := send(t, req); status != 200 {
			t.Fatalf("%s %s: %d %s", method, signed, status, resp)
		}
		// The same URL with the query altered fails.
		req, _ = http.NewRequest(method, signed+"&extra=1", nil)
		if status, resp := send(t, req); status != 403 || method != "HEAD" && !strings.HasPrefix(resp, "SignatureDoesNotMatch") {
			t.Fatalf("altered %s: %d %s", signed, status, resp)
		}
	}
}

func TestPresignMatchesSDK(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	now := time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC)
	for range 300 {
		u, _ := url.Parse("https://s3.example.com:8443")
		u.Path = "/bucket/" + randKey(rng)
		u.RawPath = httpbinding.EscapePath(u.Path, false)
		q := randQuery(rng)
		exp := 1 + rng.IntN(604800)
		ours, err := Presign("GET", u.String()+"?"+q.Encode(), testCreds, testRegion, now, time.Duration(exp)*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		q.Set("X-Amz-Expires", strconv.Itoa(exp))
		u.RawQuery = q.Encode()
		r, _ := http.NewRequest("GET", u.String(), nil)
		r.URL = u
		sdk, _, err := sdkSigner().PresignHTTP(context.Background(), sdkCreds, r, UnsignedPayload, "s3", testRegion, now)
		if err != nil {
			t.Fatal(err)
		}
		sig := func(s string) string { return s[strings.LastIndex(s, "X-Amz-Signature=")+16:] }
		if sig(ours) != sig(sdk) {
			t.Fatalf("signatures differ:\n ours %s\n sdk  %s", ours, sdk)
		}
	}
}
