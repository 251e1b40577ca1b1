package s3api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cellarhq/cellar"
)

// putObject serves PutObject. The store checks the body as it streams:
// its length, Content-MD5 and additional checksum (a header, or a trailer
// read once the aws-chunked body ends), and commits nothing if one fails.
func (h *handler) putObject(q *request) error {
	if err := checkWriteHeaders(q); err != nil {
		return err
	}
	size, err := q.declaredLength()
	if err != nil {
		return err
	}
	if size > cellar.MaxPutSize {
		return newError("EntityTooLarge", fmt.Sprintf("Your proposed upload of %d bytes exceeds the maximum allowed object size of %d bytes for a single PUT; use a multipart upload.", size, int64(cellar.MaxPutSize)))
	}
	ck, err := q.checksumRequest()
	if err != nil {
		return err
	}
	opts, err := putOptions(q)
	if err != nil {
		return err
	}
	opts.Size = size
	opts.Integrity = ck.Integrity
	if v := q.r.Header.Get("If-None-Match"); v != "" {
		if v != "*" {
			return errNotImplemented("If-None-Match on a write supports only \"*\".", "If-None-Match")
		}
		opts.IfNoneMatch = v
	}
	opts.IfMatch = q.r.Header.Get("If-Match")
	info, err := h.store.Bucket(q.bucket).Put(q.ctx, q.key, newPayload(q.body, size), opts)
	if err != nil {
		return ck.fail(err)
	}
	q.w.Header().Set("ETag", quoteETag(info.ETag))
	setChecksumHeaders(q.w.Header(), info.Checksum, true)
	setLifecycleHeaders(q.w.Header(), info)
	h.versionIDHeader(q, q.bucket, info.VersionID)
	return q.ok()
}

// putOptions reads what PutObject and CreateMultipartUpload share: the
// content type, the system metadata (Cache-Control and the like), user
// metadata, tags and the storage class (checked by checkWriteHeaders).
func putOptions(q *request) (*cellar.PutOptions, error) {
	tags, err := parseTaggingHeader(q.r.Header)
	if err != nil {
		return nil, err
	}
	return &cellar.PutOptions{
		ContentType:    q.r.Header.Get("Content-Type"),
		ContentHeaders: contentHeaders(q.r.Header),
		Metadata:       userMetadata(q.r.Header),
		Tags:           tags,
		StorageClass:   q.r.Header.Get("x-amz-storage-class"),
	}, nil
}

// userMetadata collects the x-amz-meta-* headers, names lowercased.
// Repeated headers are joined with commas, as HTTP folds them.
func userMetadata(h http.Header) map[string]string {
	var md map[string]string
	for name, values := range h {
		lower := strings.ToLower(name)
		if !strings.HasPrefix(lower, "x-amz-meta-") {
			continue
		}
		if md == nil {
			md = make(map[string]string)
		}
		md[strings.TrimPrefix(lower, "x-amz-meta-")] = strings.Join(values, ",")
	}
	return md
}

// parseTaggingHeader reads x-amz-tagging: tags as URL query parameters.
func parseTaggingHeader(h http.Header) (map[string]string, error) {
	v, ok := h["X-Amz-Tagging"]
	if !ok {
		return nil, nil
	}
	return parseTagQuery(v[0])
}

// parseTagQuery parses tags written as a URL query ("k1=v1&k2=v2"), each
// name once.
func parseTagQuery(s string) (map[string]string, error) {
	bad := errInvalidArgument("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.", "x-amz-tagging", s)
	vals, err := url.ParseQuery(s)
	if err != nil {
		return nil, bad
	}
	if len(vals) == 0 {
		return nil, nil
	}
	tags := make(map[string]string, len(vals))
	for k, vs := range vals {
		if len(vs) != 1 {
			return nil, bad
		}
		tags[k] = vs[0]
	}
	return tags, nil
}

