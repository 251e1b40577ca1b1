package s3api

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestPutGetHeadObject(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("docs")
	body := "hello, cellar"
	r := e.req("PUT", "docs", "a/readme.txt").text(body).
		h("Content-Type", "text/plain").
		h("x-amz-meta-Author", "Ada").
		h("X-Amz-Meta-lang", "en").
		h("x-amz-tagging", "team=storage&tier=hot").
		send().want(200)
	etag := `"` + md5hex([]byte(body)) + `"`
	if r.header.Get("ETag") != etag {
		t.Errorf("PUT ETag %q, want %q", r.header.Get("ETag"), etag)
	}
	if r.header.Get("x-amz-version-id") != "" {
		t.Errorf("unversioned bucket sent x-amz-version-id %q", r.header.Get("x-amz-version-id"))
	}

	for _, method := range []string{"GET", "HEAD"} {
		r = e.req(method, "docs", "a/readme.txt").send().want(200)
		h := r.header
		checks := map[string]string{
			"ETag":                etag,
			"Content-Type":        "text/plain",
			"Content-Length":      fmt.Sprint(len(body)),
			"Accept-Ranges":       "bytes",
			"X-Amz-Meta-Author":   "Ada",
			"X-Amz-Meta-Lang":     "en",
			"X-Amz-Tagging-Count": "2",
		}
		for k, want := range checks {
			if got := h.Get(k); got != want {
				t.Errorf("%s %s: %q, want %q", method, k, got, want)
			}
		}
		lm, err := time.Parse(http.TimeFormat, h.Get("Last-Modified"))
		if err != nil || time.Since(lm) > time.Minute {
			t.Errorf("%s Last-Modified %q: %v", method, h.Get("Last-Modified"), err)
		}
		if h.Get("x-amz-request-id") == "" || h.Get("x-amz-id-2") == "" || h.Get("Server") == "" {
			t.Errorf("%s without request IDs or Server: %v", method, h)
		}
		if method == "GET" && string(r.body) != body {
			t.Errorf("GET body %q", r.body)
		}
		if method == "HEAD" && len(r.body) != 0 {
			t.Errorf("HEAD body %q", r.body)
		}
	}

	// No Content-Type: binary/octet-stream, as S3 stores it.
	e.mustPut("docs", "blob", "x")
	if ct := e.req("HEAD", "docs", "blob").send().want(200).header.Get("Content-Type"); ct != "binary/octet-stream" {
		t.Errorf("default Content-Type %q", ct)
	}
	// An empty object.
	e.mustPut("docs", "empty", "")
	r = e.req("GET", "docs", "empty").send().want(200)
	if len(r.body) != 0 || r.header.Get("Content-Length") != "0" || r.header.Get("ETag") != `"d41d8cd98f00b204e9800998ecf8427e"` {
		t.Errorf("empty object: %q %v", r.body, r.header)
	}

	d := e.req("GET", "docs", "nope").send().wantError(404, "NoSuchKey")
	if d.Key != "nope" || d.Resource != "/docs/nope" {
		t.Errorf("NoSuchKey names %q at %q", d.Key, d.Resource)
	}
	r = e.req("HEAD", "docs", "nope").send().want(404)
	if len(r.body) != 0 {
		t.Errorf("HEAD 404 body %q", r.body)
	}
	e.req("GET", "nobucket", "k").send().wantError(404, "NoSuchBucket")
	e.req("PUT", "nobucket", "k").text("x").send().wantError(404, "NoSuchBucket")
	e.req("PUT", "docs", strings.Repeat("k", 1025)).text("x").send().wantError(400, "KeyTooLongError")
	e.req("PUT", "docs", "big-meta").text("x").h("x-amz-meta-big", strings.Repeat("m", 2100)).send().wantError(400, "MetadataTooLarge")
	e.req("PUT", "docs", "bad-tags").text("x").h("x-amz-tagging", "a=1&a=2").send().wantError(400, "InvalidArgument")
	e.req("PUT", "docs", "bad-tags").text("x").h("x-amz-tagging", "a%=1").send().wantError(400, "InvalidArgument")
	e.req("PUT", "docs", "bad-tags").text("x").h("x-amz-tagging", "k=v%21").send().wantError(400, "InvalidTag")
	e.req("PUT", "docs", "bad-tags").text("x").h("x-amz-tagging", "a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9&j=10&k=11").send().wantError(400, "BadRequest")
	e.req("GET", "docs", "bad-tags").send().wantError(404, "NoSuchKey")
}

