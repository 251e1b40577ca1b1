package s3api

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/cellarhq/cellar"
	"github.com/cellarhq/cellar/internal/checksum"
	"github.com/cellarhq/cellar/s3api/sigv4"
)

// S3's messages for checksum headers that do not parse.
const (
	msgMultipleChecksums = "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."
	msgHeaderAndTrailer  = "Expecting a single x-amz-checksum- header"
	msgSDKAlgorithm      = "Value for x-amz-sdk-checksum-algorithm header is invalid."
	msgSDKWithoutValue   = "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found."
	msgTrailerName       = "The value specified in the x-amz-trailer header is not supported"
	msgAlgorithm         = "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]"
	msgChecksumType      = "Value for x-amz-checksum-type header is invalid."
	msgTypeWithoutAlg    = "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header."
)

// checksumRequest is what a PutObject or UploadPart asks the store to
// check: the additional checksum the client sent, in a header or in an
// aws-chunked trailer, and its Content-MD5.
type checksumRequest struct {
	cellar.Integrity
	// alg is the algorithm the client named, "" if none: the store then
	// computes its default (PutObject) or the upload's (UploadPart).
	alg checksum.Algorithm
	// trailer is the name of the trailing header that carries the
	// checksum, "" when it comes in a header or not at all.
	trailer string
	auth    *sigv4.Result
	// badTrailer is set when the trailing value was not a checksum of
	// alg, which the store reports as ErrInvalidRequest.
	badTrailer bool
}

// checksumHeaders finds the x-amz-checksum-<algorithm> headers of a
// request, in the order of checksum.Algorithms. An empty header counts: S3
// refuses two checksum headers even when one is empty.
func checksumHeaders(h http.Header) []checksum.Algorithm {
	var algs []checksum.Algorithm
	for _, a := range checksum.Algorithms() {
		if vs := h[http.CanonicalHeaderKey(a.HeaderName())]; len(vs) > 0 {
			algs = append(algs, a)
			if len(vs) > 1 {
				algs = append(algs, a) // sent twice: as many as two headers
			}
		}
	}
	return algs
}

// checksumRequest reads the checksum headers of PutObject and UploadPart
// as S3 does: at most one x-amz-checksum-<algorithm> header or one
// x-amz-checksum-* trailer named in x-amz-trailer (an aws-chunked body
// with trailers only); x-amz-sdk-checksum-algorithm, if sent, must name
// the same algorithm; a header value must be the base64 of one digest.
// Each failure is InvalidRequest with S3's message. Content-MD5 is passed
// to the store, which checks its form (InvalidDigest) and value
// (BadDigest).
func (q *request) checksumRequest() (*checksumRequest, error) {
	h := q.r.Header
	c := &checksumRequest{auth: q.auth}
	if v, ok := h["Content-Md5"]; ok {
		if len(v) != 1 || v[0] == "" {
			return nil, newError("InvalidDigest", "")
		}
		c.ContentMD5 = v[0]
	}
	headers := checksumHeaders(h)
	var trailers []checksum.Algorithm
	for _, v := range h.Values("X-Amz-Trailer") {
		for name := range strings.SplitSeq(v, ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			if !strings.HasPrefix(name, "x-amz-checksum-") {
				continue // another trailer: sigv4 checks that it arrives
			}
			a, ok := checksum.ByHeaderName(name)
			if !ok {
				return nil, newError("InvalidRequest", msgTrailerName)
			}
			trailers = append(trailers, a)
		}
	}
	switch {
	case len(headers) > 1 || len(trailers) > 1:
		return nil, newError("InvalidRequest", msgMultipleChecksums)
	case len(headers) == 1 && len(trailers) == 1:
		return nil, newError("InvalidRequest", msgHeaderAndTrailer)
	case len(headers) == 1:
		c.alg = headers[0]
	case len(trailers) == 1:
		c.alg = trailers[0]
		c.trailer = c.alg.HeaderName()
	}
	if v, ok := h["X-Amz-Sdk-Checksum-Algorithm"]; ok {
		a, err := checksum.ParseAlgorithm(v[0])
		switch {
		case err != nil:
			return nil, newError("InvalidRequest", msgSDKAlgorithm)
		case c.alg == "":
			return nil, newError("InvalidRequest", msgSDKWithoutValue)
		case a != c.alg:
			return nil, newError("InvalidRequest", msgSDKAlgorithm)
		}
	}
	if c.alg == "" {
		return c, nil
	}
	c.ChecksumAlgorithm = string(c.alg)
	if c.trailer == "" {
		v := h.Get(c.alg.HeaderName())
		if _, err := checksum.Decode(v, c.alg); err != nil {
			return nil, newError("InvalidRequest", "Value for "+c.alg.HeaderName()+" header is invalid.")
		}
		c.Checksum = v
		return c, nil
	}
	if q.auth == nil || q.auth.Trailer == nil || q.auth.PayloadHash != sigv4.StreamingPayloadTrailer && q.auth.PayloadHash != sigv4.StreamingUnsignedTrailer {
		// The trailer would never come: refuse rather than not check.
		return nil, newError("InvalidRequest", msgTrailerName)
	}
	c.TrailingChecksum = c.trailingValue
	return c, nil
}

