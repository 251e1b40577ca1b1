package s3api

import (
	"encoding/xml"
	"net/http"
	"testing"
	"time"
)

type copyResultDoc struct {
	XMLName      xml.Name `xml:"CopyObjectResult"`
	LastModified string   `xml:"LastModified"`
	ETag         string   `xml:"ETag"`
}

func TestCopyObject(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("src")
	e.mustBucket("dst")
	e.req("PUT", "src", "dir/orig name+1").text("payload").
		h("Content-Type", "text/plain").h("x-amz-meta-color", "blue").h("x-amz-tagging", "a=1").
		send().want(200)
	source := "/src/dir/orig%20name%2B1"

	// COPY: content type, metadata and tags come along; headers for them
	// are ignored, as S3 ignores them.
	var res copyResultDoc
	r := e.req("PUT", "dst", "copy").h("x-amz-copy-source", source).
		h("Content-Type", "image/png").h("x-amz-meta-color", "red").h("x-amz-tagging", "b=2").
		send().want(200).decode(&res)
	if res.ETag != `"`+md5hex([]byte("payload"))+`"` {
		t.Errorf("copy ETag %q", res.ETag)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", res.LastModified); err != nil {
		t.Errorf("LastModified %q", res.LastModified)
	}
	if r.header.Get("x-amz-copy-source-version-id") != "" || r.header.Get("x-amz-version-id") != "" {
		t.Errorf("unversioned copy headers: %v", r.header)
	}
	r = e.req("GET", "dst", "copy").send().want(200)
	if string(r.body) != "payload" || r.header.Get("Content-Type") != "text/plain" || r.header.Get("x-amz-meta-color") != "blue" || r.header.Get("x-amz-tagging-count") != "1" {
		t.Errorf("COPY result: %q %v", r.body, r.header)
	}

	// REPLACE both.
	e.req("PUT", "dst", "replaced").h("x-amz-copy-source", "src/dir/orig%20name%2B1").
		h("x-amz-metadata-directive", "REPLACE").h("Content-Type", "image/png").h("x-amz-meta-size", "big").
		h("x-amz-tagging-directive", "REPLACE").h("x-amz-tagging", "b=2&c=3").
		send().want(200)
	r = e.req("HEAD", "dst", "replaced").send().want(200)
	if r.header.Get("Content-Type") != "image/png" || r.header.Get("x-amz-meta-size") != "big" || r.header.Get("x-amz-meta-color") != "" || r.header.Get("x-amz-tagging-count") != "2" {
		t.Errorf("REPLACE result: %v", r.header)
	}

	// Copy onto itself needs REPLACE.
	e.req("PUT", "src", "dir/orig name+1").h("x-amz-copy-source", source).send().wantError(400, "InvalidRequest")
	e.req("PUT", "src", "dir/orig name+1").h("x-amz-copy-source", source).h("x-amz-metadata-directive", "REPLACE").send().want(200)

	// Source conditions.
	etag := e.req("HEAD", "src", "dir/orig name+1").send().header.Get("ETag")
	e.req("PUT", "dst", "c1").h("x-amz-copy-source", source).h("x-amz-copy-source-if-match", etag).send().want(200)
	e.req("PUT", "dst", "c2").h("x-amz-copy-source", source).h("x-amz-copy-source-if-match", `"x"`).send().wantError(412, "PreconditionFailed")
	e.req("PUT", "dst", "c3").h("x-amz-copy-source", source).h("x-amz-copy-source-if-none-match", etag).send().wantError(412, "PreconditionFailed")
	e.req("PUT", "dst", "c4").h("x-amz-copy-source", source).
		h("x-amz-copy-source-if-unmodified-since", time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)).send().wantError(412, "PreconditionFailed")
	e.req("PUT", "dst", "c5").h("x-amz-copy-source", source).
		h("x-amz-copy-source-if-modified-since", time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)).send().want(200)
	// Destination conditions.
	e.req("PUT", "dst", "c1").h("x-amz-copy-source", source).h("If-None-Match", "*").send().wantError(412, "PreconditionFailed")

	// Bad sources.
	e.req("PUT", "dst", "x").h("x-amz-copy-source", "src/missing").send().wantError(404, "NoSuchKey")
	e.req("PUT", "dst", "x").h("x-amz-copy-source", "nobucket/k").send().wantError(404, "NoSuchBucket")
	for _, bad := range []string{"justbucket", "/src/", "%zz/k", "src/k?versionId="} {
		e.req("PUT", "dst", "x").h("x-amz-copy-source", bad).send().wantError(400, "InvalidArgument")
	}
	e.req("PUT", "dst", "x").h("x-amz-copy-source", source).h("x-amz-metadata-directive", "MERGE").send().wantError(400, "InvalidArgument")
	e.req("PUT", "dst", "x").h("x-amz-copy-source", source).h("x-amz-tagging-directive", "MERGE").send().wantError(400, "InvalidArgument")
	e.req("PUT", "nodst", "x").h("x-amz-copy-source", source).send().wantError(404, "NoSuchBucket")
}

func TestCopyVersioned(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("vsrc")
	e.req("PUT", "vsrc", "").q("versioning", "").text(`<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>`).send().want(200)
	v1 := e.mustPut("vsrc", "k", "first").header.Get("x-amz-version-id")
	v2 := e.mustPut("vsrc", "k", "second").header.Get("x-amz-version-id")

	r := e.req("PUT", "vsrc", "copy").h("x-amz-copy-source", "vsrc/k?versionId="+v1).send().want(200)
	if r.header.Get("x-amz-copy-source-version-id") != v1 || r.header.Get("x-amz-version-id") == "" {
		t.Errorf("versioned copy headers: %v", r.header)
	}
	if got := e.mustGet("vsrc", "copy"); got != "first" {
		t.Errorf("copy of v1: %q", got)
	}
	r = e.req("PUT", "vsrc", "copy2").h("x-amz-copy-source", "/vsrc/k").send().want(200)
	if r.header.Get("x-amz-copy-source-version-id") != v2 {
		t.Errorf("copy of current: source version %q, want %q", r.header.Get("x-amz-copy-source-version-id"), v2)
	}
	// Restoring an old version onto the same key is allowed.
	e.req("PUT", "vsrc", "k").h("x-amz-copy-source", "vsrc/k?versionId="+v1).send().want(200)
	if got := e.mustGet("vsrc", "k"); got != "first" {
		t.Errorf("restored: %q", got)
	}
	marker := e.req("DELETE", "vsrc", "k").send().want(204).header.Get("x-amz-version-id")
	r = e.req("PUT", "vsrc", "x").h("x-amz-copy-source", "vsrc/k").send()
	r.wantError(404, "NoSuchKey")
	if r.header.Get("x-amz-delete-marker") != "" {
		t.Errorf("copy from a deleted source answered with delete marker headers: %v", r.header)
	}
	e.req("PUT", "vsrc", "x").h("x-amz-copy-source", "vsrc/k?versionId="+marker).send().wantError(400, "InvalidRequest")
	e.req("PUT", "vsrc", "x").h("x-amz-copy-source", "vsrc/k?versionId=00000000000000000000000000000000").send().wantError(404, "NoSuchVersion")
}
