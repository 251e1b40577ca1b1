package s3api

import (
	"encoding/xml"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cellarhq/cellar"
)

type initiateMultipartUploadResult struct {
	XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ InitiateMultipartUploadResult"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	UploadID string   `xml:"UploadId"`
}

// createMultipartUpload serves CreateMultipartUpload: the content type,
// system and user metadata and tags are the completed object's, and
// x-amz-checksum-algorithm and x-amz-checksum-type choose its checksum
// (CRC64NVME FULL_OBJECT when none is named), echoed in the answer.
func (h *handler) createMultipartUpload(q *request) error {
	if err := checkWriteHeaders(q); err != nil {
		return err
	}
	opts, err := putOptions(q)
	if err != nil {
		return err
	}
	alg, ctype, err := uploadChecksum(q.r.Header)
	if err != nil {
		return err
	}
	opts.ChecksumAlgorithm, opts.ChecksumType = string(alg), ctype
	u, err := h.store.Bucket(q.bucket).CreateMultipartUpload(q.ctx, q.key, opts)
	if err != nil {
		return err
	}
	if alg != "" {
		if ctype == "" {
			ctype = defaultChecksumType(alg)
		}
		q.w.Header().Set("x-amz-checksum-algorithm", string(alg))
		q.w.Header().Set("x-amz-checksum-type", ctype)
	}
	return q.writeXML(http.StatusOK, &initiateMultipartUploadResult{Bucket: q.bucket, Key: q.key, UploadID: u.ID()})
}

// upload finds the upload a request names with ?uploadId.
func (h *handler) upload(q *request) (*cellar.MultipartUpload, error) {
	id := q.query.Get("uploadId")
	if id == "" {
		return nil, newError("NoSuchUpload", "")
	}
	return h.store.Bucket(q.bucket).MultipartUpload(q.ctx, q.key, id)
}

// partNumber reads ?partNumber of UploadPart and UploadPartCopy.
func partNumber(q *request) (int, error) {
	v, ok := q.query["partNumber"]
	if !ok {
		return 0, errInvalidArgument("Part number must be an integer between 1 and 10000, inclusive", "partNumber", "")
	}
	n, err := strconv.Atoi(v[0])
	if err != nil || n < 1 || n > cellar.MaxParts {
		return 0, errInvalidArgument("Part number must be an integer between 1 and 10000, inclusive", "partNumber", v[0])
	}
	return n, nil
}

// uploadPart serves UploadPart. The store checks the part as it streams
// (length, Content-MD5, checksum) and computes its checksum by the
// upload's algorithm.
//
// A part may carry a checksum of another algorithm than its upload's:
// SDKs add a CRC32 to every part by default, also to uploads created
// without an algorithm, whose parts the store checksums with CRC64NVME.
// The store refuses such a part before reading any of it, so the handler
// then sends the body again, checking the client's checksum itself as the
// body ends, and answers with the store's checksum (which Complete
// accepts) rather than the client's.
func (h *handler) uploadPart(q *request) error {
	n, err := partNumber(q)
	if err != nil {
		return err
	}
	size, err := q.declaredLength()
	if err != nil {
		return err
	}
	if size > cellar.MaxPartSize {
		return newError("EntityTooLarge", fmt.Sprintf("Your proposed part of %d bytes exceeds the maximum allowed part size of %d bytes.", size, int64(cellar.MaxPartSize)))
	}
	ck, err := q.checksumRequest()
	if err != nil {
		return err
	}
	u, err := h.upload(q)
	if err != nil {
		return err
	}
	body := newPayload(q.body, size)
	alg := ck.alg
	part, err := u.UploadPart(q.ctx, n, body, &cellar.PartOptions{Size: size, Integrity: ck.Integrity})
	if alg != "" && !body.started && errors.Is(err, cellar.ErrInvalidRequest) {
		// The upload keeps another algorithm (see above).
		body = newPayload(q.body, size).withDigest(alg.New(), ck.verify)
		alg = ""
		part, err = u.UploadPart(q.ctx, n, body, &cellar.PartOptions{Size: size, Integrity: cellar.Integrity{ContentMD5: ck.ContentMD5}})
	}
	if err != nil {
		return ck.fail(err)
	}
	q.w.Header().Set("ETag", quoteETag(part.ETag))
	if alg == "" {
		alg = algorithmOf(part.Checksum)
	}
	if alg != "" && part.Checksum != "" {
		q.w.Header().Set(alg.HeaderName(), part.Checksum)
	}
	return q.ok()
}