// TestKeyEncoding puts keys that are easy to mangle and reads them back by
// GET and by listing.
func TestKeyEncoding(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("keys")
	keys := []string{
		"with space", "plus+sign", "percent%41", "100%", "unicode/日本語/ключ", "double//slash",
		"/leading", "trailing/", "question?mark", "hash#tag", "amp&er=sand", "semi;colon", "tilde~",
		"quote\"s", "<angle>", "a.b", "..", "./x", "crlf\r\nkey", "tab\tkey", "emoji 🎉",
	}
	for i, k := range keys {
		e.mustPut("keys", k, fmt.Sprint(i))
	}
	for i, k := range keys {
		if got := e.mustGet("keys", k); got != fmt.Sprint(i) {
			t.Errorf("GET %q = %q, want %d", k, got, i)
		}
	}
	var doc listDoc
	e.req("GET", "keys", "").q("list-type", "2").q("encoding-type", "url").send().want(200).decode(&doc)
	got := map[string]bool{}
	for _, c := range doc.Contents {
		k, err := url.QueryUnescape(c.Key)
		if err != nil {
			t.Errorf("listed key %q: %v", c.Key, err)
		}
		got[k] = true
	}
	for _, k := range keys {
		if !got[k] {
			t.Errorf("key %q not listed back (encoding-type=url)", k)
		}
	}
	if len(doc.Contents) != len(keys) {
		t.Errorf("listed %d keys, want %d", len(doc.Contents), len(keys))
	}
}

func TestRangeGet(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("ranges")
	body := "0123456789"
	e.mustPut("ranges", "ten", body)
	cases := []struct {
		rng    string
		status int
		want   string
		cr     string
	}{
		{"bytes=0-4", 206, "01234", "bytes 0-4/10"},
		{"bytes=5-", 206, "56789", "bytes 5-9/10"},
		{"bytes=-3", 206, "789", "bytes 7-9/10"},
		{"bytes=-30", 206, body, "bytes 0-9/10"},
		{"bytes=8-100", 206, "89", "bytes 8-9/10"},
		{"bytes=9-9", 206, "9", "bytes 9-9/10"},
		{"bytes=0-0,5-6", 200, body, ""}, // several ranges: the whole object
		{"bytes=5-2", 200, body, ""},     // invalid: ignored
		{"bytes=abc", 200, body, ""},
		{"items=0-1", 200, body, ""},
	}
	for _, c := range cases {
		for _, method := range []string{"GET", "HEAD"} {
			r := e.req(method, "ranges", "ten").h("Range", c.rng).send().want(c.status)
			if method == "GET" && string(r.body) != c.want {
				t.Errorf("%s %s: body %q, want %q", method, c.rng, r.body, c.want)
			}
			if got := r.header.Get("Content-Range"); got != c.cr {
				t.Errorf("%s %s: Content-Range %q, want %q", method, c.rng, got, c.cr)
			}
			if got := r.header.Get("Content-Length"); got != fmt.Sprint(len(c.want)) {
				t.Errorf("%s %s: Content-Length %q", method, c.rng, got)
			}
		}
	}
	for _, rng := range []string{"bytes=10-", "bytes=10-20", "bytes=-0"} {
		d := e.req("GET", "ranges", "ten").h("Range", rng).send().wantError(416, "InvalidRange")
		if d.Range != rng || d.Size != "10" {
			t.Errorf("%s: RangeRequested %q ActualObjectSize %q", rng, d.Range, d.Size)
		}
		r := e.req("HEAD", "ranges", "ten").h("Range", rng).send().want(416)
		if r.header.Get("Content-Range") != "bytes */10" || len(r.body) != 0 {
			t.Errorf("HEAD %s: %v %q", rng, r.header, r.body)
		}
	}
	e.mustPut("ranges", "empty", "")
	e.req("GET", "ranges", "empty").h("Range", "bytes=0-").send().wantError(416, "InvalidRange")
	e.req("GET", "ranges", "empty").h("Range", "bytes=0-0,1-1").send().want(200)
	if r := e.req("GET", "ranges", "empty").h("Range", "bytes=-5").send().want(200); len(r.body) != 0 || r.header.Get("Content-Range") != "" {
		t.Errorf("suffix range of an empty object: %v %q", r.header, r.body)
	}
}

