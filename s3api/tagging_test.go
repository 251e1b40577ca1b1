package s3api

import (
	"encoding/xml"
	"fmt"
	"strings"
	"testing"
)

type taggingResp struct {
	XMLName xml.Name `xml:"Tagging"`
	TagSet  *struct {
		Tags []struct {
			Key   string `xml:"Key"`
			Value string `xml:"Value"`
		} `xml:"Tag"`
	} `xml:"TagSet"`
}

func (d *taggingResp) String() string {
	var parts []string
	for _, t := range d.TagSet.Tags {
		parts = append(parts, t.Key+"="+t.Value)
	}
	return strings.Join(parts, "&")
}

func tagXML(pairs ...string) string {
	var b strings.Builder
	b.WriteString(`<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>`)
	for i := 0; i+1 < len(pairs); i += 2 {
		fmt.Fprintf(&b, "<Tag><Key>%s</Key><Value>%s</Value></Tag>", pairs[i], pairs[i+1])
	}
	b.WriteString(`</TagSet></Tagging>`)
	return b.String()
}

func TestObjectTagging(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("tags")
	e.req("PUT", "tags", "k").text("x").h("x-amz-tagging", "z=26&a=1").send().want(200)

	var doc taggingResp
	e.req("GET", "tags", "k").q("tagging", "").send().want(200).decode(&doc)
	if doc.String() != "a=1&z=26" {
		t.Errorf("tags at put: %s", doc.String())
	}
	e.req("PUT", "tags", "k").q("tagging", "").text(tagXML("project", "cellar", "env", "test")).send().want(200)
	doc = taggingResp{}
	e.req("GET", "tags", "k").q("tagging", "").send().want(200).decode(&doc)
	if doc.String() != "env=test&project=cellar" {
		t.Errorf("tags after put: %s", doc.String())
	}
	if got := e.req("HEAD", "tags", "k").send().header.Get("x-amz-tagging-count"); got != "2" {
		t.Errorf("x-amz-tagging-count %q", got)
	}
	e.req("DELETE", "tags", "k").q("tagging", "").send().want(204)
	doc = taggingResp{}
	r := e.req("GET", "tags", "k").q("tagging", "").send().want(200).decode(&doc)
	if doc.TagSet == nil || len(doc.TagSet.Tags) != 0 {
		t.Errorf("no tags: %s", r.body)
	}

	put := func(body string) *tresp { return e.req("PUT", "tags", "k").q("tagging", "").text(body).send() }
	put(tagXML("k", "v", "k", "w")).wantError(400, "InvalidTag")
	put(tagXML("bad!", "v")).wantError(400, "InvalidTag")
	put(tagXML("aws:x", "v")).wantError(400, "InvalidTag")
	var many []string
	for i := range 11 {
		many = append(many, fmt.Sprint("k", i), "v")
	}
	put(tagXML(many...)).wantError(400, "BadRequest")
	put(`<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>`).wantError(400, "MalformedXML")
	put(`<Tagging></Tagging>`).wantError(400, "MalformedXML")
	put(`<Tagging><TagSet>`).wantError(400, "MalformedXML")
	put(``).wantError(400, "MalformedXML")
	e.req("GET", "tags", "missing").q("tagging", "").send().wantError(404, "NoSuchKey")
	e.req("PUT", "tags", "missing").q("tagging", "").text(tagXML("a", "b")).send().wantError(404, "NoSuchKey")
}

func TestObjectTaggingVersions(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("vtags")
	e.req("PUT", "vtags", "").q("versioning", "").text(`<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>`).send().want(200)
	v1 := e.mustPut("vtags", "k", "1").header.Get("x-amz-version-id")
	v2 := e.mustPut("vtags", "k", "2").header.Get("x-amz-version-id")
	r := e.req("PUT", "vtags", "k").q("tagging", "").q("versionId", v1).text(tagXML("old", "yes")).send().want(200)
	if r.header.Get("x-amz-version-id") != v1 {
		t.Errorf("tagging version header %q, want %q", r.header.Get("x-amz-version-id"), v1)
	}
	var doc taggingResp
	r = e.req("GET", "vtags", "k").q("tagging", "").send().want(200).decode(&doc)
	if len(doc.TagSet.Tags) != 0 || r.header.Get("x-amz-version-id") != v2 {
		t.Errorf("current version tags: %s %v", doc.String(), r.header)
	}
	doc = taggingResp{}
	e.req("GET", "vtags", "k").q("tagging", "").q("versionId", v1).send().want(200).decode(&doc)
	if doc.String() != "old=yes" {
		t.Errorf("v1 tags: %s", doc.String())
	}
	marker := e.req("DELETE", "vtags", "k").send().want(204).header.Get("x-amz-version-id")
	e.req("GET", "vtags", "k").q("tagging", "").send().wantError(404, "NoSuchKey")
	e.req("GET", "vtags", "k").q("tagging", "").q("versionId", marker).send().wantError(405, "MethodNotAllowed")
	e.req("DELETE", "vtags", "k").q("tagging", "").q("versionId", v1).send().want(204)
}