type copyPartResult struct {
	XMLName      xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CopyPartResult"`
	LastModified string   `xml:"LastModified"`
	ETag         string   `xml:"ETag"`
	checksumElements
}

// uploadPartCopy serves UploadPartCopy. The store does not say which
// version it copied, so when the source bucket keeps versions the handler
// pins the source's current version first, to copy it and name it in
// x-amz-copy-source-version-id.
func (h *handler) uploadPartCopy(q *request) error {
	n, err := partNumber(q)
	if err != nil {
		return err
	}
	if err := checkSSEHeaders(q.r.Header); err != nil {
		return err
	}
	src, err := parseCopySource(q.r.Header.Get("x-amz-copy-source"))
	if err != nil {
		return err
	}
	opts := &cellar.PartCopyOptions{SourceVersionID: src.versionID}
	if v := q.r.Header.Get("x-amz-copy-source-range"); v != "" {
		first, last, err := parseCopyRange(v)
		if err != nil {
			return err
		}
		opts.Range = &[2]int64{first, last}
	}
	opts.CopySourceIfMatch, opts.CopySourceIfNoneMatch, opts.CopySourceIfModifiedSince, opts.CopySourceIfUnmodifiedSince = copySourceConditions(q.r.Header)
	u, err := h.upload(q)
	if err != nil {
		return err
	}
	srcBucket := h.store.Bucket(src.bucket)
	state, err := srcBucket.Versioning(q.ctx)
	if err != nil {
		return err
	}
	if state != cellar.VersioningUnversioned && opts.SourceVersionID == "" {
		info, err := srcBucket.Head(q.ctx, src.key, nil)
		if err != nil {
			return sourceError(err)
		}
		opts.SourceVersionID = info.VersionID
	}
	part, err := u.UploadPartCopy(q.ctx, n, src.bucket, src.key, opts)
	if err != nil {
		return sourceError(err)
	}
	if state != cellar.VersioningUnversioned {
		q.w.Header().Set("x-amz-copy-source-version-id", opts.SourceVersionID)
	}
	res := &copyPartResult{LastModified: iso8601(part.LastModified), ETag: quoteETag(part.ETag)}
	res.set(string(algorithmOf(part.Checksum)), part.Checksum)
	return q.writeXML(http.StatusOK, res)
}

// completeRequest is the body of CompleteMultipartUpload, in any
// namespace.
type completeRequest struct {
	XMLName xml.Name `xml:"CompleteMultipartUpload"`
	Parts   []struct {
		PartNumber *int    `xml:"PartNumber"`
		ETag       *string `xml:"ETag"`
		checksumElements
	} `xml:"Part"`
}

// parseComplete decodes a CompleteMultipartUpload body: at least one part,
// each with a PartNumber and an ETag, else MalformedXML, and optionally
// its checksum. The order and the parts themselves, and their checksums,
// are the store's to check.
func parseComplete(data []byte) ([]cellar.CompletedPart, error) {
	var c completeRequest
	if err := decodeXML(data, &c); err != nil {
		return nil, err
	}
	if len(c.Parts) == 0 || len(c.Parts) > cellar.MaxParts {
		return nil, errMalformedXML("")
	}
	parts := make([]cellar.CompletedPart, len(c.Parts))
	for i, p := range c.Parts {
		if p.PartNumber == nil || p.ETag == nil {
			return nil, errMalformedXML("")
		}
		parts[i] = cellar.CompletedPart{PartNumber: *p.PartNumber, ETag: strings.TrimSpace(*p.ETag), Checksum: p.value()}
	}
	return parts, nil
}

