package s3api

import (
	"encoding/xml"
	"strings"
	"testing"
)

type attributesDoc struct {
	XMLName      xml.Name `xml:"GetObjectAttributesResponse"`
	ETag         string   `xml:"ETag"`
	StorageClass string   `xml:"StorageClass"`
	ObjectSize   int64    `xml:"ObjectSize"`
	ObjectParts  *struct {
		PartsCount int `xml:"PartsCount"`
		MaxParts   int `xml:"MaxParts"`
	} `xml:"ObjectParts"`
}

func TestGetObjectAttributes(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("attrs")
	e.mustPut("attrs", "k", "12345")
	var doc attributesDoc
	r := e.req("GET", "attrs", "k").q("attributes", "").
		h("x-amz-object-attributes", "ETag").h("x-amz-object-attributes", "StorageClass, ObjectSize,ObjectParts").
		send().want(200).decode(&doc)
	if doc.ETag != md5hex([]byte("12345")) || doc.StorageClass != "STANDARD" || doc.ObjectSize != 5 || doc.ObjectParts != nil {
		t.Errorf("attributes: %+v", doc)
	}
	if r.header.Get("Last-Modified") == "" {
		t.Error("no Last-Modified")
	}
	doc = attributesDoc{}
	r = e.req("GET", "attrs", "k").q("attributes", "").h("x-amz-object-attributes", "ObjectSize").send().want(200).decode(&doc)
	if strings.Contains(string(r.body), "<ETag>") || doc.ObjectSize != 5 {
		t.Errorf("only ObjectSize asked: %s", r.body)
	}
	e.req("GET", "attrs", "k").q("attributes", "").send().wantError(400, "InvalidArgument")
	e.req("GET", "attrs", "k").q("attributes", "").h("x-amz-object-attributes", "Colour").send().wantError(400, "InvalidArgument")
	e.req("GET", "attrs", "k").q("attributes", "").h("x-amz-object-attributes", "ETag").h("x-amz-max-parts", "x").send().wantError(400, "InvalidArgument")
	e.req("GET", "attrs", "nope").q("attributes", "").h("x-amz-object-attributes", "ETag").send().wantError(404, "NoSuchKey")

	e.req("PUT", "attrs", "").q("versioning", "").text(`<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>`).send().want(200)
	v := e.mustPut("attrs", "k", "v2").header.Get("x-amz-version-id")
	r = e.req("GET", "attrs", "k").q("attributes", "").q("versionId", v).h("x-amz-object-attributes", "ObjectSize").send().want(200)
	if r.header.Get("x-amz-version-id") != v {
		t.Errorf("version header %q", r.header.Get("x-amz-version-id"))
	}
	marker := e.req("DELETE", "attrs", "k").send().want(204).header.Get("x-amz-version-id")
	r = e.req("GET", "attrs", "k").q("attributes", "").h("x-amz-object-attributes", "ObjectSize").send()
	r.wantError(404, "NoSuchKey")
	if r.header.Get("x-amz-delete-marker") != "true" || r.header.Get("x-amz-version-id") != marker {
		t.Errorf("delete marker headers: %v", r.header)
	}
}
