package s3api

import (
	"encoding/xml"
	"net/http"

	"github.com/cellarhq/cellar"
)

type listVersionsResult struct {
	XMLName             xml.Name       `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListVersionsResult"`
	Name                string         `xml:"Name"`
	Prefix              string         `xml:"Prefix"`
	KeyMarker           string         `xml:"KeyMarker"`
	VersionIDMarker     string         `xml:"VersionIdMarker"`
	NextKeyMarker       string         `xml:"NextKeyMarker,omitempty"`
	NextVersionIDMarker string         `xml:"NextVersionIdMarker,omitempty"`
	MaxKeys             int            `xml:"MaxKeys"`
	Delimiter           string         `xml:"Delimiter,omitempty"`
	EncodingType        string         `xml:"EncodingType,omitempty"`
	IsTruncated         bool           `xml:"IsTruncated"`
	Entries             []any          // *versionEntry and *deleteMarkerEntry, in order
	CommonPrefixes      []commonPrefix `xml:"CommonPrefixes"`
}

type versionEntry struct {
	XMLName      xml.Name `xml:"Version"`
	Key          string   `xml:"Key"`
	VersionID    string   `xml:"VersionId"`
	IsLatest     bool     `xml:"IsLatest"`
	LastModified string   `xml:"LastModified"`
	ETag         string   `xml:"ETag"`
	Size         int64    `xml:"Size"`
	StorageClass string   `xml:"StorageClass"`
	Owner        owner    `xml:"Owner"`
}

type deleteMarkerEntry struct {
	XMLName      xml.Name `xml:"DeleteMarker"`
	Key          string   `xml:"Key"`
	VersionID    string   `xml:"VersionId"`
	IsLatest     bool     `xml:"IsLatest"`
	LastModified string   `xml:"LastModified"`
	Owner        owner    `xml:"Owner"`
}

// listObjectVersions serves ListObjectVersions.
func (h *handler) listObjectVersions(q *request) error {
	p, err := readListParams(q)
	if err != nil {
		return err
	}
	keyMarker, versionMarker := q.query.Get("key-marker"), q.query.Get("version-id-marker")
	res := listVersionsResult{
		Name:            q.bucket,
		Prefix:          p.encode(p.prefix),
		KeyMarker:       p.encode(keyMarker),
		VersionIDMarker: versionMarker,
		MaxKeys:         p.maxKeys,
		Delimiter:       p.encode(p.delimiter),
		EncodingType:    p.encodingType,
	}
	if versionMarker != "" && keyMarker == "" {
		return errInvalidArgument("A version-id marker cannot be specified without a key marker.", "version-id-marker", versionMarker)
	}
	opts := &cellar.ListVersionsOptions{
		Prefix:          p.prefix,
		Delimiter:       p.delimiter,
		KeyMarker:       keyMarker,
		VersionIDMarker: versionMarker,
		MaxKeys:         p.maxKeys,
	}
	if cp := commonPrefixOf(keyMarker, p.prefix, p.delimiter); cp != "" {
		// A common prefix not greater than the key marker is not listed:
		// resume after every key under it (see startAfter).
		opts.KeyMarker, opts.VersionIDMarker = cp, ""
	}
	b := h.store.Bucket(q.bucket)
	var page *cellar.VersionsPage
	if p.maxKeys == 0 {
		opts.MaxKeys = 1
		if _, err := b.ListVersions(q.ctx, opts); err != nil {
			return err
		}
		page = &cellar.VersionsPage{}
	} else if page, err = b.ListVersions(q.ctx, opts); err != nil {
		return err
	}
	for _, v := range page.Versions {
		if v.DeleteMarker {
			res.Entries = append(res.Entries, &deleteMarkerEntry{
				Key:          p.encode(v.Key),
				VersionID:    v.VersionID,
				IsLatest:     v.IsLatest,
				LastModified: iso8601(v.LastModified),
				Owner:        theOwner,
			})
			continue
		}
		res.Entries = append(res.Entries, &versionEntry{
			Key:          p.encode(v.Key),
			VersionID:    v.VersionID,
			IsLatest:     v.IsLatest,
			LastModified: iso8601(v.LastModified),
			ETag:         quoteETag(v.ETag),
			Size:         v.Size,
			StorageClass: v.StorageClass,
			Owner:        theOwner,
		})
	}
	for _, cp := range page.CommonPrefixes {
		res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{Prefix: p.encode(cp)})
	}
	res.IsTruncated = page.IsTruncated
	if page.IsTruncated {
		res.NextKeyMarker = p.encode(page.NextKeyMarker)
		res.NextVersionIDMarker = page.NextVersionIDMarker
	}
	return q.writeXML(http.StatusOK, &res)
}