type completeMultipartUploadResult struct {
	XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CompleteMultipartUploadResult"`
	Location string   `xml:"Location"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	ETag     string   `xml:"ETag"`
	checksumElements
	ChecksumType string `xml:"ChecksumType,omitempty"`
}

// completeMultipartUpload serves CompleteMultipartUpload. The store
// completes an upload in one index commit, without copying data, so the
// answer comes at once and a failure is a plain error status: the handler
// never sends S3's early 200 followed by an <Error> body.
func (h *handler) completeMultipartUpload(q *request) error {
	data, err := q.readBody(maxXMLBodyLarge)
	if err != nil {
		return err
	}
	parts, err := parseComplete(data)
	if err != nil {
		return err
	}
	opts := &cellar.CompleteOptions{IfMatch: q.r.Header.Get("If-Match")}
	if opts.Checksum, err = completeChecksum(q.r.Header, len(parts)); err != nil {
		return err
	}
	if v := q.r.Header.Get("If-None-Match"); v != "" {
		if v != "*" {
			return errNotImplemented("If-None-Match on a write supports only \"*\".", "If-None-Match")
		}
		opts.IfNoneMatch = v
	}
	u, err := h.upload(q)
	if err != nil {
		return err
	}
	info, err := u.Complete(q.ctx, parts, opts)
	if err != nil {
		return err
	}
	h.versionIDHeader(q, q.bucket, info.VersionID)
	setChecksumHeaders(q.w.Header(), info.Checksum, true)
	setLifecycleHeaders(q.w.Header(), info)
	res := &completeMultipartUploadResult{
		Location:     q.objectURL(),
		Bucket:       q.bucket,
		Key:          q.key,
		ETag:         quoteETag(info.ETag),
		ChecksumType: info.Checksum.Type,
	}
	res.set(info.Checksum.Algorithm, info.Checksum.Value)
	return q.writeXML(http.StatusOK, res)
}

// objectURL is the URL of the object a request addresses, in the style it
// was addressed.
func (q *request) objectURL() string {
	scheme := "http"
	if q.r.TLS != nil {
		scheme = "https"
	}
	path := "/" + q.bucket + "/" + q.key
	if q.virtualHost {
		path = "/" + q.key
	}
	return (&url.URL{Scheme: scheme, Host: q.r.Host, Path: path}).String()
}

// abortMultipartUpload serves AbortMultipartUpload.
func (h *handler) abortMultipartUpload(q *request) error {
	u, err := h.upload(q)
	if err != nil {
		return err
	}
	if err := u.Abort(q.ctx); err != nil {
		return err
	}
	return q.noContent()
}

type listPartsResult struct {
	XMLName              xml.Name    `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListPartsResult"`
	Bucket               string      `xml:"Bucket"`
	Key                  string      `xml:"Key"`
	UploadID             string      `xml:"UploadId"`
	PartNumberMarker     int         `xml:"PartNumberMarker"`
	NextPartNumberMarker int         `xml:"NextPartNumberMarker"`
	MaxParts             int         `xml:"MaxParts"`
	IsTruncated          bool        `xml:"IsTruncated"`
	Parts                []partEntry `xml:"Part"`
	Initiator            owner       `xml:"Initiator"`
	Owner                owner       `xml:"Owner"`
	StorageClass         string      `xml:"StorageClass"`
	ChecksumAlgorithm    string      `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType         string      `xml:"ChecksumType,omitempty"`
}

type partEntry struct {
	PartNumber   int    `xml:"PartNumber"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
	checksumElements
}

// listParts serves ListParts.
func (h *handler) listParts(q *request) error {
	maxParts, err := intParam(q, "max-parts", cellar.MaxListParts, 0, math.MaxInt32, "Argument max-parts must be an integer between 0 and 2147483647")
	if err != nil {
		return err
	}
	marker, err := intParam(q, "part-number-marker", 0, 0, math.MaxInt32, "Argument part-number-marker must be an integer between 0 and 2147483647")
	if err != nil {
		return err
	}
	u, err := h.upload(q)
	if err != nil {
		return err
	}
	res := listPartsResult{
		Bucket:           q.bucket,
		Key:              q.key,
		UploadID:         u.ID(),
		PartNumberMarker: marker,
		MaxParts:         maxParts,
		Initiator:        theOwner,
		Owner:            theOwner,
		StorageClass:     cellar.StorageClassStandard,
	}
	if maxParts > 0 {
		page, err := u.ListParts(q.ctx, &cellar.ListPartsOptions{PartNumberMarker: marker, MaxParts: maxParts})
		if err != nil {
			return err
		}
		// The store does not say which algorithm the upload keeps: it is
		// named where the parts' digest size tells it (see algorithmOf).
		for _, p := range page.Parts {
			e := partEntry{PartNumber: p.PartNumber, LastModified: iso8601(p.LastModified), ETag: quoteETag(p.ETag), Size: p.Size}
			if a := algorithmOf(p.Checksum); a != "" {
				e.set(string(a), p.Checksum)
				res.ChecksumAlgorithm, res.ChecksumType = string(a), defaultChecksumType(a)
			}
			res.Parts = append(res.Parts, e)
		}
		res.IsTruncated = page.IsTruncated
		res.NextPartNumberMarker = page.NextPartNumberMarker
	}
	return q.writeXML(http.StatusOK, &res)
}

