package sigv4

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func fixedVerifier(now time.Time) *Verifier {
	v := testVerifier()
	v.Now = func() time.Time { return now }
	return v
}

// signedRequest returns a server-side request for target signed by
// SignRequest at testNow, after mutate (if any) ran on the client request.
func signedRequest(t testing.TB, method, target string, body string, payload string) *http.Request {
	t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Header.Set("X-Amz-Meta-Color", "blue")
	if err := SignRequest(r, testCreds, testRegion, testNow, payload); err != nil {
		t.Fatal(err)
	}
	return r
}

func wantError(t testing.TB, err error, kind *Error, msgPart string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("error = %v, want %s", err, kind.Code)
	}
	var e *Error
	if !errors.As(err, &e) || e.Status != kind.Status {
		t.Fatalf("error %v has status %d, want %d", err, e.Status, kind.Status)
	}
	if !strings.Contains(e.Message, msgPart) {
		t.Fatalf("message %q does not contain %q", e.Message, msgPart)
	}
}

func TestVerifyRejects(t *testing.T) {
	const empty = emptySHA256
	for _, tc := range []struct {
		name   string
		mutate func(r *http.Request)
		v      func(v *Verifier)
		want   *Error
		msg    string
	}{
		{name: "wrong secret", v: func(v *Verifier) {
			v.Lookup = func(string) (string, bool) { return "other", true }
		}, want: ErrSignatureDoesNotMatch},
		{name: "unknown key", v: func(v *Verifier) {
			v.Lookup = func(string) (string, bool) { return "", false }
		}, want: ErrInvalidAccessKeyID},
		{name: "nil lookup", v: func(v *Verifier) { v.Lookup = nil }, want: ErrInvalidAccessKeyID},
		{name: "tampered signed header", mutate: func(r *http.Request) {
			r.Header.Set("X-Amz-Meta-Color", "red")
		}, want: ErrSignatureDoesNotMatch},
		{name: "added unsigned x-amz header", mutate: func(r *http.Request) {
			r.Header.Set("X-Amz-Copy-Source", "other/key")
		}, want: ErrAccessDenied, msg: "x-amz-copy-source"},
		{name: "tampered query", mutate: func(r *http.Request) {
			r.URL.RawQuery = "versionId=2"
		}, want: ErrSignatureDoesNotMatch},
		{name: "added query", mutate: func(r *http.Request) {
			r.URL.RawQuery += "&acl"
		}, want: ErrSignatureDoesNotMatch},
		{name: "tampered path", mutate: func(r *http.Request) {
			r.URL.Path = "/bucket/other"
			r.URL.RawPath = ""
		}, want: ErrSignatureDoesNotMatch},
		{name: "tampered method", mutate: func(r *http.Request) { r.Method = "DELETE" }, want: ErrSignatureDoesNotMatch},
		{name: "tampered host", mutate: func(r *http.Request) { r.Host = "evil.example.com" }, want: ErrSignatureDoesNotMatch},
		{name: "tampered payload hash", mutate: func(r *http.Request) {
			r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
		}, want: ErrSignatureDoesNotMatch},
		{name: "tampered date", mutate: func(r *http.Request) {
			r.Header.Set("X-Amz-Date", "20260102T030406Z")
		}, want: ErrSignatureDoesNotMatch},
		{name: "clock 16 minutes ahead", v: func(v *Verifier) {
			v.Now = func() time.Time { return testNow.Add(16 * time.Minute) }
		}, want: ErrRequestTimeTooSkewed},
		{name: "clock 16 minutes behind", v: func(v *Verifier) {
			v.Now = func() time.Time { return testNow.Add(-16 * time.Minute) }
		}, want: ErrRequestTimeTooSkewed},
		{name: "tighter skew", v: func(v *Verifier) {
			v.MaxSkew = time.Minute
			v.Now = func() time.Time { return testNow.Add(2 * time.Minute) }
		}, want: ErrRequestTimeTooSkewed},
		{name: "wrong region", v: func(v *Verifier) { v.Region = "us-east-1" },
			want: ErrAuthorizationHeaderMalformed, msg: "the region 'eu-west-3' is wrong; expecting 'us-east-1'"},
		{name: "scope date mismatch", mutate: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/20260102/", "/20260101/", 1))
		}, want: ErrAuthorizationHeaderMalformed, msg: "Invalid credential date"},
		{name: "wrong service", mutate: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/s3/", "/ec2/", 1))
		}, want: ErrAuthorizationHeaderMalformed, msg: "incorrect service"},
		{name: "wrong terminal", mutate: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "aws4_request", "aws5_request", 1))
		}, want: ErrAuthorizationHeaderMalformed, msg: "incorrect terminal"},
		{name: "host not signed", mutate: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "SignedHeaders=host;", "SignedHeaders=", 1))
		}, want: ErrAccessDenied, msg: "host"},
		{name: "signature truncated", mutate: func(r *http.Request) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:len(a)-1])
		}, want: ErrSignatureDoesNotMatch},
		{name: "signature uppercase", mutate: func(r *http.Request) {
			a := r.Header.Get("Authorization")
			i := strings.Index(a, "Signature=") + 10
			r.Header.Set("Authorization", a[:i]+strings.ToUpper(a[i:]))
		}, want: ErrSignatureDoesNotMatch},
		{name: "missing payload hash", mutate: func(r *http.Request) {
			r.Header.Del("X-Amz-Content-Sha256")
		}, want: ErrInvalidRequest, msg: "x-amz-content-sha256"},
		{name: "bad payload hash", mutate: func(r *http.Request) {
			r.Header.Set("X-Amz-Content-Sha256", "abc")
		}, want: ErrInvalidArgument, msg: "x-amz-content-sha256"},
		{name: "sigv4a payload", mutate: func(r *http.Request) {
			r.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD")
		}, want: ErrInvalidRequest, msg: "4A"},
		{name: "no date", mutate: func(r *http.Request) { r.Header.Del("X-Amz-Date") },
			want: ErrAccessDenied, msg: "Date"},
		{name: "bad date", mutate: func(r *http.Request) { r.Header.Set("X-Amz-Date", "2026-01-02T03:04:05Z") },
			want: ErrAccessDenied, msg: "Date"},
		{name: "unsigned Date header", mutate: func(r *http.Request) {
			r.Header.Del("X-Amz-Date")
			r.Header.Set("Date", testNow.Format(http.TimeFormat))
		}, want: ErrAccessDenied, msg: "date"},
		{name: "both header and query auth", mutate: func(r *http.Request) {
			r.URL.RawQuery = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a%2F20260102%2Feu-west-3%2Fs3%2Faws4_request" +
				"&X-Amz-Date=20260102T030405Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00"
		}, want: ErrInvalidArgument, msg: "Only one auth mechanism"},
		{name: "two Authorization headers", mutate: func(r *http.Request) {
			r.Header.Add("Authorization", r.Header.Get("Authorization"))
		}, want: ErrAuthorizationHeaderMalformed},
		{name: "bad query escape", mutate: func(r *http.Request) { r.URL.RawQuery = "a=%zz" },
			want: ErrInvalidArgument, msg: "percent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := signedRequest(t, "GET", "http://cellar.test/bucket/key?versionId=1", "", empty)
			if tc.mutate != nil {
				tc.mutate(r)
			}
			v := fixedVerifier(testNow)
			if tc.v != nil {
				tc.v(v)
			}
			res, err := v.Verify(r)
			if res != nil {
				t.Fatalf("Verify returned a result with error %v", err)
			}
			wantError(t, err, tc.want, tc.msg)
		})
	}
}

