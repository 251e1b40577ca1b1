package s3api

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cellarhq/cellar"
	"github.com/cellarhq/cellar/internal/checksum"
	"github.com/cellarhq/cellar/s3api/sigv4"
)

// checksumDoc reads the ChecksumXXX elements of an answer.
type checksumDoc struct {
	CRC32     string `xml:"ChecksumCRC32"`
	CRC32C    string `xml:"ChecksumCRC32C"`
	CRC64NVME string `xml:"ChecksumCRC64NVME"`
	SHA1      string `xml:"ChecksumSHA1"`
	SHA256    string `xml:"ChecksumSHA256"`
	Type      string `xml:"ChecksumType"`
}

func (d checksumDoc) get(alg checksum.Algorithm) string {
	return map[checksum.Algorithm]string{
		checksum.CRC32: d.CRC32, checksum.CRC32C: d.CRC32C, checksum.CRC64NVME: d.CRC64NVME, checksum.SHA1: d.SHA1, checksum.SHA256: d.SHA256,
	}[alg]
}

// checksumHeadersOf lists the x-amz-checksum-* headers of an answer.
func checksumHeadersOf(h http.Header) []string {
	var names []string
	for name := range h {
		if l := strings.ToLower(name); strings.HasPrefix(l, "x-amz-checksum-") {
			names = append(names, l)
		}
	}
	return names
}

// streamPut sends an aws-chunked PUT of payload with the given trailers
// and extra headers.
func (e *env) streamPut(bucket, key string, query map[string]string, payload []byte, o *sigv4.StreamOptions, hdrs ...string) *tresp {
	e.t.Helper()
	r := e.req("PUT", bucket, key)
	for k, v := range query {
		r.q(k, v)
	}
	hr := r.anon().build()
	for i := 0; i+1 < len(hdrs); i += 2 {
		hr.Header.Set(hdrs[i], hdrs[i+1])
	}
	if err := sigv4.SignStreaming(hr, testCreds, e.region, time.Now(), payload, o); err != nil {
		e.t.Fatal(err)
	}
	return e.do(hr)
}

func wantMessage(t *testing.T, doc *s3ErrorDoc, want string) {
	t.Helper()
	if doc.Message != want {
		t.Errorf("message %q, want %q", doc.Message, want)
	}
}