type listMultipartUploadsResult struct {
	XMLName            xml.Name       `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListMultipartUploadsResult"`
	Bucket             string         `xml:"Bucket"`
	KeyMarker          string         `xml:"KeyMarker"`
	UploadIDMarker     string         `xml:"UploadIdMarker"`
	NextKeyMarker      string         `xml:"NextKeyMarker"`
	NextUploadIDMarker string         `xml:"NextUploadIdMarker"`
	Delimiter          string         `xml:"Delimiter,omitempty"`
	Prefix             string         `xml:"Prefix"`
	MaxUploads         int            `xml:"MaxUploads"`
	EncodingType       string         `xml:"EncodingType,omitempty"`
	IsTruncated        bool           `xml:"IsTruncated"`
	Uploads            []uploadEntry  `xml:"Upload"`
	CommonPrefixes     []commonPrefix `xml:"CommonPrefixes"`
}

type uploadEntry struct {
	Key          string `xml:"Key"`
	UploadID     string `xml:"UploadId"`
	Initiator    owner  `xml:"Initiator"`
	Owner        owner  `xml:"Owner"`
	StorageClass string `xml:"StorageClass"`
	Initiated    string `xml:"Initiated"`
}

// listMultipartUploads serves ListMultipartUploads.
func (h *handler) listMultipartUploads(q *request) error {
	maxUploads, err := intParam(q, "max-uploads", cellar.MaxListUploads, 0, math.MaxInt32, "Argument max-uploads must be an integer between 0 and 2147483647")
	if err != nil {
		return err
	}
	encode, encType, err := encodingType(q)
	if err != nil {
		return err
	}
	prefix, delimiter := q.query.Get("prefix"), q.query.Get("delimiter")
	keyMarker, idMarker := q.query.Get("key-marker"), q.query.Get("upload-id-marker")
	res := listMultipartUploadsResult{
		Bucket:         q.bucket,
		KeyMarker:      encode(keyMarker),
		UploadIDMarker: idMarker,
		Delimiter:      encode(delimiter),
		Prefix:         encode(prefix),
		MaxUploads:     maxUploads,
		EncodingType:   encType,
	}
	opts := &cellar.ListUploadsOptions{Prefix: prefix, Delimiter: delimiter, KeyMarker: keyMarker, UploadIDMarker: idMarker, MaxUploads: maxUploads}
	if cp := commonPrefixOf(keyMarker, prefix, delimiter); cp != "" {
		// As for ListObjectVersions: skip every key under the marker's
		// common prefix.
		opts.KeyMarker, opts.UploadIDMarker = cp, ""
	}
	b := h.store.Bucket(q.bucket)
	if maxUploads == 0 {
		opts.MaxUploads = 1
		if _, err := b.ListMultipartUploads(q.ctx, opts); err != nil {
			return err
		}
		return q.writeXML(http.StatusOK, &res)
	}
	page, err := b.ListMultipartUploads(q.ctx, opts)
	if err != nil {
		return err
	}
	for _, u := range page.Uploads {
		res.Uploads = append(res.Uploads, uploadEntry{
			Key:          encode(u.Key),
			UploadID:     u.UploadID,
			Initiator:    theOwner,
			Owner:        theOwner,
			StorageClass: u.StorageClass,
			Initiated:    iso8601(u.Initiated),
		})
	}
	for _, cp := range page.CommonPrefixes {
		res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{Prefix: encode(cp)})
	}
	res.IsTruncated = page.IsTruncated
	if page.IsTruncated {
		res.NextKeyMarker = encode(page.NextKeyMarker)
		res.NextUploadIDMarker = page.NextUploadIDMarker
	}
	return q.writeXML(http.StatusOK, &res)
}
