package s3api

import (
	"encoding/xml"
	"strings"
	"testing"
	"time"
)

type listBucketsDoc struct {
	XMLName xml.Name `xml:"ListAllMyBucketsResult"`
	Owner   struct {
		ID string `xml:"ID"`
	} `xml:"Owner"`
	Buckets *struct {
		Bucket []struct {
			Name         string `xml:"Name"`
			CreationDate string `xml:"CreationDate"`
			BucketRegion string `xml:"BucketRegion"`
		} `xml:"Bucket"`
	} `xml:"Buckets"`
	ContinuationToken string `xml:"ContinuationToken"`
}

func TestBucketLifecycle(t *testing.T) {
	e := newEnv(t, nil)

	var doc listBucketsDoc
	e.req("GET", "", "").send().want(200).decode(&doc)
	if doc.Buckets == nil || len(doc.Buckets.Bucket) != 0 || doc.Owner.ID == "" {
		t.Fatalf("empty ListBuckets: %+v", doc)
	}
	if !strings.Contains(string(e.req("GET", "", "").send().body), `<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`) {
		t.Error("ListAllMyBucketsResult without the S3 namespace")
	}

	r := e.req("PUT", "photos", "").send().want(200)
	if r.header.Get("Location") != "/photos" {
		t.Errorf("Location %q", r.header.Get("Location"))
	}
	r = e.req("HEAD", "photos", "").send().want(200)
	if r.header.Get("x-amz-bucket-region") != "us-east-1" {
		t.Errorf("x-amz-bucket-region %q", r.header.Get("x-amz-bucket-region"))
	}

	doc = listBucketsDoc{}
	e.req("GET", "", "").send().want(200).decode(&doc)
	if len(doc.Buckets.Bucket) != 1 || doc.Buckets.Bucket[0].Name != "photos" {
		t.Fatalf("ListBuckets: %+v", doc)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", doc.Buckets.Bucket[0].CreationDate); err != nil {
		t.Errorf("CreationDate %q: %v", doc.Buckets.Bucket[0].CreationDate, err)
	}

	// Re-creating is BucketAlreadyOwnedByYou in every region (doc.go).
	e.req("PUT", "photos", "").send().wantError(409, "BucketAlreadyOwnedByYou")

	var loc struct {
		XMLName xml.Name `xml:"LocationConstraint"`
		Value   string   `xml:",chardata"`
	}
	e.req("GET", "photos", "").q("location", "").send().want(200).decode(&loc)
	if loc.Value != "" {
		t.Errorf("us-east-1 location %q, want empty", loc.Value)
	}

	e.mustPut("photos", "cat.jpg", "meow")
	e.req("DELETE", "photos", "").send().wantError(409, "BucketNotEmpty")
	e.req("DELETE", "photos", "cat.jpg").send().want(204)
	e.req("DELETE", "photos", "").send().want(204)

	r = e.req("HEAD", "photos", "").send().want(404)
	if len(r.body) != 0 {
		t.Errorf("HEAD error with a body: %q", r.body)
	}
	d := e.req("DELETE", "photos", "").send().wantError(404, "NoSuchBucket")
	if d.Bucket != "photos" || d.Resource != "/photos" {
		t.Errorf("NoSuchBucket names %q, resource %q", d.Bucket, d.Resource)
	}
	e.req("GET", "photos", "").send().wantError(404, "NoSuchBucket")
	e.req("PUT", "Bad_Name", "").send().wantError(400, "InvalidBucketName")
	e.req("PUT", "ab", "").send().wantError(400, "InvalidBucketName")
}

