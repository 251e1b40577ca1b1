package s3api

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cellarhq/cellar"
)

// copySource is a parsed x-amz-copy-source header.
type copySource struct {
	bucket, key, versionID string
}

// parseCopySource reads x-amz-copy-source: "bucket/key" or "/bucket/key",
// URL-encoded, optionally followed by "?versionId=ID". The query is split
// off before decoding, so a '?' in a key arrives encoded as %3F.
func parseCopySource(v string) (copySource, error) {
	bad := func(msg string) (copySource, error) {
		return copySource{}, errInvalidArgument(msg, "x-amz-copy-source", v)
	}
	raw, query, hasQuery := strings.Cut(v, "?")
	var src copySource
	if hasQuery {
		vals, err := url.ParseQuery(query)
		if err != nil {
			return bad("The copy source query is not valid: " + err.Error())
		}
		if id, ok := vals["versionId"]; ok {
			if len(id) != 1 || id[0] == "" {
				return bad("Invalid version id specified")
			}
			src.versionID = id[0]
		}
	}
	path, err := url.PathUnescape(raw)
	if err != nil {
		return bad("The copy source is not validly URL-encoded")
	}
	path = strings.TrimPrefix(path, "/")
	if strings.HasPrefix(path, "arn:") {
		return copySource{}, errNotImplemented("Access points are not implemented by this server.", "x-amz-copy-source")
	}
	bucket, key, ok := strings.Cut(path, "/")
	if !ok || bucket == "" || key == "" {
		return bad("Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
	}
	if len(key) > cellar.MaxKeyLength {
		return copySource{}, newError("KeyTooLongError", "")
	}
	src.bucket, src.key = bucket, key
	return src, nil
}

// copySourceConditions reads the x-amz-copy-source-if-* headers. A date
// that does not parse is ignored, as for GetObject.
func copySourceConditions(h http.Header) (ifMatch, ifNoneMatch string, ifModifiedSince, ifUnmodifiedSince time.Time) {
	ifMatch = h.Get("x-amz-copy-source-if-match")
	ifNoneMatch = h.Get("x-amz-copy-source-if-none-match")
	if t, err := http.ParseTime(h.Get("x-amz-copy-source-if-modified-since")); err == nil {
		ifModifiedSince = t
	}
	if t, err := http.ParseTime(h.Get("x-amz-copy-source-if-unmodified-since")); err == nil {
		ifUnmodifiedSince = t
	}
	return
}

// directive reads x-amz-metadata-directive or x-amz-tagging-directive:
// COPY (the default) or REPLACE.
func directive(h http.Header, name string) (string, error) {
	v := h.Get(name)
	switch v {
	case "":
		return cellar.DirectiveCopy, nil
	case cellar.DirectiveCopy, cellar.DirectiveReplace:
		return v, nil
	}
	what := "metadata"
	if strings.Contains(name, "tagging") {
		what = "tagging"
	}
	return "", errInvalidArgument("Unknown "+what+" directive.", name, v)
}

type copyObjectResult struct {
	XMLName      xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CopyObjectResult"`
	LastModified string   `xml:"LastModified"`
	ETag         string   `xml:"ETag"`
	checksumElements
	ChecksumType string `xml:"ChecksumType,omitempty"`
}

// copyObject serves CopyObject. As S3 does, the content type, system and
// user metadata headers are ignored unless the metadata directive is
// REPLACE, and x-amz-tagging unless the tagging directive is. The copy's
// checksum is x-amz-checksum-algorithm's, else the source's algorithm,
// computed over the copied bytes.
func (h *handler) copyObject(q *request) error {
	if err := checkWriteHeaders(q); err != nil {
		return err
	}
	src, err := parseCopySource(q.r.Header.Get("x-amz-copy-source"))
	if err != nil {
		return err
	}
	hdr := q.r.Header
	opts := &cellar.CopyOptions{SourceVersionID: src.versionID, StorageClass: hdr.Get("x-amz-storage-class")}
	if opts.MetadataDirective, err = directive(hdr, "x-amz-metadata-directive"); err != nil {
		return err
	}
	if opts.TaggingDirective, err = directive(hdr, "x-amz-tagging-directive"); err != nil {
		return err
	}
	if opts.MetadataDirective == cellar.DirectiveReplace {
		opts.ContentType = hdr.Get("Content-Type")
		opts.ContentHeaders = contentHeaders(hdr)
		opts.Metadata = userMetadata(hdr)
	}
	if opts.ChecksumAlgorithm, err = copyChecksumAlgorithm(hdr); err != nil {
		return err
	}
	if opts.TaggingDirective == cellar.DirectiveReplace {
		if opts.Tags, err = parseTaggingHeader(hdr); err != nil {
			return err
		}
	}
	opts.CopySourceIfMatch, opts.CopySourceIfNoneMatch, opts.CopySourceIfModifiedSince, opts.CopySourceIfUnmodifiedSince = copySourceConditions(hdr)
	if v := hdr.Get("If-None-Match"); v != "" {
		if v != "*" {
			return errNotImplemented("If-None-Match on a write supports only \"*\".", "If-None-Match")
		}
		opts.IfNoneMatch = v
	}
	opts.IfMatch = hdr.Get("If-Match")
	res, err := h.store.Bucket(q.bucket).CopyObject(q.ctx, q.key, src.bucket, src.key, opts)
	if err != nil {
		return sourceError(err)
	}
	h.versionIDHeader(q, q.bucket, res.Object.VersionID)
	if v := expirationHeader(res.Object.Expiration); v != "" {
		q.w.Header().Set("x-amz-expiration", v)
	}
	h.versionHeader(q, "x-amz-copy-source-version-id", src.bucket, res.SourceVersionID)
	out := &copyObjectResult{
		LastModified: iso8601(res.Object.LastModified),
		ETag:         quoteETag(res.Object.ETag),
		ChecksumType: res.Object.Checksum.Type,
	}
	out.set(res.Object.Checksum.Algorithm, res.Object.Checksum.Value)
	return q.writeXML(http.StatusOK, out)
}

// sourceError hides that a copy's source is a delete marker: the
// x-amz-delete-marker headers of an answer describe the object addressed,
// and a copy addresses its destination.
func sourceError(err error) error {
	var dm *cellar.DeleteMarkerError
	if errors.As(err, &dm) {
		return fmt.Errorf("copy source %s/%s: %w", dm.Bucket, dm.Key, dm.Err)
	}
	return err
}