// storageClasses are S3's storage classes: true for those the store keeps,
// false for those of other kinds of bucket (Outposts, Snow, directory
// buckets, FSx), which are NotImplemented.
var storageClasses = map[string]bool{
	cellar.StorageClassStandard: true, cellar.StorageClassReducedRedundancy: true,
	cellar.StorageClassStandardIA: true, cellar.StorageClassOnezoneIA: true,
	cellar.StorageClassIntelligentTiering: true, cellar.StorageClassGlacier: true,
	cellar.StorageClassDeepArchive: true, cellar.StorageClassGlacierIR: true,
	"OUTPOSTS": false, "SNOW": false, "EXPRESS_ONEZONE": false, "FSX_OPENZFS": false,
}

// checkWriteHeaders refuses the headers of PutObject, CopyObject and
// CreateMultipartUpload that ask for what the store cannot keep, so that a
// client never takes a write for what it asked: ACL grants, server-side
// encryption, Object Lock, website redirects and storage classes of other
// kinds of bucket.
func checkWriteHeaders(q *request) error {
	h := q.r.Header
	if err := checkACLHeaders(h); err != nil {
		return err
	}
	if err := checkSSEHeaders(h); err != nil {
		return err
	}
	if sc := h.Get("x-amz-storage-class"); sc != "" {
		ok, known := storageClasses[sc]
		if !known {
			return newError("InvalidStorageClass", "").with("StorageClassRequested", sc)
		}
		if !ok {
			return errNotImplemented("The storage class "+sc+" is not implemented by this server.", "x-amz-storage-class")
		}
	}
	for name := range h {
		lower := strings.ToLower(name)
		if strings.HasPrefix(lower, "x-amz-object-lock-") {
			return errNotImplemented("Object Lock is not implemented by this server.", name)
		}
	}
	if h.Get("x-amz-website-redirect-location") != "" {
		return errNotImplemented("Website redirects are not implemented by this server.", "x-amz-website-redirect-location")
	}
	return nil
}

// checkSSEHeaders refuses server-side encryption, which the store does not
// do.
func checkSSEHeaders(h http.Header) error {
	for name := range h {
		lower := strings.ToLower(name)
		if strings.HasPrefix(lower, "x-amz-server-side-encryption") || strings.HasPrefix(lower, "x-amz-copy-source-server-side-encryption") {
			return errNotImplemented("Server-side encryption is not implemented by this server.", name)
		}
	}
	return nil
}

// getOptions reads the version, part number and conditions of GetObject,
// HeadObject and GetObjectAttributes.
func (h *handler) getOptions(q *request) (*cellar.GetOptions, error) {
	o := &cellar.GetOptions{}
	if v, ok := q.query["versionId"]; ok {
		if v[0] == "" {
			return nil, errInvalidArgument("Version id cannot be the empty string", "versionId", "")
		}
		o.VersionID = v[0]
	}
	if v, ok := q.query["partNumber"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > cellar.MaxParts {
			return nil, errInvalidArgument("Part number must be an integer between 1 and 10000, inclusive", "partNumber", v[0])
		}
		o.PartNumber = n
	}
	hdr := q.r.Header
	o.IfMatch = hdr.Get("If-Match")
	o.IfNoneMatch = hdr.Get("If-None-Match")
	now := h.clock()
	if t, err := http.ParseTime(hdr.Get("If-Modified-Since")); err == nil && !t.After(now) {
		// A date in the future is not a valid If-Modified-Since (RFC 9110).
		o.IfModifiedSince = t
	}
	if t, err := http.ParseTime(hdr.Get("If-Unmodified-Since")); err == nil {
		o.IfUnmodifiedSince = t
	}
	return o, nil
}

// responseOverrides are GetObject's parameters that set a header of the
// answer.
var responseOverrides = []struct{ param, header string }{
	{"response-cache-control", "Cache-Control"},
	{"response-content-disposition", "Content-Disposition"},
	{"response-content-encoding", "Content-Encoding"},
	{"response-content-language", "Content-Language"},
	{"response-content-type", "Content-Type"},
	{"response-expires", "Expires"},
}

