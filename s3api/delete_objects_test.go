package s3api

import (
	"encoding/xml"
	"fmt"
	"strings"
	"testing"
)

type deleteResultDoc struct {
	XMLName xml.Name `xml:"DeleteResult"`
	Entries []struct {
		XMLName               xml.Name
		Key                   string `xml:"Key"`
		VersionID             string `xml:"VersionId"`
		DeleteMarker          bool   `xml:"DeleteMarker"`
		DeleteMarkerVersionID string `xml:"DeleteMarkerVersionId"`
		Code                  string `xml:"Code"`
		Message               string `xml:"Message"`
	} `xml:",any"`
}

func (d *deleteResultDoc) summary() string {
	var parts []string
	for _, e := range d.Entries {
		s := e.XMLName.Local + ":" + e.Key
		if e.DeleteMarker {
			s += "+dm"
		}
		if e.Code != "" {
			s += "=" + e.Code
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ",")
}

func deleteXML(quiet bool, objs ...string) string {
	var b strings.Builder
	b.WriteString(`<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`)
	if quiet {
		b.WriteString("<Quiet>true</Quiet>")
	}
	for _, o := range objs {
		k, v, _ := strings.Cut(o, "@")
		fmt.Fprintf(&b, "<Object><Key>%s</Key>", k)
		if v != "" {
			fmt.Fprintf(&b, "<VersionId>%s</VersionId>", v)
		}
		b.WriteString("</Object>")
	}
	b.WriteString("</Delete>")
	return b.String()
}

func TestDeleteObjects(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("dels")
	for _, k := range []string{"a", "b", "c & d"} {
		e.mustPut("dels", k, k)
	}
	del := func(body string) *treq { return e.req("POST", "dels", "").q("delete", "").text(body) }

	var doc deleteResultDoc
	r := del(deleteXML(false, "a", "missing", "c &amp; d", "x@badversion")).send().want(200).decode(&doc)
	if got := doc.summary(); got != "Deleted:a,Deleted:missing,Deleted:c & d,Error:x=InvalidArgument" {
		t.Errorf("delete result: %s\n%s", got, r.body)
	}
	e.req("GET", "dels", "a").send().wantError(404, "NoSuchKey")
	e.req("GET", "dels", "c & d").send().wantError(404, "NoSuchKey")

	doc = deleteResultDoc{}
	del(deleteXML(true, "b", "x@badversion")).send().want(200).decode(&doc)
	if got := doc.summary(); got != "Error:x=InvalidArgument" {
		t.Errorf("quiet delete: %s", got)
	}

	// Versioned: delete markers are made and named.
	e.req("PUT", "dels", "").q("versioning", "").text(`<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>`).send().want(200)
	v := e.mustPut("dels", "v", "1").header.Get("x-amz-version-id")
	doc = deleteResultDoc{}
	del(deleteXML(false, "v")).send().want(200).decode(&doc)
	if len(doc.Entries) != 1 || !doc.Entries[0].DeleteMarker || doc.Entries[0].DeleteMarkerVersionID == "" || doc.Entries[0].VersionID != "" {
		t.Errorf("versioned delete: %+v", doc.Entries)
	}
	marker := doc.Entries[0].DeleteMarkerVersionID
	doc = deleteResultDoc{}
	del(deleteXML(false, "v@"+marker, "v@"+v)).send().want(200).decode(&doc)
	if len(doc.Entries) != 2 || !doc.Entries[0].DeleteMarker || doc.Entries[0].VersionID != marker || doc.Entries[0].DeleteMarkerVersionID != marker ||
		doc.Entries[1].DeleteMarker || doc.Entries[1].VersionID != v {
		t.Errorf("delete by version: %+v", doc.Entries)
	}

	// Content-MD5 is optional but checked.
	body := deleteXML(false, "b")
	del(body).h("Content-MD5", md5b64([]byte(body))).send().want(200)
	del(body).h("Content-MD5", md5b64([]byte("other"))).send().wantError(400, "BadDigest")

	var many []string
	for i := range 1001 {
		many = append(many, fmt.Sprint("k", i))
	}
	del(deleteXML(false, many...)).send().wantError(400, "MalformedXML")
	del(deleteXML(true, many[:1000]...)).send().want(200)
	del(`<Delete></Delete>`).send().wantError(400, "MalformedXML")
	e.req("POST", "nodels", "").q("delete", "").text(deleteXML(false, "a")).send().wantError(404, "NoSuchBucket")
}