func TestPutObjectChecksumHeader(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("cks")
	body := []byte("checksummed body")
	// No checksum asked: the store's default, CRC64NVME, is answered.
	r := e.mustPut("cks", "default", string(body))
	if got := r.header.Get("x-amz-checksum-crc64nvme"); got != sumB64(checksum.CRC64NVME, body) || r.header.Get("x-amz-checksum-type") != "FULL_OBJECT" {
		t.Errorf("default PutObject checksum headers: %v", r.header)
	}
	for _, alg := range checksum.Algorithms() {
		key := "obj-" + string(alg)
		right := sumB64(alg, body)
		r := e.req("PUT", "cks", key).data(body).h(alg.HeaderName(), right).send().want(200)
		if got := r.header.Get(alg.HeaderName()); got != right || r.header.Get("x-amz-checksum-type") != "FULL_OBJECT" {
			t.Errorf("%s: answer %s=%q type %q, want %q FULL_OBJECT", alg, alg.HeaderName(), got, r.header.Get("x-amz-checksum-type"), right)
		}
		if n := len(checksumHeadersOf(r.header)); n != 2 {
			t.Errorf("%s: answer has %d checksum headers: %v", alg, n, r.header)
		}
		// With x-amz-sdk-checksum-algorithm naming the same algorithm.
		e.req("PUT", "cks", key).data(body).h(alg.HeaderName(), right).h("x-amz-sdk-checksum-algorithm", strings.ToLower(string(alg))).send().want(200)

		// A wrong checksum is BadDigest and stores nothing.
		wrong := sumB64(alg, []byte("other"))
		doc := e.req("PUT", "cks", "bad-"+key).data(body).h(alg.HeaderName(), wrong).send().wantError(400, "BadDigest")
		if !strings.Contains(doc.Message, string(alg)) {
			t.Errorf("%s: BadDigest message %q does not name the algorithm", alg, doc.Message)
		}
		e.req("HEAD", "cks", "bad-"+key).send().want(404)
		// A value that is not the base64 of one digest is InvalidRequest.
		for _, v := range []string{"not base64!", "", "AAAA", right + "=="} {
			doc := e.req("PUT", "cks", "bad-"+key).data(body).h(alg.HeaderName(), v).send().wantError(400, "InvalidRequest")
			wantMessage(t, doc, "Value for "+alg.HeaderName()+" header is invalid.")
		}
		e.req("HEAD", "cks", "bad-"+key).send().want(404)
	}
	// The existing object survives a failed overwrite.
	e.req("PUT", "cks", "obj-CRC32").text("new").h("x-amz-checksum-crc32", sumB64(checksum.CRC32, body)).send().wantError(400, "BadDigest")
	if got := e.mustGet("cks", "obj-CRC32"); got != string(body) {
		t.Errorf("a put with a bad checksum changed the object: %q", got)
	}

	for _, tc := range []struct {
		name string
		hdrs []string
		msg  string
	}{
		{"two headers", []string{"x-amz-checksum-crc32", sumB64(checksum.CRC32, body), "x-amz-checksum-sha1", sumB64(checksum.SHA1, body)}, msgMultipleChecksums},
		{"two empty headers", []string{"x-amz-checksum-crc32", "", "x-amz-checksum-crc32c", ""}, msgMultipleChecksums},
		{"one header twice", []string{"x-amz-checksum-crc32", sumB64(checksum.CRC32, body), "x-amz-checksum-crc32", sumB64(checksum.CRC32, body)}, msgMultipleChecksums},
		{"sdk algorithm alone", []string{"x-amz-sdk-checksum-algorithm", "CRC32"}, msgSDKWithoutValue},
		{"sdk algorithm differs", []string{"x-amz-sdk-checksum-algorithm", "CRC32", "x-amz-checksum-crc32c", sumB64(checksum.CRC32C, body)}, msgSDKAlgorithm},
		{"sdk algorithm unknown", []string{"x-amz-sdk-checksum-algorithm", "MD5", "x-amz-checksum-crc32", sumB64(checksum.CRC32, body)}, msgSDKAlgorithm},
		{"trailer without aws-chunked", []string{"x-amz-trailer", "x-amz-checksum-crc32"}, msgTrailerName},
		{"unknown trailer", []string{"x-amz-trailer", "x-amz-checksum-md5"}, msgTrailerName},
	} {
		r := e.req("PUT", "cks", "refused").data(body)
		for i := 0; i+1 < len(tc.hdrs); i += 2 {
			r.h(tc.hdrs[i], tc.hdrs[i+1])
		}
		doc := r.send().wantError(400, "InvalidRequest")
		if doc.Message != tc.msg {
			t.Errorf("%s: message %q, want %q", tc.name, doc.Message, tc.msg)
		}
	}
	e.req("HEAD", "cks", "refused").send().want(404)
	// Unknown x-amz-checksum-* headers and the CreateMultipartUpload ones
	// are not checksums of the body.
	e.req("PUT", "cks", "other").data(body).h("x-amz-checksum-algorithm", "SHA1").h("x-amz-checksum-type", "COMPOSITE").h("x-amz-checksum-crc32", sumB64(checksum.CRC32, body)).send().want(200)
}

