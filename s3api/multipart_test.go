package s3api

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"strings"
	"testing"

	"github.com/cellarhq/cellar"
)

type initiateDoc struct {
	XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	UploadID string   `xml:"UploadId"`
}

type listPartsDoc struct {
	XMLName              xml.Name `xml:"ListPartsResult"`
	UploadID             string   `xml:"UploadId"`
	PartNumberMarker     int      `xml:"PartNumberMarker"`
	NextPartNumberMarker int      `xml:"NextPartNumberMarker"`
	MaxParts             int      `xml:"MaxParts"`
	IsTruncated          bool     `xml:"IsTruncated"`
	Parts                []struct {
		PartNumber int    `xml:"PartNumber"`
		ETag       string `xml:"ETag"`
		Size       int64  `xml:"Size"`
	} `xml:"Part"`
}

type listUploadsDoc struct {
	XMLName            xml.Name `xml:"ListMultipartUploadsResult"`
	NextKeyMarker      string   `xml:"NextKeyMarker"`
	NextUploadIDMarker string   `xml:"NextUploadIdMarker"`
	IsTruncated        bool     `xml:"IsTruncated"`
	Uploads            []struct {
		Key       string `xml:"Key"`
		UploadID  string `xml:"UploadId"`
		Initiated string `xml:"Initiated"`
	} `xml:"Upload"`
	CommonPrefixes []struct {
		Prefix string `xml:"Prefix"`
	} `xml:"CommonPrefixes"`
}

func completeXML(parts ...[2]string) string {
	var b strings.Builder
	b.WriteString(`<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`)
	for _, p := range parts {
		fmt.Fprintf(&b, "<Part><PartNumber>%s</PartNumber><ETag>%s</ETag></Part>", p[0], p[1])
	}
	b.WriteString(`</CompleteMultipartUpload>`)
	return b.String()
}

func (e *env) initiate(bucket, key string, hdrs ...string) string {
	e.t.Helper()
	r := e.req("POST", bucket, key).q("uploads", "")
	for i := 0; i+1 < len(hdrs); i += 2 {
		r.h(hdrs[i], hdrs[i+1])
	}
	var doc initiateDoc
	r.send().want(200).decode(&doc)
	if doc.Bucket != bucket || doc.Key != key || doc.UploadID == "" {
		e.t.Fatalf("initiate: %+v", doc)
	}
	return doc.UploadID
}

