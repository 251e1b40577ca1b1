package s3api

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/cellarhq/cellar"
	"github.com/cellarhq/cellar/internal/checksum"
	"github.com/cellarhq/cellar/s3api/sigv4"
)

const (
	testAccessKey = "AKIDCELLARTEST"
	testSecret    = "cellar-test-secret"
	otherAccess   = "AKIDCELLAROTHER"
	otherSecret   = "cellar-other-secret"
	testDomain    = "s3.cellar.test"
)

var testCreds = sigv4.Credentials{AccessKey: testAccessKey, SecretKey: testSecret}

// env is a handler over an in-memory store behind an httptest server.
type env struct {
	t      *testing.T
	store  *cellar.Store
	srv    *httptest.Server
	region string
}

func newEnv(t *testing.T, mod func(*Options)) *env {
	t.Helper()
	return newEnvStore(t, &cellar.Options{SweepInterval: -1}, mod)
}

// newEnvStore is newEnv over a store opened with so.
func newEnvStore(t *testing.T, so *cellar.Options, mod func(*Options)) *env {
	t.Helper()
	st, err := cellar.OpenMemory(context.Background(), so)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	o := &Options{
		Credentials: map[string]string{testAccessKey: testSecret, otherAccess: otherSecret},
		BaseDomain:  testDomain,
	}
	if mod != nil {
		mod(o)
	}
	srv := httptest.NewServer(New(st, o))
	t.Cleanup(srv.Close)
	region := o.Region
	if region == "" {
		region = DefaultRegion
	}
	return &env{t: t, store: st, srv: srv, region: region}
}

// treq is a request being built.
type treq struct {
	e           *env
	method      string
	bucket, key string
	query       url.Values
	header      http.Header
	body        []byte
	anonymous   bool
	virtualHost bool
	creds       sigv4.Credentials
	payloadHash string // "" means the body's SHA-256
	now         time.Time
}

func (e *env) req(method, bucket, key string) *treq {
	return &treq{e: e, method: method, bucket: bucket, key: key, query: url.Values{}, header: http.Header{}, creds: testCreds}
}

func (r *treq) q(name, value string) *treq         { r.query.Add(name, value); return r }
func (r *treq) h(name, value string) *treq         { r.header.Add(name, value); return r }
func (r *treq) data(b []byte) *treq                { r.body = b; return r }
func (r *treq) text(s string) *treq                { r.body = []byte(s); return r }
func (r *treq) anon() *treq                        { r.anonymous = true; return r }
func (r *treq) vhost() *treq                       { r.virtualHost = true; return r }
func (r *treq) signedBy(c sigv4.Credentials) *treq { r.creds = c; return r }
func (r *treq) hash(h string) *treq                { r.payloadHash = h; return r }

// build makes the signed http.Request.
func (r *treq) build() *http.Request {
	r.e.t.Helper()
	u, _ := url.Parse(r.e.srv.URL)
	host := u.Host
	if r.virtualHost {
		u.Path = "/" + r.key
		host = r.bucket + "." + testDomain + ":" + u.Port()
	} else if r.bucket != "" {
		u.Path = "/" + r.bucket + "/" + r.key
		if r.key == "" {
			u.Path = "/" + r.bucket
		}
	} else {
		u.Path = "/"
	}
	u.RawQuery = r.query.Encode()
	hr, err := http.NewRequest(r.method, u.String(), bytes.NewReader(r.body))
	if err != nil {
		r.e.t.Fatal(err)
	}
	hr.URL.Path = u.Path // keep "//" and friends as they are
	hr.URL.RawPath = ""
	hr.Host = host
	if r.body == nil {
		hr.Body = http.NoBody
		hr.ContentLength = 0
	}
	for k, vs := range r.header {
		hr.Header[k] = vs
	}
	if !r.anonymous {
		ph := r.payloadHash
		if ph == "" {
			sum := sha256.Sum256(r.body)
			ph = hex.EncodeToString(sum[:])
		}
		now := r.now
		if now.IsZero() {
			now = time.Now()
		}
		if err := sigv4.SignRequest(hr, r.creds, r.e.region, now, ph); err != nil {
			r.e.t.Fatal(err)
		}
	}
	return hr
}