func TestPutObjectChecksumTrailer(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("trl")
	payload := bytes.Repeat([]byte("trailing checksum "), 5000)
	for _, alg := range checksum.Algorithms() {
		for _, unsigned := range []bool{false, true} {
			key := fmt.Sprintf("%s-%v", alg, unsigned)
			tr := func(v string) *sigv4.StreamOptions {
				return &sigv4.StreamOptions{ChunkSize: 16 << 10, Unsigned: unsigned, Trailer: http.Header{http.CanonicalHeaderKey(alg.HeaderName()): {v}}}
			}
			right := sumB64(alg, payload)
			r := e.streamPut("trl", key, nil, payload, tr(right), "x-amz-sdk-checksum-algorithm", string(alg)).want(200)
			if r.header.Get(alg.HeaderName()) != right || r.header.Get("x-amz-checksum-type") != "FULL_OBJECT" {
				t.Errorf("%s: answer headers %v", key, r.header)
			}
			got := e.req("GET", "trl", key).h("x-amz-checksum-mode", "ENABLED").send().want(200)
			if !bytes.Equal(got.body, payload) || got.header.Get(alg.HeaderName()) != right || got.header.Get("Content-Encoding") != "" {
				t.Errorf("%s: read back %d bytes, headers %v", key, len(got.body), got.header)
			}
			// A wrong trailer is BadDigest and stores nothing; so is a
			// trailer that is no checksum of the algorithm, with S3's
			// message.
			e.streamPut("trl", "bad-"+key, nil, payload, tr(sumB64(alg, payload[1:]))).wantError(400, "BadDigest")
			doc := e.streamPut("trl", "bad-"+key, nil, payload, tr("!!")).wantError(400, "InvalidRequest")
			wantMessage(t, doc, "Value for "+alg.HeaderName()+" trailing header is invalid.")
			e.req("HEAD", "trl", "bad-"+key).send().want(404)
		}
	}
	// A wrong trailer over an existing object leaves it.
	e.streamPut("trl", "CRC32-false", nil, []byte("other"), &sigv4.StreamOptions{Trailer: http.Header{"X-Amz-Checksum-Crc32": {sumB64(checksum.CRC32, payload)}}}).wantError(400, "BadDigest")
	if got := e.mustGet("trl", "CRC32-false"); got != string(payload) {
		t.Errorf("a put with a bad trailer changed the object: %d bytes", len(got))
	}
	// An empty body with a trailer.
	e.streamPut("trl", "empty", nil, nil, &sigv4.StreamOptions{Trailer: http.Header{"X-Amz-Checksum-Crc32c": {sumB64(checksum.CRC32C, nil)}}}).want(200)
	// A header and a trailer are two checksums.
	doc := e.streamPut("trl", "two", nil, payload, &sigv4.StreamOptions{Trailer: http.Header{"X-Amz-Checksum-Crc32": {sumB64(checksum.CRC32, payload)}}},
		"x-amz-checksum-sha1", sumB64(checksum.SHA1, payload)).wantError(400, "InvalidRequest")
	wantMessage(t, doc, msgHeaderAndTrailer)
	// The trailer must be the algorithm x-amz-sdk-checksum-algorithm names.
	e.streamPut("trl", "two", nil, payload, &sigv4.StreamOptions{Trailer: http.Header{"X-Amz-Checksum-Crc32": {sumB64(checksum.CRC32, payload)}}},
		"x-amz-sdk-checksum-algorithm", "SHA256").wantError(400, "InvalidRequest")
	// An aws-chunked body without trailers may still carry a header.
	e.streamPut("trl", "hdr", nil, payload, nil, "x-amz-checksum-sha256", sumB64(checksum.SHA256, payload)).want(200)
	e.streamPut("trl", "hdr-bad", nil, payload, nil, "x-amz-checksum-sha256", sumB64(checksum.SHA256, nil)).wantError(400, "BadDigest")
	e.req("HEAD", "trl", "two").send().want(404)
	e.req("HEAD", "trl", "hdr-bad").send().want(404)
}

