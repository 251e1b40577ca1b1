package s3api

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cellarhq/cellar/internal/checksum"
	"github.com/cellarhq/cellar/s3api/sigv4"
)

func TestAuthentication(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("auth")
	e.mustPut("auth", "k", "secret data")

	e.req("GET", "auth", "k").anon().send().wantError(403, "AccessDenied")
	e.req("GET", "", "").anon().send().wantError(403, "AccessDenied")
	e.req("GET", "auth", "k").signedBy(sigv4.Credentials{AccessKey: testAccessKey, SecretKey: "wrong"}).send().wantError(403, "SignatureDoesNotMatch")
	e.req("GET", "auth", "k").signedBy(sigv4.Credentials{AccessKey: "AKIDNOBODY", SecretKey: "x"}).send().wantError(403, "InvalidAccessKeyId")
	// Every credential is a user of one account.
	if got := string(e.req("GET", "auth", "k").signedBy(sigv4.Credentials{AccessKey: otherAccess, SecretKey: otherSecret}).send().want(200).body); got != "secret data" {
		t.Errorf("second user read %q", got)
	}
	// A clock far off.
	r := e.req("GET", "auth", "k")
	r.now = time.Now().Add(-time.Hour)
	r.send().wantError(403, "RequestTimeTooSkewed")

	// A body that does not match its signed hash is refused and not stored.
	e.req("PUT", "auth", "tampered").text("what was sent").hash(strings.Repeat("ab", 32)).send().wantError(400, "XAmzContentSHA256Mismatch")
	e.req("GET", "auth", "tampered").send().wantError(404, "NoSuchKey")
	big := bytes.Repeat([]byte("x"), 3<<20)
	e.req("PUT", "auth", "tampered").data(big).hash(strings.Repeat("ab", 32)).send().wantError(400, "XAmzContentSHA256Mismatch")
	e.req("GET", "auth", "tampered").send().wantError(404, "NoSuchKey")
	e.req("PUT", "auth", "unsigned").text("free").hash("UNSIGNED-PAYLOAD").send().want(200)
	if got := e.mustGet("auth", "unsigned"); got != "free" {
		t.Errorf("unsigned payload stored %q", got)
	}
	// A signed XML body is verified too.
	e.req("PUT", "auth", "").q("versioning", "").text(`<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>`).
		hash(strings.Repeat("cd", 32)).send().wantError(400, "XAmzContentSHA256Mismatch")
}

func TestAnonymousAllowed(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.AllowAnonymous = true; o.Credentials = nil })
	e.req("PUT", "anon", "").anon().send().want(200)
	e.req("PUT", "anon", "k").anon().text("open").send().want(200)
	if got := string(e.req("GET", "anon", "k").anon().send().want(200).body); got != "open" {
		t.Errorf("anonymous GET %q", got)
	}
	// Signed requests still need known keys.
	e.req("GET", "anon", "k").send().wantError(403, "InvalidAccessKeyId")
}

func TestStreamingUpload(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("stream")
	payload := bytes.Repeat([]byte("streamed "), 20000)
	for _, o := range []*sigv4.StreamOptions{
		{ChunkSize: 8 << 10},
		{ChunkSize: 64 << 10, Trailer: http.Header{"X-Amz-Checksum-Crc32": {sumB64(checksum.CRC32, payload)}}},
		{Unsigned: true, Trailer: http.Header{"X-Amz-Checksum-Crc32": {sumB64(checksum.CRC32, payload)}}},
	} {
		r := e.req("PUT", "stream", "obj").anon().build()
		if err := sigv4.SignStreaming(r, testCreds, e.region, time.Now(), payload, o); err != nil {
			t.Fatal(err)
		}
		resp := e.do(r).want(200)
		if resp.header.Get("ETag") != `"`+md5hex(payload)+`"` {
			t.Errorf("streamed ETag %q", resp.header.Get("ETag"))
		}
		if got := e.req("GET", "stream", "obj").send().want(200); !bytes.Equal(got.body, payload) || got.header.Get("Content-Encoding") != "" {
			t.Errorf("streamed object: %d bytes, %v", len(got.body), got.header)
		}
	}
	// A corrupted chunk fails the put, which stores nothing.
	r := e.req("PUT", "stream", "bad").anon().build()
	if err := sigv4.SignStreaming(r, testCreds, e.region, time.Now(), payload, &sigv4.StreamOptions{ChunkSize: 8 << 10}); err != nil {
		t.Fatal(err)
	}
	enc, _ := io.ReadAll(r.Body)
	i := bytes.LastIndex(enc, []byte("streamed"))
	enc[i] = 'S'
	r.Body = io.NopCloser(bytes.NewReader(enc))
	resp := e.do(r)
	if resp.status != 403 && resp.status != 400 {
		t.Errorf("corrupt stream: %d %s", resp.status, resp.body)
	}
	e.req("GET", "stream", "bad").send().wantError(404, "NoSuchKey")
	// Streaming into a part works the same way.
	id := e.initiate("stream", "parted")
	r = e.req("PUT", "stream", "parted").q("partNumber", "1").q("uploadId", id).anon().build()
	if err := sigv4.SignStreaming(r, testCreds, e.region, time.Now(), payload, nil); err != nil {
		t.Fatal(err)
	}
	if got := e.do(r).want(200).header.Get("ETag"); got != `"`+md5hex(payload)+`"` {
		t.Errorf("streamed part ETag %q", got)
	}
}

func TestPresign(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("pre")
	e.mustPut("pre", "file name.txt", "presigned")
	now := time.Now()
	u, err := Presign("GET", e.srv.URL+"/pre/file%20name.txt", testCreds, e.region, now, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "presigned" {
		t.Errorf("presigned GET: %d %q", resp.StatusCode, body)
	}

	u, err = Presign("PUT", e.srv.URL+"/pre/uploaded", testCreds, e.region, now, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("PUT", u, strings.NewReader("via presigned PUT"))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || e.mustGet("pre", "uploaded") != "via presigned PUT" {
		t.Errorf("presigned PUT: %d", resp.StatusCode)
	}

	u, err = Presign("GET", e.srv.URL+"/pre/file%20name.txt", testCreds, e.region, now.Add(-time.Hour), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(body), "<Code>AccessDenied</Code>") {
		t.Errorf("expired presigned GET: %d %s", resp.StatusCode, body)
	}
}