// trailingValue is the checksum trailer, once the body has ended.
func (c *checksumRequest) trailingValue() string {
	v := c.auth.Trailer().Get(c.trailer)
	if _, err := checksum.Decode(v, c.alg); err != nil {
		c.badTrailer = true
	}
	return v
}

// fail gives S3's message to a store error about the request's checksum.
func (c *checksumRequest) fail(err error) error {
	if c.badTrailer && toError(err).Code == "InvalidRequest" {
		return newError("InvalidRequest", "Value for "+c.trailer+" trailing header is invalid.")
	}
	return err
}

// verify compares sum, the client's algorithm's digest of the whole body,
// with the header or trailer value; it is for a body the store checks by
// another algorithm (see uploadPart).
func (c *checksumRequest) verify(sum []byte) error {
	v := c.Checksum
	if c.trailer != "" {
		v = c.trailingValue()
		if c.badTrailer {
			return newError("InvalidRequest", "Value for "+c.trailer+" trailing header is invalid.")
		}
	}
	want, err := checksum.Decode(v, c.alg)
	if err != nil || !bytes.Equal(sum, want) {
		return badChecksum(c.alg)
	}
	return nil
}

func badChecksum(a checksum.Algorithm) *apiError {
	return newError("BadDigest", "The "+string(a)+" you specified did not match the calculated checksum.")
}

// uploadChecksum reads x-amz-checksum-algorithm and x-amz-checksum-type of
// CreateMultipartUpload, with S3's messages for values it refuses. The
// type is "" when the request gives none.
func uploadChecksum(h http.Header) (alg checksum.Algorithm, ctype string, err error) {
	if v, ok := h["X-Amz-Checksum-Algorithm"]; ok {
		if alg, err = checksum.ParseAlgorithm(v[0]); err != nil {
			return "", "", newError("InvalidRequest", msgAlgorithm)
		}
	}
	v, ok := h["X-Amz-Checksum-Type"]
	if !ok {
		return alg, "", nil
	}
	ctype = strings.ToUpper(v[0])
	switch {
	case ctype != cellar.ChecksumFullObject && ctype != cellar.ChecksumComposite:
		return "", "", newError("InvalidRequest", msgChecksumType)
	case alg == "":
		return "", "", newError("InvalidRequest", msgTypeWithoutAlg)
	case ctype == cellar.ChecksumFullObject && !alg.SupportsFullObject(), ctype == cellar.ChecksumComposite && !alg.SupportsComposite():
		return "", "", newError("InvalidRequest", "The "+ctype+" checksum type cannot be used with the "+strings.ToLower(string(alg))+" checksum algorithm.")
	}
	return alg, ctype, nil
}

// defaultChecksumType is the type S3 gives an upload of alg that names
// none: COMPOSITE where the algorithm allows it, else FULL_OBJECT.
func defaultChecksumType(alg checksum.Algorithm) string {
	if alg.SupportsComposite() {
		return cellar.ChecksumComposite
	}
	return cellar.ChecksumFullObject
}

// copyChecksumAlgorithm reads x-amz-checksum-algorithm of CopyObject.
func copyChecksumAlgorithm(h http.Header) (string, error) {
	v, ok := h["X-Amz-Checksum-Algorithm"]
	if !ok {
		return "", nil
	}
	alg, err := checksum.ParseAlgorithm(v[0])
	if err != nil {
		return "", newError("InvalidRequest", msgAlgorithm)
	}
	return string(alg), nil
}

// completeChecksum reads the whole-object checksum a
// CompleteMultipartUpload may carry in x-amz-checksum-<algorithm>. A
// COMPOSITE value may be sent without its "-N" suffix, as minio-go does
// (and S3 accepts): when x-amz-checksum-type or the algorithm says
// COMPOSITE, the suffix for the parts listed is added.
func completeChecksum(h http.Header, parts int) (string, error) {
	algs := checksumHeaders(h)
	if len(algs) == 0 {
		return "", nil
	}
	if len(algs) > 1 {
		return "", newError("InvalidRequest", msgMultipleChecksums)
	}
	alg := algs[0]
	ctype := ""
	if v, ok := h["X-Amz-Checksum-Type"]; ok {
		ctype = strings.ToUpper(v[0])
		if ctype != cellar.ChecksumFullObject && ctype != cellar.ChecksumComposite {
			return "", newError("InvalidRequest", msgChecksumType)
		}
	}
	v := h.Get(alg.HeaderName())
	invalid := newError("InvalidRequest", "Value for "+alg.HeaderName()+" header is invalid.")
	if _, _, err := checksum.DecodeComposite(v, alg); err == nil {
		return v, nil
	}
	if _, err := checksum.Decode(v, alg); err != nil {
		return "", invalid
	}
	if ctype == cellar.ChecksumComposite || ctype == "" && !alg.SupportsFullObject() {
		v += "-" + strconv.Itoa(parts)
	}
	return v, nil
}