func TestGetConditions(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("cond")
	etag := e.mustPut("cond", "k", "data").header.Get("ETag")
	lm, _ := time.Parse(http.TimeFormat, e.req("HEAD", "cond", "k").send().header.Get("Last-Modified"))
	past, future := lm.Add(-time.Hour).Format(http.TimeFormat), lm.Add(time.Hour).Format(http.TimeFormat)
	farFuture := time.Now().Add(48 * time.Hour).Format(http.TimeFormat)
	cases := []struct {
		name, value string
		status      int
	}{
		{"If-Match", etag, 200},
		{"If-Match", `"nope"`, 412},
		{"If-Match", "*", 200},
		{"If-None-Match", etag, 304},
		{"If-None-Match", `"nope"`, 200},
		{"If-Modified-Since", past, 200},
		{"If-Modified-Since", lm.Format(http.TimeFormat), 304},
		{"If-Modified-Since", farFuture, 200}, // a date in the future is ignored
		{"If-Modified-Since", "not a date", 200},
		{"If-Unmodified-Since", future, 200},
		{"If-Unmodified-Since", past, 412},
	}
	for _, c := range cases {
		for _, method := range []string{"GET", "HEAD"} {
			r := e.req(method, "cond", "k").h(c.name, c.value).send()
			if r.status != c.status {
				t.Errorf("%s %s: %s: status %d, want %d", method, c.name, c.value, r.status, c.status)
				continue
			}
			switch c.status {
			case 304:
				if r.header.Get("ETag") != etag || r.header.Get("Last-Modified") == "" || len(r.body) != 0 {
					t.Errorf("%s 304: %v %q", method, r.header, r.body)
				}
			case 412:
				if method == "GET" {
					r.wantError(412, "PreconditionFailed")
				} else if len(r.body) != 0 {
					t.Errorf("HEAD 412 with a body")
				}
			}
		}
	}
	// If-Match true overrides If-Unmodified-Since false (S3, RFC 7232).
	e.req("GET", "cond", "k").h("If-Match", etag).h("If-Unmodified-Since", past).send().want(200)
	// If-None-Match false with If-Modified-Since true: 304.
	e.req("GET", "cond", "k").h("If-None-Match", etag).h("If-Modified-Since", past).send().want(304)
}

func TestResponseOverrides(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.AllowAnonymous = true })
	e.mustBucket("ovr")
	e.mustPut("ovr", "k", "data")
	r := e.req("GET", "ovr", "k").
		q("response-content-type", "text/csv").
		q("response-content-disposition", `attachment; filename="k.csv"`).
		q("response-content-encoding", "identity").
		q("response-content-language", "fr").
		q("response-expires", "Thu, 01 Dec 1994 16:00:00 GMT").
		q("response-cache-control", "no-cache").
		send().want(200)
	for k, want := range map[string]string{
		"Content-Type": "text/csv", "Content-Disposition": `attachment; filename="k.csv"`, "Content-Encoding": "identity",
		"Content-Language": "fr", "Expires": "Thu, 01 Dec 1994 16:00:00 GMT", "Cache-Control": "no-cache",
	} {
		if got := r.header.Get(k); got != want {
			t.Errorf("%s %q, want %q", k, got, want)
		}
	}
	e.req("GET", "ovr", "k").anon().send().want(200)
	e.req("GET", "ovr", "k").q("response-content-type", "text/csv").anon().send().wantError(400, "InvalidRequest")
}

func TestConditionalPut(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("cput")
	e.req("PUT", "cput", "k").text("one").h("If-None-Match", "*").send().want(200)
	e.req("PUT", "cput", "k").text("two").h("If-None-Match", "*").send().wantError(412, "PreconditionFailed")
	etag := e.req("HEAD", "cput", "k").send().header.Get("ETag")
	e.req("PUT", "cput", "k").text("three").h("If-Match", `"0123"`).send().wantError(412, "PreconditionFailed")
	e.req("PUT", "cput", "k").text("four").h("If-Match", etag).send().want(200)
	if got := e.mustGet("cput", "k"); got != "four" {
		t.Errorf("after conditional puts: %q", got)
	}
	e.req("PUT", "cput", "absent").text("x").h("If-Match", etag).send().wantError(404, "NoSuchKey")
	e.req("PUT", "cput", "k").text("x").h("If-None-Match", etag).send().wantError(501, "NotImplemented")
}