func TestVerifyAccepts(t *testing.T) {
	r := signedRequest(t, "GET", "http://cellar.test/bucket/key", "", emptySHA256)
	for _, d := range []time.Duration{0, 14 * time.Minute, -14 * time.Minute} {
		if _, err := fixedVerifier(testNow.Add(d)).Verify(r); err != nil {
			t.Errorf("clock off by %v: %v", d, err)
		}
	}
	// An empty Region accepts any region.
	v := fixedVerifier(testNow)
	v.Region = ""
	if _, err := v.Verify(r); err != nil {
		t.Errorf("empty Region: %v", err)
	}
	// A signed Date header in place of x-amz-date.
	r = httptest.NewRequest("GET", "http://cellar.test/bucket/key", nil)
	r.Header.Set("Date", testNow.Format(http.TimeFormat))
	if err := SignRequest(r, testCreds, testRegion, testNow, emptySHA256); err != nil {
		t.Fatal(err)
	}
	// Re-sign with Date only: drop x-amz-date from the signature by hand.
	r.Header.Del("X-Amz-Date")
	a := &authorization{cred: credential{testCreds.AccessKey, "20260102", testRegion, "s3", "aws4_request"},
		signedHeaders: []string{"date", "host", "x-amz-content-sha256"}}
	key := signingKey(testCreds.SecretKey, "20260102", testRegion)
	cr := canonicalRequest(r, "/bucket/key", "", r.Host, a.signedHeaders, emptySHA256)
	sig := signature(key, stringToSign(testNow.Format(timeFormat), a.cred.scope(), cr))
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testCreds.AccessKey+"/20260102/"+testRegion+
		"/s3/aws4_request,SignedHeaders=date;host;x-amz-content-sha256,Signature="+sig)
	if _, err := fixedVerifier(testNow).Verify(r); err != nil {
		t.Errorf("Date header: %v", err)
	}
}