func (h *handler) getObject(q *request) error  { return h.serveObject(q, false) }
func (h *handler) headObject(q *request) error { return h.serveObject(q, true) }

// serveObject serves GetObject and HeadObject: conditions, a range or a
// part, the object's headers, and (for GET) its bytes.
func (h *handler) serveObject(q *request, head bool) error {
	if err := checkSSEHeaders(q.r.Header); err != nil {
		return err
	}
	opts, err := h.getOptions(q)
	if err != nil {
		return err
	}
	rangeHeader := q.r.Header.Get("Range")
	if opts.PartNumber > 0 && rangeHeader != "" {
		return newError("InvalidRequest", "Cannot specify both Range header and partNumber query parameter")
	}
	for _, o := range responseOverrides {
		if _, ok := q.query[o.param]; ok && q.auth.Anonymous {
			return newError("InvalidRequest", "Request specific response headers cannot be used for anonymous GET requests.")
		}
	}
	b := h.store.Bucket(q.bucket)
	var obj *cellar.Object
	var info cellar.ObjectInfo
	if head {
		info, err = b.Head(q.ctx, q.key, opts)
	} else {
		obj, err = b.Get(q.ctx, q.key, opts)
		if err == nil {
			defer obj.Close()
			info = obj.Info()
		} else if errors.Is(err, cellar.ErrNotModified) {
			// Get opens nothing when a condition fails; Head says what
			// the 304 carries.
			info, _ = b.Head(q.ctx, q.key, opts)
		}
	}
	if err != nil {
		if errors.Is(err, cellar.ErrNotModified) && info.ETag != "" {
			hdr := q.w.Header()
			hdr.Set("ETag", quoteETag(info.ETag))
			hdr.Set("Last-Modified", httpDate(info.LastModified))
			h.versionIDHeader(q, q.bucket, info.VersionID)
		}
		return err
	}

	hdr := q.w.Header()
	status := http.StatusOK
	start, length := int64(0), info.Size
	// With x-amz-checksum-mode: ENABLED the object's checksum is sent when
	// it describes the bytes sent: not for a range, nor for a part of a
	// multipart object, whose own checksum the store does not give.
	sendChecksum := strings.EqualFold(q.r.Header.Get("x-amz-checksum-mode"), "ENABLED")
	switch {
	case opts.PartNumber > 0:
		if info.PartsCount > 0 {
			sendChecksum = false
		}
		if info.PartsCount > 0 {
			hdr.Set("x-amz-mp-parts-count", strconv.Itoa(info.PartsCount))
		}
		if info.Size > 0 {
			// A part is a range of the object: 206 with its place in it.
			off, total, err := h.partOffset(q, b, info, opts.PartNumber)
			if err != nil {
				return err
			}
			hdr.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, off+info.Size-1, total))
			status = http.StatusPartialContent
		}
	case rangeHeader != "":
		r, ok, err := parseRange(rangeHeader, info.Size)
		if err != nil {
			return err
		}
		if ok {
			start, length = r.start, r.length
			hdr.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, start+length-1, info.Size))
			status = http.StatusPartialContent
			sendChecksum = false
		}
	}
	h.objectHeaders(q, info)
	if sendChecksum {
		setChecksumHeaders(hdr, info.Checksum, true)
	}
	for _, o := range responseOverrides {
		if v, ok := q.query[o.param]; ok {
			hdr.Set(o.header, v[0])
		}
	}
	hdr.Set("Content-Length", strconv.FormatInt(length, 10))
	q.writeHeader(status)
	if head || length == 0 {
		return nil
	}
	return h.copyOut(q, obj, start, length)
}