func TestChecksumMode(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("mode")
	body := []byte("0123456789")
	e.req("PUT", "mode", "k").data(body).h("x-amz-checksum-sha256", sumB64(checksum.SHA256, body)).send().want(200)
	want := sumB64(checksum.SHA256, body)
	for _, method := range []string{"GET", "HEAD"} {
		r := e.req(method, "mode", "k").h("x-amz-checksum-mode", "ENABLED").send().want(200)
		if r.header.Get("x-amz-checksum-sha256") != want || r.header.Get("x-amz-checksum-type") != "FULL_OBJECT" {
			t.Errorf("%s with checksum mode: %v", method, r.header)
		}
		if h := checksumHeadersOf(e.req(method, "mode", "k").send().want(200).header); len(h) != 0 {
			t.Errorf("%s without checksum mode: %v", method, h)
		}
		// A range's bytes are not what the checksum covers: none is sent.
		r = e.req(method, "mode", "k").h("x-amz-checksum-mode", "ENABLED").h("Range", "bytes=0-3").send().want(206)
		if h := checksumHeadersOf(r.header); len(h) != 0 {
			t.Errorf("%s of a range with checksum mode: %v", method, h)
		}
		// Even a range of the whole object.
		r = e.req(method, "mode", "k").h("x-amz-checksum-mode", "ENABLED").h("Range", "bytes=0-").send().want(206)
		if h := checksumHeadersOf(r.header); len(h) != 0 {
			t.Errorf("%s of a whole range with checksum mode: %v", method, h)
		}
		// Part 1 of an object not uploaded in parts is the object.
		r = e.req(method, "mode", "k").q("partNumber", "1").h("x-amz-checksum-mode", "ENABLED").send().want(206)
		if r.header.Get("x-amz-checksum-sha256") != want {
			t.Errorf("%s partNumber=1 with checksum mode: %v", method, r.header)
		}
	}
	// A part of a multipart object: the store gives no part checksum, so
	// none is sent (the whole object's would not match the part's bytes).
	id := e.initiate("mode", "mp")
	p1 := bytes.Repeat([]byte("p"), cellar.MinPartSize)
	etag1 := e.req("PUT", "mode", "mp").q("partNumber", "1").q("uploadId", id).data(p1).send().want(200).header.Get("ETag")
	etag2 := e.req("PUT", "mode", "mp").q("partNumber", "2").q("uploadId", id).text("tail").send().want(200).header.Get("ETag")
	e.req("POST", "mode", "mp").q("uploadId", id).text(completeXML([2]string{"1", etag1}, [2]string{"2", etag2})).send().want(200)
	r := e.req("GET", "mode", "mp").q("partNumber", "2").h("x-amz-checksum-mode", "ENABLED").send().want(206)
	if h := checksumHeadersOf(r.header); len(h) != 0 || string(r.body) != "tail" {
		t.Errorf("GET partNumber=2 of a multipart object with checksum mode: %v", h)
	}
	whole := append(append([]byte(nil), p1...), "tail"...)
	r = e.req("HEAD", "mode", "mp").h("x-amz-checksum-mode", "ENABLED").send().want(200)
	if r.header.Get("x-amz-checksum-crc64nvme") != sumB64(checksum.CRC64NVME, whole) || r.header.Get("x-amz-checksum-type") != "FULL_OBJECT" {
		t.Errorf("HEAD of a multipart object with checksum mode: %v", r.header)
	}
}