func TestMultipartEndToEnd(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("mpu")
	part1 := bytes.Repeat([]byte("a"), cellar.MinPartSize)
	source := strings.Repeat("0123456789", 100)
	e.mustPut("mpu", "source", source)

	id := e.initiate("mpu", "big file", "Content-Type", "video/mp4", "x-amz-meta-origin", "test", "x-amz-tagging", "k=v")
	up := func(n string, body []byte) *treq {
		return e.req("PUT", "mpu", "big file").q("partNumber", n).q("uploadId", id).data(body)
	}
	etag1 := up("1", part1).h("Content-MD5", md5b64(part1)).send().want(200).header.Get("ETag")
	if etag1 != `"`+md5hex(part1)+`"` {
		t.Errorf("part 1 ETag %q", etag1)
	}
	up("2", []byte("wrong")).h("Content-MD5", md5b64([]byte("right"))).send().wantError(400, "BadDigest")
	up("0", []byte("x")).send().wantError(400, "InvalidArgument")
	up("10001", []byte("x")).send().wantError(400, "InvalidArgument")

	// Part 2 is copied from bytes 100-199 of another object.
	var cp struct {
		XMLName xml.Name `xml:"CopyPartResult"`
		ETag    string   `xml:"ETag"`
	}
	e.req("PUT", "mpu", "big file").q("partNumber", "2").q("uploadId", id).
		h("x-amz-copy-source", "mpu/source").h("x-amz-copy-source-range", "bytes=100-199").
		send().want(200).decode(&cp)
	if cp.ETag != `"`+md5hex([]byte(source[100:200]))+`"` {
		t.Errorf("copied part ETag %q", cp.ETag)
	}
	e.req("PUT", "mpu", "big file").q("partNumber", "3").q("uploadId", id).
		h("x-amz-copy-source", "mpu/source").h("x-amz-copy-source-range", "bytes=0-5000").send().wantError(416, "InvalidRange")
	e.req("PUT", "mpu", "big file").q("partNumber", "3").q("uploadId", id).
		h("x-amz-copy-source", "mpu/source").h("x-amz-copy-source-range", "0-5").send().wantError(400, "InvalidArgument")
	e.req("PUT", "mpu", "big file").q("partNumber", "3").q("uploadId", id).
		h("x-amz-copy-source", "mpu/source").h("x-amz-copy-source-if-match", `"nope"`).send().wantError(412, "PreconditionFailed")
	// Part 3, uploaded then left out of the completion.
	up("3", []byte("left out")).send().want(200)

	var parts listPartsDoc
	e.req("GET", "mpu", "big file").q("uploadId", id).send().want(200).decode(&parts)
	if len(parts.Parts) != 3 || parts.Parts[0].Size != cellar.MinPartSize || parts.Parts[1].Size != 100 || parts.UploadID != id || parts.MaxParts != 1000 {
		t.Errorf("ListParts: %+v", parts)
	}
	parts = listPartsDoc{}
	e.req("GET", "mpu", "big file").q("uploadId", id).q("max-parts", "1").q("part-number-marker", "1").send().want(200).decode(&parts)
	if len(parts.Parts) != 1 || parts.Parts[0].PartNumber != 2 || !parts.IsTruncated || parts.NextPartNumberMarker != 2 {
		t.Errorf("ListParts page: %+v", parts)
	}

	var uploads listUploadsDoc
	e.req("GET", "mpu", "").q("uploads", "").send().want(200).decode(&uploads)
	if len(uploads.Uploads) != 1 || uploads.Uploads[0].Key != "big file" || uploads.Uploads[0].UploadID != id {
		t.Errorf("ListMultipartUploads: %+v", uploads)
	}

	complete := func(body string) *tresp {
		return e.req("POST", "mpu", "big file").q("uploadId", id).text(body).send()
	}
	complete(completeXML([2]string{"2", cp.ETag}, [2]string{"1", etag1})).wantError(400, "InvalidPartOrder")
	complete(completeXML([2]string{"1", `"00000000000000000000000000000000"`}, [2]string{"2", cp.ETag})).wantError(400, "InvalidPart")
	complete(completeXML([2]string{"2", cp.ETag}, [2]string{"3", `"` + md5hex([]byte("left out")) + `"`})).wantError(400, "EntityTooSmall")
	complete(`<CompleteMultipartUpload></CompleteMultipartUpload>`).wantError(400, "MalformedXML")
	complete(`<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>`).wantError(400, "MalformedXML")
	complete(`not xml`).wantError(400, "MalformedXML")

	var done struct {
		XMLName  xml.Name `xml:"CompleteMultipartUploadResult"`
		Location string   `xml:"Location"`
		Bucket   string   `xml:"Bucket"`
		Key      string   `xml:"Key"`
		ETag     string   `xml:"ETag"`
	}
	complete(completeXML([2]string{"1", etag1}, [2]string{"2", cp.ETag})).want(200).decode(&done)
	sum1, sum2 := md5.Sum(part1), md5.Sum([]byte(source[100:200]))
	whole := md5.Sum(append(sum1[:], sum2[:]...))
	wantETag := `"` + hex.EncodeToString(whole[:]) + `-2"`
	if done.ETag != wantETag || done.Key != "big file" || done.Bucket != "mpu" || !strings.HasSuffix(done.Location, "/mpu/big%20file") {
		t.Errorf("complete: %+v, want ETag %s", done, wantETag)
	}

	r := e.req("GET", "mpu", "big file").send().want(200)
	want := append(append([]byte{}, part1...), source[100:200]...)
	if !bytes.Equal(r.body, want) || r.header.Get("ETag") != wantETag || r.header.Get("Content-Type") != "video/mp4" ||
		r.header.Get("x-amz-meta-origin") != "test" || r.header.Get("x-amz-tagging-count") != "1" || r.header.Get("x-amz-mp-parts-count") != "" {
		t.Errorf("completed object: %d bytes, %v", len(r.body), r.header)
	}
	for _, method := range []string{"GET", "HEAD"} {
		r = e.req(method, "mpu", "big file").q("partNumber", "2").send().want(206)
		wantRange := fmt.Sprintf("bytes %d-%d/%d", cellar.MinPartSize, cellar.MinPartSize+99, cellar.MinPartSize+100)
		if r.header.Get("Content-Range") != wantRange || r.header.Get("x-amz-mp-parts-count") != "2" || r.header.Get("Content-Length") != "100" {
			t.Errorf("%s partNumber=2: %v", method, r.header)
		}
		if method == "GET" && string(r.body) != source[100:200] {
			t.Errorf("part 2 body %q", r.body)
		}
	}
	e.req("GET", "mpu", "big file").q("partNumber", "3").send().wantError(416, "InvalidPartNumber")
	r = e.req("GET", "mpu", "big file").h("Range", fmt.Sprintf("bytes=%d-", cellar.MinPartSize-2)).send().want(206)
	if string(r.body) != "aa"+source[100:200] {
		t.Errorf("range across parts: %q", r.body)
	}

	var attrs attributesDoc
	e.req("GET", "mpu", "big file").q("attributes", "").h("x-amz-object-attributes", "ETag,ObjectParts,ObjectSize").send().want(200).decode(&attrs)
	if attrs.ObjectParts == nil || attrs.ObjectParts.PartsCount != 2 || "\""+attrs.ETag+"\"" != wantETag || attrs.ObjectSize != int64(len(want)) {
		t.Errorf("attributes: %+v", attrs)
	}

	// The upload is gone.
	e.req("GET", "mpu", "big file").q("uploadId", id).send().wantError(404, "NoSuchUpload")
	complete(completeXML([2]string{"1", etag1})).wantError(404, "NoSuchUpload")
	d := up("4", []byte("x")).send().wantError(404, "NoSuchUpload")
	if d.UploadID != id {
		t.Errorf("NoSuchUpload names %q", d.UploadID)
	}
}