func TestVerifyBody(t *testing.T) {
	body := "hello, cellar"
	sum := sha256Hex([]byte(body))
	r := signedRequest(t, "PUT", "http://cellar.test/bucket/key", body, sum)
	res := mustVerify(t, fixedVerifier(testNow), r)
	if res.DecodedLength != int64(len(body)) || res.Streaming {
		t.Errorf("result = %+v", res)
	}
	if got := readBody(t, res); string(got) != body {
		t.Errorf("body = %q", got)
	}

	// A signed hash over a different body fails on the last read.
	r = signedRequest(t, "PUT", "http://cellar.test/bucket/key", body, sum)
	r.Body = io.NopCloser(strings.NewReader("hello, cellaR"))
	res = mustVerify(t, fixedVerifier(testNow), r)
	_, err := io.ReadAll(res.Body)
	wantError(t, err, ErrXAmzContentSHA256Mismatch, "")
	// And keeps failing.
	if _, err := res.Body.Read(make([]byte, 1)); !errors.Is(err, ErrXAmzContentSHA256Mismatch) {
		t.Errorf("second read: %v", err)
	}

	// A body cut short by the connection.
	r = signedRequest(t, "PUT", "http://cellar.test/bucket/key", body, UnsignedPayload)
	r.Body = io.NopCloser(io.MultiReader(strings.NewReader("hel"), errReader{io.ErrUnexpectedEOF}))
	res = mustVerify(t, fixedVerifier(testNow), r)
	_, err = io.ReadAll(res.Body)
	wantError(t, err, ErrIncompleteBody, "")

	// Other read errors pass through.
	boom := errors.New("boom")
	r = signedRequest(t, "PUT", "http://cellar.test/bucket/key", body, UnsignedPayload)
	r.Body = io.NopCloser(errReader{boom})
	res = mustVerify(t, fixedVerifier(testNow), r)
	if _, err = io.ReadAll(res.Body); !errors.Is(err, boom) {
		t.Errorf("read error = %v", err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestVerifyAnonymous(t *testing.T) {
	r := httptest.NewRequest("PUT", "http://cellar.test/bucket/key?acl", strings.NewReader("data"))
	res := mustVerify(t, fixedVerifier(testNow), r)
	if !res.Anonymous || res.AccessKey != "" {
		t.Errorf("result = %+v", res)
	}
	if got := readBody(t, res); string(got) != "data" {
		t.Errorf("body = %q", got)
	}

	// An anonymous aws-chunked body with an unsigned trailer is decoded.
	r = httptest.NewRequest("PUT", "http://cellar.test/bucket/key", nil)
	if err := SignStreaming(r, testCreds, testRegion, testNow, []byte("chunked data"),
		&StreamOptions{Unsigned: true, ChunkSize: 5, Trailer: http.Header{"X-Amz-Checksum-Crc32": {"AAAAAA=="}}}); err != nil {
		t.Fatal(err)
	}
	r.Header.Del("Authorization")
	res = mustVerify(t, fixedVerifier(testNow), r)
	if got := readBody(t, res); !res.Anonymous || string(got) != "chunked data" {
		t.Errorf("anonymous chunked: %+v %q", res, got)
	}
	if res.Trailer().Get("X-Amz-Checksum-Crc32") != "AAAAAA==" {
		t.Errorf("Trailer() = %v", res.Trailer())
	}

	// A signed stream without a signature cannot be read.
	r = httptest.NewRequest("PUT", "http://cellar.test/bucket/key", nil)
	if err := SignStreaming(r, testCreds, testRegion, testNow, []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	r.Header.Del("Authorization")
	_, err := fixedVerifier(testNow).Verify(r)
	wantError(t, err, ErrAccessDenied, "Authorization")
}

func TestParseAuthorizationErrors(t *testing.T) {
	good := "Credential=AKID/20260102/eu-west-3/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("a", 64)
	for _, tc := range []struct {
		h    string
		want *Error
	}{
		{"AWS AKID:c2lnbmF0dXJl", ErrInvalidRequest},
		{"AWS4-ECDSA-P256-SHA256 " + good, ErrInvalidRequest},
		{"Bearer token", ErrInvalidArgument},
		{"", ErrInvalidArgument},
		{"AWS4-HMAC-SHA256", ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 ", ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 Credential=AKID/20260102/eu-west-3/s3/aws4_request", ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 " + good + ", Signature=00", ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 " + good + ", Extra=1", ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 " + strings.Replace(good, "Credential=", "Credential ", 1), ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 " + strings.Replace(good, "AKID/", "", 1), ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 " + strings.Replace(good, "AKID/", "/", 1), ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 " + strings.Replace(good, "20260102", "2026012", 1), ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 " + strings.Replace(good, "20260102", "20261302", 1), ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 " + strings.Replace(good, "/eu-west-3/", "//", 1), ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 " + strings.Replace(good, "aws4_request", "aws4_request/x", 1), ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 " + strings.Replace(good, "host;", "Host;", 1), ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 " + strings.Replace(good, "host;", "host;host;", 1), ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 " + strings.Replace(good, "host;", ";", 1), ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 " + strings.Replace(good, "host;", "ho st;", 1), ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 " + good + strings.Repeat(" ", maxAuthorizationLen), ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 Credential=AKID/20260102/eu-west-3/s3/aws4_request, SignedHeaders=" +
			strings.Repeat("a;", maxSignedHeaders) + "b, Signature=00", ErrAuthorizationHeaderMalformed},
	} {
		_, err := parseAuthorization(tc.h)
		if !errors.Is(err, tc.want) {
			t.Errorf("parseAuthorization(%.80q) = %v, want %s", tc.h, err, tc.want.Code)
		}
	}
	for _, h := range []string{
		"AWS4-HMAC-SHA256 " + good,
		"AWS4-HMAC-SHA256 " + strings.ReplaceAll(good, ", ", ","),
		"AWS4-HMAC-SHA256  " + strings.ReplaceAll(good, ", ", " ,  "),
	} {
		a, err := parseAuthorization(h)
		if err != nil {
			t.Errorf("parseAuthorization(%q): %v", h, err)
			continue
		}
		if a.cred.accessKey != "AKID" || a.cred.region != "eu-west-3" || len(a.signedHeaders) != 2 {
			t.Errorf("parsed %+v", a)
		}
	}
}

func TestPresignedRejects(t *testing.T) {
	base, err := Presign("GET", "http://cellar.test/bucket/key?versionId=7", testCreds, testRegion, testNow, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	replace := func(old, new string) func(string) string {
		return func(s string) string {
			if !strings.Contains(s, old) {
				t.Fatalf("%q not in %s", old, s)
			}
			return strings.Replace(s, old, new, 1)
		}
	}
	for _, tc := range []struct {
		name string
		edit func(string) string
		now  time.Time
		want *Error
		msg  string
	}{
		{"expired", nil, testNow.Add(time.Hour + time.Second), ErrAccessDenied, "Request has expired"},
		{"not yet valid", nil, testNow.Add(-16 * time.Minute), ErrAccessDenied, "not valid yet"},
		{"expires over 7 days", replace("X-Amz-Expires=3600", "X-Amz-Expires=604801"), testNow, ErrAuthorizationQueryParametersError, "604800"},
		{"expires zero", replace("X-Amz-Expires=3600", "X-Amz-Expires=0"), testNow, ErrAuthorizationQueryParametersError, "1 second"},
		{"expires negative", replace("X-Amz-Expires=3600", "X-Amz-Expires=-5"), testNow, ErrAuthorizationQueryParametersError, "number"},
		{"expires not a number", replace("X-Amz-Expires=3600", "X-Amz-Expires=1h"), testNow, ErrAuthorizationQueryParametersError, "number"},
		{"expires huge", replace("X-Amz-Expires=3600", "X-Amz-Expires=99999999999999999999"), testNow, ErrAuthorizationQueryParametersError, "number"},
		{"expires changed", replace("X-Amz-Expires=3600", "X-Amz-Expires=7200"), testNow, ErrSignatureDoesNotMatch, ""},
		{"no expires", replace("&X-Amz-Expires=3600", ""), testNow, ErrAuthorizationQueryParametersError, "requires"},
		{"no signature", func(s string) string { return s[:strings.Index(s, "&X-Amz-Signature")] }, testNow, ErrAuthorizationQueryParametersError, "requires"},
		{"two signatures", func(s string) string { return s + "&X-Amz-Signature=00" }, testNow, ErrAuthorizationQueryParametersError, "requires"},
		{"bad algorithm", replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512"), testNow, ErrAuthorizationQueryParametersError, "X-Amz-Algorithm"},
		{"bad date", replace("X-Amz-Date=20260102T030405Z", "X-Amz-Date=20260102"), testNow, ErrAuthorizationQueryParametersError, "ISO8601"},
		{"wrong region", replace("%2Feu-west-3%2F", "%2Fus-east-1%2F"), testNow, ErrAuthorizationQueryParametersError, "the region 'us-east-1' is wrong"},
		{"scope date", replace("%2F20260102%2F", "%2F20260103%2F"), testNow, ErrAuthorizationQueryParametersError, "Invalid credential date"},
		{"bad credential", replace("%2F20260102%2F", "%2F"), testNow, ErrAuthorizationQueryParametersError, "X-Amz-Credential"},
		{"unknown key", replace("AKIDTESTKEY", "AKIDOTHER"), testNow, ErrInvalidAccessKeyID, ""},
		{"host not signed", replace("X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=x-amz-date"), testNow, ErrAccessDenied, "host"},
		{"tampered signature", func(s string) string { return s[:len(s)-1] + "0" }, testNow, ErrSignatureDoesNotMatch, ""},
		{"tampered query", replace("versionId=7", "versionId=8"), testNow, ErrSignatureDoesNotMatch, ""},
		{"tampered path", replace("/bucket/key", "/bucket/kez"), testNow, ErrSignatureDoesNotMatch, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := base
			if tc.edit != nil {
				u = tc.edit(u)
			}
			r := httptest.NewRequest("GET", u, nil)
			_, err := fixedVerifier(tc.now).Verify(r)
			wantError(t, err, tc.want, tc.msg)
		})
	}
	// Method is signed.
	r := httptest.NewRequest("DELETE", base, nil)
	_, err = fixedVerifier(testNow).Verify(r)
	wantError(t, err, ErrSignatureDoesNotMatch, "")
	// Right at the end of the validity it still works.
	r = httptest.NewRequest("GET", base, nil)
	if _, err := fixedVerifier(testNow.Add(time.Hour)).Verify(r); err != nil {
		t.Errorf("at expiry: %v", err)
	}
	// A SigV2 presigned URL is refused, not taken as anonymous.
	r = httptest.NewRequest("GET", "http://cellar.test/bucket/key?AWSAccessKeyId=AKID&Expires=1&Signature=abc", nil)
	_, err = fixedVerifier(testNow).Verify(r)
	wantError(t, err, ErrInvalidRequest, "version 2")
}

func TestPresignErrors(t *testing.T) {
	for _, tc := range []struct {
		method, url string
		c           Credentials
		region      string
		exp         time.Duration
	}{
		{"GET", "http://h/b/k", testCreds, testRegion, 0},
		{"GET", "http://h/b/k", testCreds, testRegion, 999 * time.Millisecond},
		{"GET", "http://h/b/k", testCreds, testRegion, 7*24*time.Hour + time.Second},
		{"GET", "http://h/b/k", testCreds, testRegion, -time.Hour},
		{"", "http://h/b/k", testCreds, testRegion, time.Hour},
		{"GET", "/b/k", testCreds, testRegion, time.Hour},
		{"GET", "http://h/b/k?a=%zz", testCreds, testRegion, time.Hour},
		{"GET", "://bad", testCreds, testRegion, time.Hour},
		{"GET", "http://h/b/k", Credentials{"", "s"}, testRegion, time.Hour},
		{"GET", "http://h/b/k", Credentials{"a/b", "s"}, testRegion, time.Hour},
		{"GET", "http://h/b/k", Credentials{"a", ""}, testRegion, time.Hour},
		{"GET", "http://h/b/k", testCreds, "", time.Hour},
	} {
		if u, err := Presign(tc.method, tc.url, tc.c, tc.region, testNow, tc.exp); err == nil {
			t.Errorf("Presign(%q, %q, %+v, %q, %v) = %s", tc.method, tc.url, tc.c, tc.region, tc.exp, u)
		}
	}
	// Exactly seven days is allowed, and old auth parameters are replaced.
	u, err := Presign("GET", "http://h/b/k?X-Amz-Signature=old&X-Amz-Expires=5", testCreds, testRegion, testNow, 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(u, "old") || strings.Count(u, "X-Amz-Expires=604800") != 1 {
		t.Errorf("Presign = %s", u)
	}
	if _, err := fixedVerifier(testNow).Verify(httptest.NewRequest("GET", u, nil)); err != nil {
		t.Errorf("7-day URL: %v", err)
	}
}

func TestSignRequestErrors(t *testing.T) {
	r := httptest.NewRequest("GET", "http://h/b/k", nil)
	if err := SignRequest(r, testCreds, testRegion, testNow, "nope"); err == nil {
		t.Error("bad payload hash accepted")
	}
	if err := SignRequest(r, Credentials{}, testRegion, testNow, UnsignedPayload); err == nil {
		t.Error("empty credentials accepted")
	}
	r.URL.RawQuery = "a=%zz"
	if err := SignRequest(r, testCreds, testRegion, testNow, UnsignedPayload); err == nil {
		t.Error("bad query accepted")
	}
}

func TestDefaultPortHost(t *testing.T) {
	// aws-sdk-go-v2 signs a presigned URL's host without a default port,
	// while the URL keeps it; the verifier accepts the stripped form.
	u, err := Presign("GET", "http://cellar.test/b/k", testCreds, testRegion, testNow, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", u, nil)
	r.Host = "cellar.test:80"
	if _, err := fixedVerifier(testNow).Verify(r); err != nil {
		t.Errorf("host with :80: %v", err)
	}
	r.Host = "cellar.test:8080"
	if _, err := fixedVerifier(testNow).Verify(r); !errors.Is(err, ErrSignatureDoesNotMatch) {
		t.Errorf("host with :8080: %v", err)
	}
}

func TestErrorType(t *testing.T) {
	e := errorf(ErrSignatureDoesNotMatch, "custom")
	if !errors.Is(e, ErrSignatureDoesNotMatch) || errors.Is(e, ErrAccessDenied) {
		t.Error("Is compares codes")
	}
	if e.Error() != "sigv4: SignatureDoesNotMatch: custom" {
		t.Errorf("Error() = %q", e.Error())
	}
	c := clone(ErrAccessDenied)
	c.Message = "changed"
	if ErrAccessDenied.Message == "changed" {
		t.Error("clone shares the sentinel")
	}
	var nilErr *Error
	if e.Is(nilErr) {
		t.Error("Is(nil *Error)")
	}
}