func TestMultipartChecksums(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("mpc")
	parts := [][]byte{bytes.Repeat([]byte("1"), cellar.MinPartSize), []byte("last part")}
	whole := append(append([]byte(nil), parts[0]...), parts[1]...)

	// SHA256, COMPOSITE by default.
	r := e.req("POST", "mpc", "sha").q("uploads", "").h("x-amz-checksum-algorithm", "sha256").send().want(200)
	if r.header.Get("x-amz-checksum-algorithm") != "SHA256" || r.header.Get("x-amz-checksum-type") != "COMPOSITE" {
		t.Errorf("CreateMultipartUpload answer: %v", r.header)
	}
	var doc initiateDoc
	r.decode(&doc)
	id := doc.UploadID
	var etags []string
	var sums [][]byte
	for i, p := range parts {
		pn := fmt.Sprint(i + 1)
		// A wrong part checksum is BadDigest and leaves no part.
		e.req("PUT", "mpc", "sha").q("partNumber", pn).q("uploadId", id).data(p).h("x-amz-checksum-sha256", sumB64(checksum.SHA256, nil)).send().wantError(400, "BadDigest")
		r := e.req("PUT", "mpc", "sha").q("partNumber", pn).q("uploadId", id).data(p).h("x-amz-checksum-sha256", sumB64(checksum.SHA256, p)).send().want(200)
		if r.header.Get("x-amz-checksum-sha256") != sumB64(checksum.SHA256, p) {
			t.Errorf("UploadPart %s answer: %v", pn, r.header)
		}
		etags = append(etags, r.header.Get("ETag"))
		sums = append(sums, checksum.SHA256.Sum(p))
	}
	// A part with a checksum of another algorithm than the upload's: the
	// client's checksum is checked, and the part gets the upload's (see
	// uploadPart; S3 would refuse it for an upload that named its
	// algorithm).
	r = e.req("PUT", "mpc", "sha").q("partNumber", "3").q("uploadId", id).text("extra").h("x-amz-checksum-crc32", sumB64(checksum.CRC32, []byte("extra"))).send().want(200)
	if r.header.Get("x-amz-checksum-sha256") != sumB64(checksum.SHA256, []byte("extra")) || r.header.Get("x-amz-checksum-crc32") != "" {
		t.Errorf("UploadPart with another algorithm: %v", r.header)
	}
	e.req("PUT", "mpc", "sha").q("partNumber", "4").q("uploadId", id).text("extra").h("x-amz-checksum-crc32", sumB64(checksum.CRC32, nil)).send().wantError(400, "BadDigest")
	var lp struct {
		XMLName           xml.Name `xml:"ListPartsResult"`
		ChecksumAlgorithm string   `xml:"ChecksumAlgorithm"`
		ChecksumType      string   `xml:"ChecksumType"`
		Parts             []struct {
			PartNumber int `xml:"PartNumber"`
			checksumDoc
		} `xml:"Part"`
	}
	e.req("GET", "mpc", "sha").q("uploadId", id).send().want(200).decode(&lp)
	if lp.ChecksumAlgorithm != "SHA256" || lp.ChecksumType != "COMPOSITE" || len(lp.Parts) != 3 || lp.Parts[0].SHA256 != sumB64(checksum.SHA256, parts[0]) || lp.Parts[1].SHA256 != sumB64(checksum.SHA256, parts[1]) {
		t.Errorf("ListParts: %+v", lp)
	}
	// Complete: a part checksum that is not the part's is InvalidPart.
	bad := fmt.Sprintf(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag><ChecksumSHA256>%s</ChecksumSHA256></Part></CompleteMultipartUpload>`, etags[0], sumB64(checksum.SHA256, nil))
	e.req("POST", "mpc", "sha").q("uploadId", id).text(bad).send().wantError(400, "InvalidPart")
	body := fmt.Sprintf(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag><ChecksumSHA256>%s</ChecksumSHA256></Part>`+
		`<Part><PartNumber>2</PartNumber><ETag>%s</ETag><ChecksumSHA256>%s</ChecksumSHA256></Part></CompleteMultipartUpload>`,
		etags[0], sumB64(checksum.SHA256, parts[0]), etags[1], sumB64(checksum.SHA256, parts[1]))
	composite := checksum.EncodeComposite(checksum.Composite(checksum.SHA256, sums), 2)
	// A wrong whole-object checksum is BadDigest and keeps the upload.
	e.req("POST", "mpc", "sha").q("uploadId", id).text(body).h("x-amz-checksum-sha256", sumB64(checksum.SHA256, nil)).send().wantError(400, "BadDigest")
	e.req("POST", "mpc", "sha").q("uploadId", id).text(body).h("x-amz-checksum-sha256", "???").send().wantError(400, "InvalidRequest")
	// The right one may come without its -N (as minio-go sends it).
	var res struct {
		XMLName xml.Name `xml:"CompleteMultipartUploadResult"`
		ETag    string   `xml:"ETag"`
		checksumDoc
	}
	r = e.req("POST", "mpc", "sha").q("uploadId", id).text(body).h("x-amz-checksum-sha256", strings.TrimSuffix(composite, "-2")).send().want(200).decode(&res)
	if res.SHA256 != composite || res.Type != "COMPOSITE" || r.header.Get("x-amz-checksum-sha256") != composite || r.header.Get("x-amz-checksum-type") != "COMPOSITE" {
		t.Errorf("CompleteMultipartUpload: %+v, headers %v", res, r.header)
	}
	r = e.req("HEAD", "mpc", "sha").h("x-amz-checksum-mode", "ENABLED").send().want(200)
	if r.header.Get("x-amz-checksum-sha256") != composite || r.header.Get("x-amz-checksum-type") != "COMPOSITE" {
		t.Errorf("HEAD of a COMPOSITE object: %v", r.header)
	}
	var attrs struct {
		Checksum checksumDoc `xml:"Checksum"`
	}
	e.req("GET", "mpc", "sha").q("attributes", "").h("x-amz-object-attributes", "Checksum").send().want(200).decode(&attrs)
	if attrs.Checksum.SHA256 != strings.TrimSuffix(composite, "-2") || attrs.Checksum.Type != "COMPOSITE" {
		t.Errorf("GetObjectAttributes Checksum of a COMPOSITE object: %+v", attrs.Checksum)
	}

	// CRC32 FULL_OBJECT, checked against the whole object at Complete.
	id = e.initiate("mpc", "full", "x-amz-checksum-algorithm", "CRC32", "x-amz-checksum-type", "FULL_OBJECT")
	etags = etags[:0]
	for i, p := range parts {
		etags = append(etags, e.req("PUT", "mpc", "full").q("partNumber", fmt.Sprint(i+1)).q("uploadId", id).data(p).
			h("x-amz-sdk-checksum-algorithm", "CRC32").h("x-amz-checksum-crc32", sumB64(checksum.CRC32, p)).send().want(200).header.Get("ETag"))
	}
	plain := completeXML([2]string{"1", etags[0]}, [2]string{"2", etags[1]})
	e.req("POST", "mpc", "full").q("uploadId", id).text(plain).h("x-amz-checksum-crc32", sumB64(checksum.CRC32, parts[0])).send().wantError(400, "BadDigest")
	e.req("POST", "mpc", "full").q("uploadId", id).text(plain).h("x-amz-checksum-crc32", "x").h("x-amz-checksum-crc32c", "y").send().wantError(400, "InvalidRequest")
	r = e.req("POST", "mpc", "full").q("uploadId", id).text(plain).h("x-amz-checksum-crc32", sumB64(checksum.CRC32, whole)).h("x-amz-checksum-type", "FULL_OBJECT").send().want(200)
	res.checksumDoc = checksumDoc{}
	r.decode(&res)
	if res.CRC32 != sumB64(checksum.CRC32, whole) || res.Type != "FULL_OBJECT" {
		t.Errorf("CompleteMultipartUpload FULL_OBJECT: %+v", res)
	}
	attrs.Checksum = checksumDoc{}
	e.req("GET", "mpc", "full").q("attributes", "").h("x-amz-object-attributes", "Checksum,ObjectSize").send().want(200).decode(&attrs)
	if attrs.Checksum.CRC32 != sumB64(checksum.CRC32, whole) || attrs.Checksum.Type != "FULL_OBJECT" {
		t.Errorf("GetObjectAttributes Checksum of a FULL_OBJECT object: %+v", attrs.Checksum)
	}

	// An upload created without an algorithm keeps CRC64NVME; a part may
	// still carry another checksum, as SDKs send by default: it is checked,
	// and the answer gives the upload's.
	id = e.initiate("mpc", "default")
	r = e.req("PUT", "mpc", "default").q("partNumber", "1").q("uploadId", id).data(parts[1]).h("x-amz-checksum-crc32", sumB64(checksum.CRC32, parts[1])).send().want(200)
	if r.header.Get("x-amz-checksum-crc64nvme") != sumB64(checksum.CRC64NVME, parts[1]) || len(checksumHeadersOf(r.header)) != 1 {
		t.Errorf("UploadPart with CRC32 to a default upload: %v", r.header)
	}
	e.streamPut("mpc", "default", map[string]string{"partNumber": "2", "uploadId": id}, parts[1],
		&sigv4.StreamOptions{Unsigned: true, Trailer: http.Header{"X-Amz-Checksum-Crc32": {sumB64(checksum.CRC32, parts[0])}}}).wantError(400, "BadDigest")
	doc2 := e.streamPut("mpc", "default", map[string]string{"partNumber": "2", "uploadId": id}, parts[1],
		&sigv4.StreamOptions{Unsigned: true, Trailer: http.Header{"X-Amz-Checksum-Crc32": {"!!"}}}).wantError(400, "InvalidRequest")
	wantMessage(t, doc2, "Value for x-amz-checksum-crc32 trailing header is invalid.")
	e.streamPut("mpc", "default", map[string]string{"partNumber": "2", "uploadId": id}, parts[1],
		&sigv4.StreamOptions{Unsigned: true, Trailer: http.Header{"X-Amz-Checksum-Crc32": {sumB64(checksum.CRC32, parts[1])}}}).want(200)
	lp.Parts = nil
	e.req("GET", "mpc", "default").q("uploadId", id).send().want(200).decode(&lp)
	if len(lp.Parts) != 2 || lp.ChecksumAlgorithm != "CRC64NVME" || lp.ChecksumType != "FULL_OBJECT" || lp.Parts[1].CRC64NVME != sumB64(checksum.CRC64NVME, parts[1]) {
		t.Errorf("ListParts of a default upload: %+v", lp)
	}

	// CreateMultipartUpload refuses what S3 refuses.
	for _, tc := range []struct{ hdrs []string }{
		{[]string{"x-amz-checksum-algorithm", "MD5"}},
		{[]string{"x-amz-checksum-type", "FULL_OBJECT"}},
		{[]string{"x-amz-checksum-algorithm", "CRC32", "x-amz-checksum-type", "PARTIAL"}},
		{[]string{"x-amz-checksum-algorithm", "SHA1", "x-amz-checksum-type", "FULL_OBJECT"}},
		{[]string{"x-amz-checksum-algorithm", "CRC64NVME", "x-amz-checksum-type", "COMPOSITE"}},
	} {
		r := e.req("POST", "mpc", "refused").q("uploads", "")
		for i := 0; i+1 < len(tc.hdrs); i += 2 {
			r.h(tc.hdrs[i], tc.hdrs[i+1])
		}
		r.send().wantError(400, "InvalidRequest")
	}
	r = e.req("POST", "mpc", "c64").q("uploads", "").h("x-amz-checksum-algorithm", "CRC64NVME").send().want(200)
	if r.header.Get("x-amz-checksum-type") != "FULL_OBJECT" {
		t.Errorf("CRC64NVME upload type: %v", r.header)
	}
	var l listUploadsDoc
	e.req("GET", "mpc", "").q("uploads", "").send().want(200).decode(&l)
	for _, u := range l.Uploads {
		if u.Key == "refused" {
			t.Errorf("a refused CreateMultipartUpload made an upload")
		}
	}
}