func TestMultipartAbortAndList(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("mpl")
	ids := map[string]string{}
	for _, k := range []string{"a/1", "a/2", "b", "c"} {
		ids[k] = e.initiate("mpl", k)
	}
	var doc listUploadsDoc
	e.req("GET", "mpl", "").q("uploads", "").q("delimiter", "/").send().want(200).decode(&doc)
	if len(doc.Uploads) != 2 || len(doc.CommonPrefixes) != 1 || doc.CommonPrefixes[0].Prefix != "a/" {
		t.Errorf("uploads with delimiter: %+v", doc)
	}
	// Page by one.
	var keys []string
	km, um := "", ""
	for i := 0; ; i++ {
		if i > 10 {
			t.Fatal("paging does not end")
		}
		r := e.req("GET", "mpl", "").q("uploads", "").q("max-uploads", "1")
		if km != "" {
			r.q("key-marker", km).q("upload-id-marker", um)
		}
		doc = listUploadsDoc{}
		r.send().want(200).decode(&doc)
		for _, u := range doc.Uploads {
			keys = append(keys, u.Key)
		}
		if !doc.IsTruncated {
			break
		}
		km, um = doc.NextKeyMarker, doc.NextUploadIDMarker
	}
	if strings.Join(keys, ",") != "a/1,a/2,b,c" {
		t.Errorf("paged uploads: %v", keys)
	}

	e.req("DELETE", "mpl", "b").q("uploadId", ids["b"]).send().want(204)
	e.req("DELETE", "mpl", "b").q("uploadId", ids["b"]).send().wantError(404, "NoSuchUpload")
	e.req("DELETE", "mpl", "c").q("uploadId", ids["b"]).send().wantError(404, "NoSuchUpload")
	e.req("DELETE", "mpl", "c").q("uploadId", "").send().wantError(404, "NoSuchUpload")
	e.req("GET", "mpl", "c").q("uploadId", "not-an-id").send().wantError(404, "NoSuchUpload")
	e.req("DELETE", "mpl", "").send().wantError(409, "BucketNotEmpty")
	e.req("GET", "mpl", "").q("uploads", "").q("max-uploads", "-1").send().wantError(400, "InvalidArgument")
	e.req("POST", "nompl", "k").q("uploads", "").send().wantError(404, "NoSuchBucket")

	// A single small part completes.
	id := ids["c"]
	etag := e.req("PUT", "mpl", "c").q("partNumber", "1").q("uploadId", id).text("tiny").send().want(200).header.Get("ETag")
	e.req("POST", "mpl", "c").q("uploadId", id).text(completeXML([2]string{"1", etag})).h("If-None-Match", "*").send().want(200)
	if got := e.mustGet("mpl", "c"); got != "tiny" {
		t.Errorf("single-part upload: %q", got)
	}
}

func TestMultipartVersionedCopySource(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("mpv")
	e.req("PUT", "mpv", "").q("versioning", "").text(`<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>`).send().want(200)
	v1 := e.mustPut("mpv", "src", "version one").header.Get("x-amz-version-id")
	v2 := e.mustPut("mpv", "src", "version two").header.Get("x-amz-version-id")
	id := e.initiate("mpv", "dst")
	r := e.req("PUT", "mpv", "dst").q("partNumber", "1").q("uploadId", id).h("x-amz-copy-source", "mpv/src").send().want(200)
	if r.header.Get("x-amz-copy-source-version-id") != v2 {
		t.Errorf("part copy source version %q, want %q", r.header.Get("x-amz-copy-source-version-id"), v2)
	}
	var cp struct {
		ETag string `xml:"ETag"`
	}
	r = e.req("PUT", "mpv", "dst").q("partNumber", "1").q("uploadId", id).h("x-amz-copy-source", "mpv/src?versionId="+v1).send().want(200).decode(&cp)
	if r.header.Get("x-amz-copy-source-version-id") != v1 {
		t.Errorf("part copy of v1: %v", r.header)
	}
	done := e.req("POST", "mpv", "dst").q("uploadId", id).text(completeXML([2]string{"1", cp.ETag})).send().want(200)
	if done.header.Get("x-amz-version-id") == "" {
		t.Error("complete in a versioned bucket without x-amz-version-id")
	}
	if got := e.mustGet("mpv", "dst"); got != "version one" {
		t.Errorf("completed from v1: %q", got)
	}
}