// algorithmOf names the algorithm of a part's checksum by its digest
// size, where only one algorithm has that size (CRC64NVME, SHA1, SHA256);
// a 4-byte digest may be CRC32 or CRC32C and gives "". The store does not
// say which algorithm an upload keeps, so this is how ListParts and the
// answers of UploadPart and UploadPartCopy name it.
func algorithmOf(value string) checksum.Algorithm {
	b, err := base64.StdEncoding.Strict().DecodeString(value)
	if err != nil {
		return ""
	}
	var found checksum.Algorithm
	for _, a := range checksum.Algorithms() {
		if a.Size() == len(b) {
			if found != "" {
				return ""
			}
			found = a
		}
	}
	return found
}

// checksumHeaderName is the header of a cellar.Checksum's algorithm, ""
// for one the handler does not know.
func checksumHeaderName(alg string) string {
	a, err := checksum.ParseAlgorithm(alg)
	if err != nil {
		return ""
	}
	return a.HeaderName()
}

// setChecksumHeaders sets x-amz-checksum-<algorithm> and, with withType,
// x-amz-checksum-type, as S3 answers PutObject, CompleteMultipartUpload
// and (with x-amz-checksum-mode) GetObject and HeadObject.
func setChecksumHeaders(hdr http.Header, ck cellar.Checksum, withType bool) {
	name := checksumHeaderName(ck.Algorithm)
	if name == "" || ck.Value == "" {
		return
	}
	hdr.Set(name, ck.Value)
	if withType && ck.Type != "" {
		hdr.Set("x-amz-checksum-type", ck.Type)
	}
}

// checksumElements are the ChecksumXXX elements of S3's XML: in answers
// (CopyObjectResult, CompleteMultipartUploadResult, Part, Checksum) at
// most one is set; in a CompleteMultipartUpload request each part may
// carry one.
type checksumElements struct {
	ChecksumCRC32     string `xml:"ChecksumCRC32,omitempty"`
	ChecksumCRC32C    string `xml:"ChecksumCRC32C,omitempty"`
	ChecksumCRC64NVME string `xml:"ChecksumCRC64NVME,omitempty"`
	ChecksumSHA1      string `xml:"ChecksumSHA1,omitempty"`
	ChecksumSHA256    string `xml:"ChecksumSHA256,omitempty"`
}

func (c *checksumElements) fields() map[checksum.Algorithm]*string {
	return map[checksum.Algorithm]*string{
		checksum.CRC32: &c.ChecksumCRC32, checksum.CRC32C: &c.ChecksumCRC32C, checksum.CRC64NVME: &c.ChecksumCRC64NVME,
		checksum.SHA1: &c.ChecksumSHA1, checksum.SHA256: &c.ChecksumSHA256,
	}
}

// set sets the element of alg (any case) to value; an unknown algorithm
// sets nothing.
func (c *checksumElements) set(alg, value string) {
	a, err := checksum.ParseAlgorithm(alg)
	if err != nil {
		return
	}
	*c.fields()[a] = value
}

// value is the first element given, in the order of checksum.Algorithms.
func (c *checksumElements) value() string {
	f := c.fields()
	for _, a := range checksum.Algorithms() {
		if v := strings.TrimSpace(*f[a]); v != "" {
			return v
		}
	}
	return ""
}

// contentHeaders reads the system metadata a write stores with an object:
// Cache-Control, Content-Disposition, Content-Encoding without the
// aws-chunked coding of SigV4 streaming, Content-Language and Expires.
func contentHeaders(h http.Header) cellar.ContentHeaders {
	get := func(name string) string { return strings.Join(h.Values(name), ", ") }
	return cellar.ContentHeaders{
		CacheControl:       get("Cache-Control"),
		ContentDisposition: get("Content-Disposition"),
		ContentEncoding:    contentEncoding(h),
		ContentLanguage:    get("Content-Language"),
		Expires:            get("Expires"),
	}
}

// contentEncoding is the Content-Encoding of a request without the
// aws-chunked coding of SigV4 streaming, which is not the object's.
func contentEncoding(h http.Header) string {
	var rest []string
	for _, v := range h.Values("Content-Encoding") {
		for c := range strings.SplitSeq(v, ",") {
			if c = strings.TrimSpace(c); c != "" && !strings.EqualFold(c, "aws-chunked") {
				rest = append(rest, c)
			}
		}
	}
	return strings.Join(rest, ",")
}

// setContentHeaders sets the system metadata stored with an object.
func setContentHeaders(hdr http.Header, ch cellar.ContentHeaders) {
	for _, f := range []struct{ name, value string }{
		{"Cache-Control", ch.CacheControl},
		{"Content-Disposition", ch.ContentDisposition},
		{"Content-Encoding", ch.ContentEncoding},
		{"Content-Language", ch.ContentLanguage},
		{"Expires", ch.Expires},
	} {
		if f.value != "" {
			hdr.Set(f.name, f.value)
		}
	}
}