// tresp is an answer read whole.
type tresp struct {
	t      *testing.T
	status int
	header http.Header
	body   []byte
}

func (r *treq) send() *tresp {
	r.e.t.Helper()
	return r.e.do(r.build())
}

func (e *env) do(hr *http.Request) *tresp {
	e.t.Helper()
	resp, err := e.srv.Client().Do(hr)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading body: %v", hr.Method, hr.URL, err)
	}
	return &tresp{t: e.t, status: resp.StatusCode, header: resp.Header, body: body}
}

// ok fails the test unless the status is want.
func (r *tresp) want(status int) *tresp {
	r.t.Helper()
	if r.status != status {
		r.t.Fatalf("status %d, want %d; body: %s", r.status, status, r.body)
	}
	return r
}

// wantError fails the test unless the answer is an S3 error with this
// status and code.
func (r *tresp) wantError(status int, code string) *s3ErrorDoc {
	r.t.Helper()
	if r.status != status {
		r.t.Fatalf("status %d, want %d %s; body: %s", r.status, status, code, r.body)
	}
	var doc s3ErrorDoc
	if err := xml.Unmarshal(r.body, &doc); err != nil {
		r.t.Fatalf("error body %q: %v", r.body, err)
	}
	if doc.Code != code {
		r.t.Fatalf("code %q, want %q; body: %s", doc.Code, code, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/xml" {
		r.t.Errorf("error Content-Type %q", ct)
	}
	if doc.RequestID == "" || doc.RequestID != r.header.Get("x-amz-request-id") {
		r.t.Errorf("RequestId %q, header %q", doc.RequestID, r.header.Get("x-amz-request-id"))
	}
	if doc.Message == "" || doc.HostID == "" {
		r.t.Errorf("error without Message or HostId: %s", r.body)
	}
	return &doc
}

// decode decodes the XML body into v.
func (r *tresp) decode(v any) *tresp {
	r.t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/xml" {
		r.t.Errorf("Content-Type %q, want application/xml", ct)
	}
	if !bytes.HasPrefix(r.body, []byte(xml.Header)) {
		r.t.Errorf("body has no XML declaration: %.80s", r.body)
	}
	if err := xml.Unmarshal(r.body, v); err != nil {
		r.t.Fatalf("decoding %s: %v", r.body, err)
	}
	return r
}

type s3ErrorDoc struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	Resource  string   `xml:"Resource"`
	RequestID string   `xml:"RequestId"`
	HostID    string   `xml:"HostId"`
	Key       string   `xml:"Key"`
	Bucket    string   `xml:"BucketName"`
	VersionID string   `xml:"VersionId"`
	UploadID  string   `xml:"UploadId"`
	Range     string   `xml:"RangeRequested"`
	Size      string   `xml:"ActualObjectSize"`
}

// mustBucket creates a bucket.
func (e *env) mustBucket(name string) {
	e.t.Helper()
	e.req("PUT", name, "").send().want(200)
}

// mustPut puts an object and returns its answer.
func (e *env) mustPut(bucket, key, body string) *tresp {
	e.t.Helper()
	return e.req("PUT", bucket, key).text(body).send().want(200)
}

// mustGet gets an object's body.
func (e *env) mustGet(bucket, key string) string {
	e.t.Helper()
	return string(e.req("GET", bucket, key).send().want(200).body)
}

func md5b64(b []byte) string {
	sum := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// sumB64 is the header value of alg's checksum of b.
func sumB64(alg checksum.Algorithm, b []byte) string { return checksum.Encode(alg.Sum(b)) }

func md5hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}
