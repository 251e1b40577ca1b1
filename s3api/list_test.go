package s3api

import (
	"encoding/xml"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// listDoc decodes ListBucketResult of both versions.
type listDoc struct {
	XMLName               xml.Name `xml:"ListBucketResult"`
	Name                  string   `xml:"Name"`
	Prefix                *string  `xml:"Prefix"`
	Marker                *string  `xml:"Marker"`
	NextMarker            *string  `xml:"NextMarker"`
	MaxKeys               int      `xml:"MaxKeys"`
	Delimiter             *string  `xml:"Delimiter"`
	EncodingType          string   `xml:"EncodingType"`
	KeyCount              *int     `xml:"KeyCount"`
	IsTruncated           bool     `xml:"IsTruncated"`
	ContinuationToken     string   `xml:"ContinuationToken"`
	NextContinuationToken string   `xml:"NextContinuationToken"`
	StartAfter            *string  `xml:"StartAfter"`
	Contents              []struct {
		Key          string `xml:"Key"`
		LastModified string `xml:"LastModified"`
		ETag         string `xml:"ETag"`
		Size         int64  `xml:"Size"`
		StorageClass string `xml:"StorageClass"`
		Owner        *struct {
			ID string `xml:"ID"`
		} `xml:"Owner"`
	} `xml:"Contents"`
	CommonPrefixes []struct {
		Prefix string `xml:"Prefix"`
	} `xml:"CommonPrefixes"`
}

func (d *listDoc) names() []string {
	var out []string
	for _, c := range d.Contents {
		out = append(out, c.Key)
	}
	for _, p := range d.CommonPrefixes {
		out = append(out, p.Prefix+"*")
	}
	slices.Sort(out)
	return out
}

var listKeys = []string{"a/1", "a/2", "a/b/3", "b", "c/d/e", "c/x", "d", "e f/g"}

func listEnv(t *testing.T) *env {
	e := newEnv(t, nil)
	e.mustBucket("list")
	for _, k := range listKeys {
		e.mustPut("list", k, k)
	}
	return e
}

func TestListObjectsV2(t *testing.T) {
	e := listEnv(t)
	v2 := func() *treq { return e.req("GET", "list", "").q("list-type", "2") }

	var doc listDoc
	v2().send().want(200).decode(&doc)
	if got := doc.names(); !slices.Equal(got, listKeys) {
		t.Errorf("all keys: %v", got)
	}
	if doc.KeyCount == nil || *doc.KeyCount != len(listKeys) || doc.MaxKeys != 1000 || doc.IsTruncated || doc.Prefix == nil || doc.Marker != nil {
		t.Errorf("v2 fields: %+v", doc)
	}
	c := doc.Contents[0]
	if c.ETag != `"`+md5hex([]byte("a/1"))+`"` || c.Size != 3 || c.StorageClass != "STANDARD" || c.Owner != nil || !strings.HasSuffix(c.LastModified, "Z") {
		t.Errorf("content entry: %+v", c)
	}

	doc = listDoc{}
	v2().q("delimiter", "/").send().want(200).decode(&doc)
	if got := strings.Join(doc.names(), ","); got != "a/*,b,c/*,d,e f/*" {
		t.Errorf("delimiter /: %s", got)
	}
	if doc.Delimiter == nil || *doc.Delimiter != "/" || *doc.KeyCount != 5 {
		t.Errorf("delimiter fields: %+v", doc)
	}

	doc = listDoc{}
	v2().q("prefix", "a/").q("delimiter", "/").q("fetch-owner", "true").send().want(200).decode(&doc)
	if got := strings.Join(doc.names(), ","); got != "a/1,a/2,a/b/*" {
		t.Errorf("prefix a/: %s", got)
	}
	if doc.Contents[0].Owner == nil || doc.Contents[0].Owner.ID == "" {
		t.Errorf("fetch-owner gave no Owner")
	}

	doc = listDoc{}
	v2().q("start-after", "c/x").send().want(200).decode(&doc)
	if got := strings.Join(doc.names(), ","); got != "d,e f/g" || doc.StartAfter == nil || *doc.StartAfter != "c/x" {
		t.Errorf("start-after c/x: %s %+v", got, doc.StartAfter)
	}
	// start-after inside a common prefix skips the prefix, as S3 does.
	doc = listDoc{}
	v2().q("start-after", "a/1").q("delimiter", "/").send().want(200).decode(&doc)
	if got := strings.Join(doc.names(), ","); got != "b,c/*,d,e f/*" {
		t.Errorf("start-after a/1 with delimiter: %s", got)
	}

	// Paging by one with and without a delimiter sees every entry once.
	for _, delim := range []string{"", "/"} {
		var all []string
		tok := ""
		for i := 0; ; i++ {
			if i > 20 {
				t.Fatal("paging does not end")
			}
			r := v2().q("max-keys", "1").q("delimiter", delim)
			if tok != "" {
				r.q("continuation-token", tok)
			}
			doc = listDoc{}
			r.send().want(200).decode(&doc)
			if tok != "" && doc.ContinuationToken != tok {
				t.Errorf("ContinuationToken not echoed")
			}
			all = append(all, doc.names()...)
			if !doc.IsTruncated {
				break
			}
			if doc.NextContinuationToken == "" {
				t.Fatal("truncated page without NextContinuationToken")
			}
			tok = doc.NextContinuationToken
		}
		want := listKeys
		if delim == "/" {
			want = []string{"a/*", "b", "c/*", "d", "e f/*"}
		}
		if !slices.Equal(all, want) {
			t.Errorf("paged with delimiter %q: %v", delim, all)
		}
	}

	doc = listDoc{}
	v2().q("max-keys", "0").send().want(200).decode(&doc)
	if len(doc.Contents) != 0 || doc.IsTruncated || *doc.KeyCount != 0 {
		t.Errorf("max-keys=0: %+v", doc)
	}
	v2().q("max-keys", "-1").send().wantError(400, "InvalidArgument")
	v2().q("max-keys", "ten").send().wantError(400, "InvalidArgument")
	v2().q("encoding-type", "base64").send().wantError(400, "InvalidArgument")
	v2().q("continuation-token", "bogus!").send().wantError(400, "InvalidArgument")
	e.req("GET", "nolist", "").q("list-type", "2").send().wantError(404, "NoSuchBucket")
}

func TestListEncodingTypeURL(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("enc")
	for _, k := range []string{"sp ace/x", "plus+/y", "pct%/z", "ctl\x01key", "日本/w"} {
		e.mustPut("enc", k, "v")
	}
	r := e.req("GET", "enc", "").q("list-type", "2").q("delimiter", "/").q("encoding-type", "url").q("start-after", "a b").send().want(200)
	var doc listDoc
	r.decode(&doc)
	got := strings.Join(doc.names(), ",")
	want := "%E6%97%A5%E6%9C%AC/*,ctl%01key,pct%25/*,plus%2B/*,sp%20ace/*"
	if got != want {
		t.Errorf("encoded names %s, want %s", got, want)
	}
	if doc.EncodingType != "url" || *doc.StartAfter != "a%20b" || *doc.Delimiter != "/" {
		t.Errorf("encoded fields: %+v", doc)
	}
	// v1 encodes Marker, Prefix and NextMarker too.
	doc = listDoc{}
	e.req("GET", "enc", "").q("encoding-type", "url").q("prefix", "sp ace/").q("marker", "sp ace/").send().want(200).decode(&doc)
	if *doc.Prefix != "sp%20ace/" || *doc.Marker != "sp%20ace/" || len(doc.Contents) != 1 || doc.Contents[0].Key != "sp%20ace/x" {
		t.Errorf("v1 encoded: %+v", doc)
	}
	// Without encoding, a control character is escaped XML and decodes back.
	doc = listDoc{}
	e.req("GET", "enc", "").q("list-type", "2").q("prefix", "plus+").send().want(200).decode(&doc)
	if len(doc.Contents) != 1 || doc.Contents[0].Key != "plus+/y" {
		t.Errorf("prefix with +: %+v", doc.Contents)
	}
	if k, _ := url.QueryUnescape(urlEncode("a b+c/%")); k != "a b+c/%" {
		t.Errorf("urlEncode does not round-trip: %q", k)
	}
}

func TestListObjectsV1(t *testing.T) {
	e := listEnv(t)
	v1 := func() *treq { return e.req("GET", "list", "") }
	var doc listDoc
	v1().send().want(200).decode(&doc)
	if !slices.Equal(doc.names(), listKeys) || doc.Marker == nil || *doc.Marker != "" || doc.KeyCount != nil {
		t.Errorf("v1: %+v", doc)
	}
	if doc.Contents[0].Owner == nil {
		t.Error("v1 Contents without Owner")
	}

	// Without a delimiter there is no NextMarker: the client resumes after
	// the last key.
	var all []string
	marker := ""
	for i := 0; ; i++ {
		if i > 20 {
			t.Fatal("paging does not end")
		}
		doc = listDoc{}
		v1().q("max-keys", "3").q("marker", marker).send().want(200).decode(&doc)
		if doc.NextMarker != nil {
			t.Errorf("NextMarker without a delimiter: %q", *doc.NextMarker)
		}
		for _, c := range doc.Contents {
			all = append(all, c.Key)
			marker = c.Key
		}
		if !doc.IsTruncated {
			break
		}
	}
	if !slices.Equal(all, listKeys) {
		t.Errorf("v1 paged: %v", all)
	}

	// With a delimiter NextMarker may be a common prefix; resuming from it
	// skips the keys under it.
	all = nil
	marker = ""
	for i := 0; ; i++ {
		if i > 20 {
			t.Fatal("paging does not end")
		}
		doc = listDoc{}
		v1().q("max-keys", "2").q("delimiter", "/").q("marker", marker).send().want(200).decode(&doc)
		all = append(all, doc.names()...)
		if !doc.IsTruncated {
			if doc.NextMarker != nil {
				t.Errorf("NextMarker on the last page")
			}
			break
		}
		if doc.NextMarker == nil {
			t.Fatal("truncated v1 page with a delimiter and no NextMarker")
		}
		marker = *doc.NextMarker
	}
	if got := strings.Join(all, ","); got != "a/*,b,c/*,d,e f/*" {
		t.Errorf("v1 paged with delimiter: %s", got)
	}
}

type versionsDoc struct {
	XMLName             xml.Name `xml:"ListVersionsResult"`
	KeyMarker           string   `xml:"KeyMarker"`
	VersionIDMarker     string   `xml:"VersionIdMarker"`
	NextKeyMarker       string   `xml:"NextKeyMarker"`
	NextVersionIDMarker string   `xml:"NextVersionIdMarker"`
	IsTruncated         bool     `xml:"IsTruncated"`
	Entries             []struct {
		XMLName   xml.Name
		Key       string `xml:"Key"`
		VersionID string `xml:"VersionId"`
		IsLatest  bool   `xml:"IsLatest"`
		ETag      string `xml:"ETag"`
		Size      *int64 `xml:"Size"`
		Owner     *struct {
			ID string `xml:"ID"`
		} `xml:"Owner"`
	} `xml:",any"`
	CommonPrefixes []struct {
		Prefix string `xml:"Prefix"`
	} `xml:"CommonPrefixes"`
}

func (d *versionsDoc) summary() string {
	var parts []string
	for _, e := range d.Entries {
		if e.XMLName.Local != "Version" && e.XMLName.Local != "DeleteMarker" {
			continue
		}
		s := e.XMLName.Local[:1] + ":" + e.Key
		if e.IsLatest {
			s += "*"
		}
		parts = append(parts, s)
	}
	for _, p := range d.CommonPrefixes {
		parts = append(parts, "P:"+p.Prefix)
	}
	return strings.Join(parts, ",")
}

func TestListObjectVersions(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("lvb")
	e.mustPut("lvb", "a", "null")
	e.req("PUT", "lvb", "").q("versioning", "").text(`<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>`).send().want(200)
	e.mustPut("lvb", "a", "v1")
	e.mustPut("lvb", "b", "v1")
	e.req("DELETE", "lvb", "b").send().want(204)
	e.mustPut("lvb", "c/1", "x")
	e.mustPut("lvb", "c/2", "x")

	lv := func() *treq { return e.req("GET", "lvb", "").q("versions", "") }
	var doc versionsDoc
	r := lv().send().want(200).decode(&doc)
	if got := doc.summary(); got != "V:a*,V:a,D:b*,V:b,V:c/1*,V:c/2*" {
		t.Errorf("versions: %s", got)
	}
	if strings.Contains(string(r.body), "<DeleteMarker><Key>b</Key><VersionId>") == false {
		t.Errorf("no DeleteMarker element: %s", r.body)
	}
	for _, en := range doc.Entries {
		if en.XMLName.Local == "DeleteMarker" && (en.ETag != "" || en.Size != nil) {
			t.Errorf("delete marker with ETag or Size: %+v", en)
		}
		if en.XMLName.Local == "Version" && (en.Size == nil || en.ETag == "" || en.Owner == nil) {
			t.Errorf("version without Size, ETag or Owner: %+v", en)
		}
	}
	nullListed := false
	for _, en := range doc.Entries {
		nullListed = nullListed || en.Key == "a" && en.VersionID == "null" && !en.IsLatest
	}
	if !nullListed {
		t.Errorf("null version of a not listed: %s", r.body)
	}

	doc = versionsDoc{}
	lv().q("delimiter", "/").send().want(200).decode(&doc)
	if got := doc.summary(); got != "V:a*,V:a,D:b*,V:b,P:c/" {
		t.Errorf("versions with delimiter: %s", got)
	}

	// Page through one at a time.
	var all []string
	km, vm := "", ""
	for i := 0; ; i++ {
		if i > 20 {
			t.Fatal("paging does not end")
		}
		r := lv().q("max-keys", "1")
		if km != "" {
			r.q("key-marker", km)
		}
		if vm != "" {
			r.q("version-id-marker", vm)
		}
		doc = versionsDoc{}
		r.send().want(200).decode(&doc)
		if km != "" && doc.KeyMarker != km {
			t.Errorf("KeyMarker %q, want %q", doc.KeyMarker, km)
		}
		all = append(all, doc.summary())
		if !doc.IsTruncated {
			break
		}
		km, vm = doc.NextKeyMarker, doc.NextVersionIDMarker
		if km == "" {
			t.Fatal("truncated without NextKeyMarker")
		}
	}
	if got := strings.Join(all, ","); got != "V:a*,V:a,D:b*,V:b,V:c/1*,V:c/2*" {
		t.Errorf("paged versions: %s", got)
	}

	lv().q("version-id-marker", "x").send().wantError(400, "InvalidArgument")
	lv().q("key-marker", "a").q("version-id-marker", "junk").send().wantError(400, "InvalidArgument")
	lv().q("max-keys", "x").send().wantError(400, "InvalidArgument")
	doc = versionsDoc{}
	lv().q("max-keys", "0").send().want(200).decode(&doc)
	if doc.summary() != "" || doc.IsTruncated {
		t.Errorf("max-keys=0: %s", doc.summary())
	}
	doc = versionsDoc{}
	lv().q("key-marker", "c/1").q("delimiter", "/").send().want(200).decode(&doc)
	if got := doc.summary(); got != "" {
		t.Errorf("key-marker inside a common prefix: %s", got)
	}
	e.req("GET", "nolvb", "").q("versions", "").send().wantError(404, "NoSuchBucket")
	_ = fmt.Sprint()
}