func TestContentMD5(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("md5")
	body := []byte("checked bytes")
	e.req("PUT", "md5", "k").data(body).h("Content-MD5", md5b64(body)).send().want(200)
	e.req("PUT", "md5", "k").text("other bytes!!").h("Content-MD5", md5b64(body)).send().wantError(400, "BadDigest")
	if got := e.mustGet("md5", "k"); got != string(body) {
		t.Errorf("a put with a bad Content-MD5 changed the object: %q", got)
	}
	e.req("PUT", "md5", "new").text("x").h("Content-MD5", md5b64(body)).send().wantError(400, "BadDigest")
	e.req("GET", "md5", "new").send().wantError(404, "NoSuchKey")
	e.req("PUT", "md5", "k").text("x").h("Content-MD5", "not base64!").send().wantError(400, "InvalidDigest")
	e.req("PUT", "md5", "k").text("x").h("Content-MD5", "AAAA").send().wantError(400, "InvalidDigest")
	// A body over 1 MiB, past the store's first read buffer, and an empty one.
	big := []byte(strings.Repeat("0123456789abcdef", 1<<16+3))
	e.req("PUT", "md5", "big").data(big).h("Content-MD5", md5b64(big)).send().want(200)
	e.req("PUT", "md5", "big").data(big[1:]).h("Content-MD5", md5b64(big)).send().wantError(400, "BadDigest")
	exact := big[:1<<20]
	e.req("PUT", "md5", "exact").data(exact).h("Content-MD5", md5b64(big)).send().wantError(400, "BadDigest")
	e.req("PUT", "md5", "exact").send().want(200)
	e.req("PUT", "md5", "empty").h("Content-MD5", md5b64(nil)).send().want(200)
	e.req("PUT", "md5", "empty").h("Content-MD5", md5b64(body)).send().wantError(400, "BadDigest")
}

// rawRequest sends bytes as they are and reads the status and body.
func rawRequest(t *testing.T, e *env, raw string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(raw)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	bufio.NewReader(resp.Body).WriteTo(&b)
	return resp.StatusCode, b.String()
}

