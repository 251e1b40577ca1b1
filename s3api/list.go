package s3api

import (
	"encoding/xml"
	"math"
	"net/http"
	"strings"

	"github.com/cellarhq/cellar"
)

type listBucketResult struct {
	XMLName               xml.Name       `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name                  string         `xml:"Name"`
	Prefix                string         `xml:"Prefix"`
	Marker                *string        `xml:"Marker"`
	NextMarker            string         `xml:"NextMarker,omitempty"`
	MaxKeys               int            `xml:"MaxKeys"`
	Delimiter             string         `xml:"Delimiter,omitempty"`
	EncodingType          string         `xml:"EncodingType,omitempty"`
	KeyCount              *int           `xml:"KeyCount"`
	IsTruncated           bool           `xml:"IsTruncated"`
	ContinuationToken     string         `xml:"ContinuationToken,omitempty"`
	NextContinuationToken string         `xml:"NextContinuationToken,omitempty"`
	StartAfter            string         `xml:"StartAfter,omitempty"`
	Contents              []objectEntry  `xml:"Contents"`
	CommonPrefixes        []commonPrefix `xml:"CommonPrefixes"`
}

type objectEntry struct {
	Key          string `xml:"Key"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
	Owner        *owner `xml:"Owner"`
	StorageClass string `xml:"StorageClass"`
}

type commonPrefix struct {
	Prefix string `xml:"Prefix"`
}

// listParams are the parameters ListObjects and ListObjectsV2 share.
type listParams struct {
	prefix, delimiter string
	maxKeys           int
	encode            func(string) string
	encodingType      string
}

func readListParams(q *request) (*listParams, error) {
	p := &listParams{prefix: q.query.Get("prefix"), delimiter: q.query.Get("delimiter")}
	var err error
	if p.maxKeys, err = intParam(q, "max-keys", cellar.MaxListKeys, 0, math.MaxInt32, "Provided max-keys not an integer or within integer range"); err != nil {
		return nil, err
	}
	if p.encode, p.encodingType, err = encodingType(q); err != nil {
		return nil, err
	}
	return p, nil
}

// startAfter turns a marker into the store's StartAfter, with S3's rule
// for common prefixes: a common prefix that is not greater than the marker
// is not listed, so a marker inside a common prefix (or equal to one, as a
// NextMarker is) skips every key under it. No valid UTF-8 key has a 0xFF
// byte, so cp+"\xff" sorts after every key that begins with cp.
func startAfter(marker, prefix, delimiter string) string {
	if cp := commonPrefixOf(marker, prefix, delimiter); cp != "" {
		return cp + "\xff"
	}
	return marker
}

// commonPrefixOf is the common prefix that key rolls up into, or "".
func commonPrefixOf(key, prefix, delimiter string) string {
	if delimiter == "" || !strings.HasPrefix(key, prefix) {
		return ""
	}
	if i := strings.Index(key[len(prefix):], delimiter); i >= 0 {
		return key[:len(prefix)+i+len(delimiter)]
	}
	return ""
}

// entries turns a page of the store into S3's Contents and CommonPrefixes.
func (p *listParams) entries(page *cellar.ListPage, withOwner bool) ([]objectEntry, []commonPrefix) {
	contents := make([]objectEntry, 0, len(page.Objects))
	for _, o := range page.Objects {
		e := objectEntry{
			Key:          p.encode(o.Key),
			LastModified: iso8601(o.LastModified),
			ETag:         quoteETag(o.ETag),
			Size:         o.Size,
			StorageClass: o.StorageClass,
		}
		if withOwner {
			own := theOwner
			e.Owner = &own
		}
		contents = append(contents, e)
	}
	var prefixes []commonPrefix
	for _, cp := range page.CommonPrefixes {
		prefixes = append(prefixes, commonPrefix{Prefix: p.encode(cp)})
	}
	return contents, prefixes
}

// listObjects serves ListObjects (version 1). NextMarker is given only
// with a delimiter, as S3 does; without one a client resumes after the
// last key listed.
func (h *handler) listObjects(q *request) error {
	p, err := readListParams(q)
	if err != nil {
		return err
	}
	marker := q.query.Get("marker")
	res := listBucketResult{
		Name:         q.bucket,
		Prefix:       p.encode(p.prefix),
		Marker:       ptr(p.encode(marker)),
		MaxKeys:      p.maxKeys,
		Delimiter:    p.encode(p.delimiter),
		EncodingType: p.encodingType,
	}
	page, err := h.list(q, p, &cellar.ListOptions{StartAfter: startAfter(marker, p.prefix, p.delimiter)})
	if err != nil {
		return err
	}
	res.Contents, res.CommonPrefixes = p.entries(page, true)
	res.IsTruncated = page.IsTruncated
	if page.IsTruncated && p.delimiter != "" {
		var last string
		if n := len(page.Objects); n > 0 {
			last = page.Objects[n-1].Key
		}
		if n := len(page.CommonPrefixes); n > 0 && page.CommonPrefixes[n-1] > last {
			last = page.CommonPrefixes[n-1]
		}
		res.NextMarker = p.encode(last)
	}
	return q.writeXML(http.StatusOK, &res)
}

// listObjectsV2 serves ListObjectsV2.
func (h *handler) listObjectsV2(q *request) error {
	p, err := readListParams(q)
	if err != nil {
		return err
	}
	token, hasToken := q.query["continuation-token"]
	if hasToken && token[0] == "" {
		return errInvalidArgument("The continuation token provided is incorrect", "continuation-token", "")
	}
	after := q.query.Get("start-after")
	res := listBucketResult{
		Name:         q.bucket,
		Prefix:       p.encode(p.prefix),
		MaxKeys:      p.maxKeys,
		Delimiter:    p.encode(p.delimiter),
		EncodingType: p.encodingType,
		StartAfter:   p.encode(after),
	}
	opts := &cellar.ListOptions{StartAfter: startAfter(after, p.prefix, p.delimiter)}
	if hasToken {
		opts.ContinuationToken = token[0]
		res.ContinuationToken = token[0]
	}
	page, err := h.list(q, p, opts)
	if err != nil {
		return err
	}
	res.Contents, res.CommonPrefixes = p.entries(page, q.query.Get("fetch-owner") == "true")
	res.IsTruncated = page.IsTruncated
	res.NextContinuationToken = page.NextContinuationToken
	res.KeyCount = ptr(len(res.Contents) + len(res.CommonPrefixes))
	return q.writeXML(http.StatusOK, &res)
}

// list reads one page from the store. max-keys=0 lists nothing (and says
// so without truncation), as S3 answers, where the store would take 0 for
// its default.
func (h *handler) list(q *request, p *listParams, opts *cellar.ListOptions) (*cellar.ListPage, error) {
	opts.Prefix, opts.Delimiter, opts.MaxKeys = p.prefix, p.delimiter, p.maxKeys
	b := h.store.Bucket(q.bucket)
	if p.maxKeys == 0 {
		// Still check the bucket and the token.
		opts.MaxKeys = 1
		if _, err := b.List(q.ctx, opts); err != nil {
			return nil, err
		}
		return &cellar.ListPage{}, nil
	}
	return b.List(q.ctx, opts)
}

func ptr[T any](v T) *T { return &v }