func TestCopyObjectChecksum(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("cpc")
	body := []byte("copy me")
	e.req("PUT", "cpc", "src").data(body).h("x-amz-checksum-sha1", sumB64(checksum.SHA1, body)).send().want(200)
	var res struct {
		XMLName xml.Name `xml:"CopyObjectResult"`
		checksumDoc
	}
	// The source's algorithm by default.
	e.req("PUT", "cpc", "dst").h("x-amz-copy-source", "cpc/src").send().want(200).decode(&res)
	if res.SHA1 != sumB64(checksum.SHA1, body) || res.Type != "FULL_OBJECT" {
		t.Errorf("CopyObject result: %+v", res)
	}
	for _, alg := range checksum.Algorithms() {
		res.checksumDoc = checksumDoc{}
		e.req("PUT", "cpc", "dst-"+string(alg)).h("x-amz-copy-source", "cpc/src").h("x-amz-checksum-algorithm", strings.ToLower(string(alg))).send().want(200).decode(&res)
		if res.get(alg) != sumB64(alg, body) || res.Type != "FULL_OBJECT" {
			t.Errorf("CopyObject with %s: %+v", alg, res)
		}
		r := e.req("HEAD", "cpc", "dst-"+string(alg)).h("x-amz-checksum-mode", "ENABLED").send().want(200)
		if r.header.Get(alg.HeaderName()) != sumB64(alg, body) {
			t.Errorf("HEAD of a copy with %s: %v", alg, r.header)
		}
	}
	doc := e.req("PUT", "cpc", "dst").h("x-amz-copy-source", "cpc/src").h("x-amz-checksum-algorithm", "MD5").send().wantError(400, "InvalidRequest")
	wantMessage(t, doc, msgAlgorithm)
}