// copyOut streams length bytes of obj from start. The status line is out:
// a read failure aborts the connection (through fail), and a client that
// went away ends the copy quietly.
func (h *handler) copyOut(q *request, obj *cellar.Object, start, length int64) error {
	// The object's bytes go to the connection straight from the store's
	// block buffers. A failed write means the client went away; only a
	// failed read is an error worth returning.
	w := &clientWriter{w: q.w}
	if _, err := obj.WriteRange(w, start, length); err != nil {
		if w.err != nil {
			h.log.Debug("s3api: client went away", "request", q.id, "err", w.err)
			return nil
		}
		return fmt.Errorf("s3api: read %s/%s: %w", q.bucket, q.key, err)
	}
	return nil
}

// clientWriter keeps the first error of writing to the client.
type clientWriter struct {
	w   io.Writer
	err error
}

func (c *clientWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if err != nil && c.err == nil {
		c.err = err
	}
	return n, err
}

// partOffset finds where part n of an object lies in it and the object's
// whole size, for the Content-Range of a GET by part number. The store
// gives a part's size only, so the offset is the sum of the sizes of the
// parts before it, read for the same version.
func (h *handler) partOffset(q *request, b *cellar.Bucket, info cellar.ObjectInfo, n int) (off, total int64, err error) {
	if info.PartsCount == 0 {
		return 0, info.Size, nil
	}
	whole, err := b.Head(q.ctx, q.key, &cellar.GetOptions{VersionID: info.VersionID})
	if err != nil {
		return 0, 0, err
	}
	for i := 1; i < n; i++ {
		p, err := b.Head(q.ctx, q.key, &cellar.GetOptions{VersionID: info.VersionID, PartNumber: i})
		if err != nil {
			return 0, 0, err
		}
		off += p.Size
	}
	return off, whole.Size, nil
}

// objectHeaders sets the headers that describe an object version.
func (h *handler) objectHeaders(q *request, info cellar.ObjectInfo) {
	hdr := q.w.Header()
	hdr.Set("ETag", quoteETag(info.ETag))
	hdr.Set("Last-Modified", httpDate(info.LastModified))
	hdr.Set("Content-Type", info.ContentType)
	setContentHeaders(hdr, info.ContentHeaders)
	hdr.Set("Accept-Ranges", "bytes")
	for k, v := range info.Metadata {
		hdr["x-amz-meta-"+k] = []string{v}
	}
	if info.TagCount > 0 {
		hdr.Set("x-amz-tagging-count", strconv.Itoa(info.TagCount))
	}
	if info.StorageClass != "" && info.StorageClass != cellar.StorageClassStandard {
		hdr.Set("x-amz-storage-class", info.StorageClass)
	}
	setLifecycleHeaders(hdr, info)
	h.versionIDHeader(q, q.bucket, info.VersionID)
}

// deleteObject serves DeleteObject.
func (h *handler) deleteObject(q *request) error {
	for _, name := range []string{"If-Match", "x-amz-if-match-last-modified-time", "x-amz-if-match-size"} {
		if q.r.Header.Get(name) != "" {
			return errNotImplemented("Conditional deletes are not implemented by this server.", name)
		}
	}
	if q.r.Header.Get("x-amz-mfa") != "" {
		return errNotImplemented("MFA Delete is not implemented by this server.", "x-amz-mfa")
	}
	opts := &cellar.DeleteOptions{}
	if v, ok := q.query["versionId"]; ok {
		if v[0] == "" {
			return errInvalidArgument("Version id cannot be the empty string", "versionId", "")
		}
		opts.VersionID = v[0]
	}
	res, err := h.store.Bucket(q.bucket).Delete(q.ctx, q.key, opts)
	if err != nil {
		return err
	}
	if res.DeleteMarker {
		q.w.Header().Set("x-amz-delete-marker", "true")
	}
	if res.VersionID != "" {
		q.w.Header().Set("x-amz-version-id", res.VersionID)
	}
	return q.noContent()
}