func TestCreateBucketConfiguration(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Region = "eu-west-1" })
	cfg := func(lc string) string {
		return `<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>` + lc + `</LocationConstraint></CreateBucketConfiguration>`
	}
	e.req("PUT", "euro", "").text(cfg("eu-west-1")).send().want(200)
	var loc struct {
		Value string `xml:",chardata"`
	}
	e.req("GET", "euro", "").q("location", "").send().want(200).decode(&loc)
	if loc.Value != "eu-west-1" {
		t.Errorf("location %q", loc.Value)
	}
	r := e.req("HEAD", "euro", "").send().want(200)
	if r.header.Get("x-amz-bucket-region") != "eu-west-1" {
		t.Errorf("region header %q", r.header.Get("x-amz-bucket-region"))
	}
	// No namespace, no constraint: fine.
	e.req("PUT", "plain", "").text(`<CreateBucketConfiguration/>`).send().want(200)
	e.req("PUT", "other", "").text(cfg("ap-south-1")).send().wantError(400, "IllegalLocationConstraintException")
	e.req("PUT", "broken", "").text(`<CreateBucketConfiguration><LocationConstraint>`).send().wantError(400, "MalformedXML")
	e.req("PUT", "wrongroot", "").text(`<Foo/>`).send().wantError(400, "MalformedXML")
	e.req("PUT", "locked", "").h("x-amz-bucket-object-lock-enabled", "true").send().wantError(501, "NotImplemented")
	e.req("PUT", "public", "").h("x-amz-acl", "public-read").send().wantError(501, "NotImplemented")
	e.req("HEAD", "broken", "").send().want(404)
}

func TestBucketVersioningConfiguration(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("vers")
	type vc struct {
		Status    string `xml:"Status"`
		MfaDelete string `xml:"MfaDelete"`
	}
	var got vc
	r := e.req("GET", "vers", "").q("versioning", "").send().want(200).decode(&got)
	if got.Status != "" || strings.Contains(string(r.body), "<Status>") {
		t.Errorf("new bucket versioning: %s", r.body)
	}
	put := func(body string) *tresp { return e.req("PUT", "vers", "").q("versioning", "").text(body).send() }
	put(`<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>`).want(200)
	e.req("GET", "vers", "").q("versioning", "").send().want(200).decode(&got)
	if got.Status != "Enabled" {
		t.Errorf("status %q", got.Status)
	}
	put(`<VersioningConfiguration><Status>Suspended</Status><MfaDelete>Disabled</MfaDelete></VersioningConfiguration>`).want(200)
	e.req("GET", "vers", "").q("versioning", "").send().want(200).decode(&got)
	if got.Status != "Suspended" {
		t.Errorf("status %q", got.Status)
	}
	put(`<VersioningConfiguration/>`).want(200) // no change
	put(`<VersioningConfiguration><Status>On</Status></VersioningConfiguration>`).wantError(400, "MalformedXML")
	put(`<VersioningConfiguration><Status>Enabled</Status><MfaDelete>Enabled</MfaDelete></VersioningConfiguration>`).wantError(501, "NotImplemented")
	put(``).wantError(400, "MalformedXML")
	put(`<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration><extra/>`).wantError(400, "MalformedXML")
	e.req("PUT", "missing", "").q("versioning", "").text(`<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>`).send().wantError(404, "NoSuchBucket")
}

func TestListBucketsPaging(t *testing.T) {
	e := newEnv(t, nil)
	for _, b := range []string{"alpha", "beta", "bravo", "charlie"} {
		e.mustBucket(b)
	}
	var names []string
	tok := ""
	for range 10 {
		r := e.req("GET", "", "").q("max-buckets", "1")
		if tok != "" {
			r.q("continuation-token", tok)
		}
		var doc listBucketsDoc
		r.send().want(200).decode(&doc)
		for _, b := range doc.Buckets.Bucket {
			names = append(names, b.Name)
		}
		if tok = doc.ContinuationToken; tok == "" {
			break
		}
	}
	if strings.Join(names, ",") != "alpha,beta,bravo,charlie" {
		t.Errorf("paged buckets %v", names)
	}
	var doc listBucketsDoc
	e.req("GET", "", "").q("prefix", "b").send().want(200).decode(&doc)
	if len(doc.Buckets.Bucket) != 2 {
		t.Errorf("prefix b: %+v", doc.Buckets)
	}
	e.req("GET", "", "").q("max-buckets", "0").send().wantError(400, "InvalidArgument")
	e.req("GET", "", "").q("continuation-token", "!!").send().wantError(400, "InvalidArgument")
}