func TestContentHeaders(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("chd")
	put := map[string]string{
		"Cache-Control":       "max-age=60",
		"Content-Disposition": `attachment; filename="a.txt"`,
		"Content-Encoding":    "gzip",
		"Content-Language":    "de-CH",
		"Expires":             "Thu, 01 Dec 2044 16:00:00 GMT",
	}
	check := func(key string, want map[string]string) {
		t.Helper()
		for _, method := range []string{"GET", "HEAD"} {
			// identity keeps the test client from gunzipping the body.
			r := e.req(method, "chd", key).h("Accept-Encoding", "identity").send().want(200)
			for _, name := range []string{"Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language", "Expires"} {
				if got := r.header.Get(name); got != want[name] {
					t.Errorf("%s %s: %s %q, want %q", method, key, name, got, want[name])
				}
			}
		}
	}
	r := e.req("PUT", "chd", "k").text("x")
	for k, v := range put {
		r.h(k, v)
	}
	r.send().want(200)
	check("k", put)
	// response-* parameters win over what is stored.
	g := e.req("GET", "chd", "k").q("response-cache-control", "no-store").q("response-content-encoding", "identity").send().want(200)
	if g.header.Get("Cache-Control") != "no-store" || g.header.Get("Content-Encoding") != "identity" || g.header.Get("Content-Language") != "de-CH" {
		t.Errorf("response overrides: %v", g.header)
	}
	// aws-chunked is the request's coding, not the object's: it is dropped,
	// and nothing is stored when nothing else is left.
	e.streamPut("chd", "chunked", nil, []byte("streamed"), nil, "Content-Encoding", "aws-chunked").want(200)
	check("chunked", nil)
	for in, want := range map[string]string{"aws-chunked": "", "aws-chunked,gzip": "gzip", "gzip, AWS-CHUNKED, br": "gzip,br", "identity": "identity"} {
		if got := contentEncoding(http.Header{"Content-Encoding": {in}}); got != want {
			t.Errorf("Content-Encoding %q stored as %q, want %q", in, got, want)
		}
	}
	// CreateMultipartUpload stores them for the completed object.
	r = e.req("POST", "chd", "mp").q("uploads", "")
	for k, v := range put {
		r.h(k, v)
	}
	var doc initiateDoc
	r.send().want(200).decode(&doc)
	etag := e.req("PUT", "chd", "mp").q("partNumber", "1").q("uploadId", doc.UploadID).text("part").send().want(200).header.Get("ETag")
	e.req("POST", "chd", "mp").q("uploadId", doc.UploadID).text(completeXML([2]string{"1", etag})).send().want(200)
	check("mp", put)
	// CopyObject keeps the source's unless REPLACE, which takes the
	// request's (and drops the others).
	e.req("PUT", "chd", "copy").h("x-amz-copy-source", "chd/k").h("Cache-Control", "ignored").send().want(200)
	check("copy", put)
	e.req("PUT", "chd", "copy").h("x-amz-copy-source", "chd/k").h("x-amz-metadata-directive", "REPLACE").h("Cache-Control", "no-cache").send().want(200)
	check("copy", map[string]string{"Cache-Control": "no-cache"})
}