func TestMissingContentLength(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.AllowAnonymous = true })
	e.mustBucket("len")
	status, body := rawRequest(t, e, "PUT /len/k HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if status != 411 || !strings.Contains(body, "<Code>MissingContentLength</Code>") {
		t.Errorf("PUT without Content-Length: %d %s", status, body)
	}
	status, body = rawRequest(t, e, "PUT /len/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
	if status != 411 || !strings.Contains(body, "<Code>MissingContentLength</Code>") {
		t.Errorf("chunked PUT: %d %s", status, body)
	}
	status, body = rawRequest(t, e, "PUT /len/k HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
	if status != 200 {
		t.Errorf("PUT with Content-Length 0: %d %s", status, body)
	}
	// A raw path with an escaped slash and a plus: the key is decoded once.
	status, body = rawRequest(t, e, "PUT /len/a%2Fb+c%20d HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
	if status != 200 {
		t.Fatalf("raw PUT: %d %s", status, body)
	}
	if got := e.mustGet("len", "a/b+c d"); got != "hi" {
		t.Errorf("raw key read back %q", got)
	}
}

func TestWriteHeadersNotImplemented(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("hdrs")
	for _, h := range [][2]string{
		{"x-amz-server-side-encryption", "AES256"},
		{"x-amz-server-side-encryption-customer-algorithm", "AES256"},
		{"x-amz-storage-class", "EXPRESS_ONEZONE"},
		{"x-amz-acl", "public-read"},
		{"x-amz-grant-read", "id=x"},
		{"x-amz-object-lock-mode", "GOVERNANCE"},
		{"x-amz-website-redirect-location", "/x"},
	} {
		e.req("PUT", "hdrs", "k").text("x").h(h[0], h[1]).send().wantError(501, "NotImplemented")
		e.req("POST", "hdrs", "k").q("uploads", "").h(h[0], h[1]).send().wantError(501, "NotImplemented")
	}
	e.req("PUT", "hdrs", "k").text("x").h("x-amz-storage-class", "FAST").send().wantError(400, "InvalidStorageClass")
	e.req("PUT", "hdrs", "k").text("x").h("x-amz-storage-class", "STANDARD").h("x-amz-acl", "private").send().want(200)
	e.req("GET", "hdrs", "k").h("x-amz-server-side-encryption-customer-algorithm", "AES256").send().wantError(501, "NotImplemented")
}

func TestDeleteObject(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("del")
	e.mustPut("del", "k", "x")
	r := e.req("DELETE", "del", "k").send().want(204)
	if r.header.Get("x-amz-delete-marker") != "" || r.header.Get("x-amz-version-id") != "" {
		t.Errorf("unversioned delete headers: %v", r.header)
	}
	e.req("GET", "del", "k").send().wantError(404, "NoSuchKey")
	e.req("DELETE", "del", "k").send().want(204) // deleting nothing succeeds
	e.req("DELETE", "nobucket", "k").send().wantError(404, "NoSuchBucket")
	e.req("DELETE", "del", "k").h("If-Match", `"x"`).send().wantError(501, "NotImplemented")
	e.req("DELETE", "del", "k").q("versionId", "garbage").send().wantError(400, "InvalidArgument")
}

func TestVersionedObjects(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("ver")
	e.mustPut("ver", "before", "null version")
	e.req("PUT", "ver", "").q("versioning", "").text(`<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>`).send().want(200)

	v1 := e.mustPut("ver", "k", "one").header.Get("x-amz-version-id")
	v2 := e.mustPut("ver", "k", "two").header.Get("x-amz-version-id")
	if v1 == "" || v2 == "" || v1 == v2 || v1 == "null" {
		t.Fatalf("version IDs %q %q", v1, v2)
	}
	r := e.req("GET", "ver", "k").q("versionId", v1).send().want(200)
	if string(r.body) != "one" || r.header.Get("x-amz-version-id") != v1 {
		t.Errorf("GET v1: %q %v", r.body, r.header.Get("x-amz-version-id"))
	}
	if r := e.req("GET", "ver", "before").send().want(200); r.header.Get("x-amz-version-id") != "null" {
		t.Errorf("null version in a versioned bucket: x-amz-version-id %q", r.header.Get("x-amz-version-id"))
	}

	r = e.req("DELETE", "ver", "k").send().want(204)
	marker := r.header.Get("x-amz-version-id")
	if r.header.Get("x-amz-delete-marker") != "true" || marker == "" {
		t.Fatalf("versioned delete headers: %v", r.header)
	}
	for _, method := range []string{"GET", "HEAD"} {
		r = e.req(method, "ver", "k").send().want(404)
		if r.header.Get("x-amz-delete-marker") != "true" || r.header.Get("x-amz-version-id") != marker {
			t.Errorf("%s of a deleted key: %v", method, r.header)
		}
		if method == "GET" {
			r.wantError(404, "NoSuchKey")
		}
		r = e.req(method, "ver", "k").q("versionId", marker).send().want(405)
		if r.header.Get("x-amz-delete-marker") != "true" || r.header.Get("x-amz-version-id") != marker {
			t.Errorf("%s of a delete marker: %v", method, r.header)
		}
		if method == "GET" {
			r.wantError(405, "MethodNotAllowed")
		}
	}
	e.req("GET", "ver", "k").q("versionId", "00000000000000000000000000000000").send().wantError(404, "NoSuchVersion")
	e.req("GET", "ver", "k").q("versionId", "bad").send().wantError(400, "InvalidArgument")
	e.req("GET", "ver", "k").q("versionId", "").send().wantError(400, "InvalidArgument")

	// Removing the marker brings v2 back.
	r = e.req("DELETE", "ver", "k").q("versionId", marker).send().want(204)
	if r.header.Get("x-amz-delete-marker") != "true" || r.header.Get("x-amz-version-id") != marker {
		t.Errorf("delete of a marker: %v", r.header)
	}
	if got := e.mustGet("ver", "k"); got != "two" {
		t.Errorf("after removing the marker: %q", got)
	}
	r = e.req("DELETE", "ver", "k").q("versionId", v2).send().want(204)
	if r.header.Get("x-amz-delete-marker") != "" || r.header.Get("x-amz-version-id") != v2 {
		t.Errorf("delete of a version: %v", r.header)
	}
	if got := e.mustGet("ver", "k"); got != "one" {
		t.Errorf("after removing v2: %q", got)
	}

	// Suspended: puts make null versions, and say so.
	e.req("PUT", "ver", "").q("versioning", "").text(`<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>`).send().want(200)
	if got := e.mustPut("ver", "k", "three").header.Get("x-amz-version-id"); got != "null" {
		t.Errorf("suspended put x-amz-version-id %q", got)
	}
}

func TestGetPartNumberOfSinglePartObject(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("parts")
	e.mustPut("parts", "k", "0123456789")
	for _, method := range []string{"GET", "HEAD"} {
		r := e.req(method, "parts", "k").q("partNumber", "1").send().want(206)
		if r.header.Get("Content-Range") != "bytes 0-9/10" || r.header.Get("Content-Length") != "10" || r.header.Get("x-amz-mp-parts-count") != "" {
			t.Errorf("%s partNumber=1: %v", method, r.header)
		}
	}
	e.req("GET", "parts", "k").q("partNumber", "2").send().wantError(416, "InvalidPartNumber")
	e.req("GET", "parts", "k").q("partNumber", "0").send().wantError(400, "InvalidArgument")
	e.req("GET", "parts", "k").q("partNumber", "x").send().wantError(400, "InvalidArgument")
	e.req("GET", "parts", "k").q("partNumber", "1").h("Range", "bytes=0-1").send().wantError(400, "InvalidRequest")
	e.mustPut("parts", "empty", "")
	r := e.req("GET", "parts", "empty").q("partNumber", "1").send().want(200)
	if r.header.Get("Content-Range") != "" {
		t.Errorf("empty object by part: %v", r.header)
	}
}

func TestUnsupportedAndMethods(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("uns")
	e.mustPut("uns", "k", "x")
	for _, sub := range []string{"acl", "policy", "cors", "encryption", "website", "logging", "notification", "replication", "object-lock", "publicAccessBlock", "tagging"} {
		for _, method := range []string{"GET", "PUT", "DELETE"} {
			e.req(method, "uns", "").q(sub, "").send().wantError(501, "NotImplemented")
		}
	}
	for _, sub := range []string{"acl", "retention", "legal-hold", "torrent", "lifecycle"} {
		e.req("GET", "uns", "k").q(sub, "").send().wantError(501, "NotImplemented")
	}
	e.req("POST", "uns", "k").q("select", "").q("select-type", "2").send().wantError(501, "NotImplemented")
	e.req("POST", "uns", "").send().wantError(501, "NotImplemented")
	e.req("PATCH", "uns", "k").send().wantError(405, "MethodNotAllowed")
	e.req("POST", "uns", "k").send().wantError(405, "MethodNotAllowed")
	e.req("DELETE", "", "").send().wantError(405, "MethodNotAllowed")
	e.req("GET", "uns", "").q("list-type", "3").send().wantError(400, "InvalidArgument")
	if got := e.mustGet("uns", "k"); got != "x" {
		t.Errorf("object changed: %q", got)
	}
}

func TestVirtualHostedStyle(t *testing.T) {
	e := newEnv(t, nil)
	e.req("PUT", "vhost", "").vhost().send().want(200)
	e.req("PUT", "vhost", "dir/file name").vhost().text("virtual").send().want(200)
	if got := e.mustGet("vhost", "dir/file name"); got != "virtual" {
		t.Errorf("path-style GET of a virtual-hosted PUT: %q", got)
	}
	r := e.req("GET", "vhost", "dir/file name").vhost().send().want(200)
	if string(r.body) != "virtual" {
		t.Errorf("virtual-hosted GET %q", r.body)
	}
	var doc listDoc
	e.req("GET", "vhost", "").vhost().q("list-type", "2").send().want(200).decode(&doc)
	if doc.Name != "vhost" || len(doc.Contents) != 1 || doc.Contents[0].Key != "dir/file name" {
		t.Errorf("virtual-hosted list: %+v", doc)
	}
	d := e.req("GET", "vhost", "nope").vhost().send().wantError(404, "NoSuchKey")
	if d.Resource != "/vhost/nope" {
		t.Errorf("Resource %q", d.Resource)
	}
	e.req("GET", "other.bucket", "x").vhost().send().wantError(404, "NoSuchBucket")
	// A dotted bucket name works too.
	e.req("PUT", "my.dotted.bucket", "").vhost().send().want(200)
	e.req("HEAD", "my.dotted.bucket", "").send().want(200)
}
