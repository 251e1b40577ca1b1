package s3api

import (
	"encoding/xml"
	"net/http"
	"sort"

	"github.com/cellarhq/cellar"
)

type taggingDoc struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ Tagging"`
	TagSet  tagSet   `xml:"TagSet"`
}

type tagSet struct {
	Tags []tag `xml:"Tag"`
}

type tag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// taggingRequest is the body of PutObjectTagging, in any namespace.
type taggingRequest struct {
	XMLName xml.Name `xml:"Tagging"`
	TagSet  *struct {
		Tags []struct {
			Key   *string `xml:"Key"`
			Value *string `xml:"Value"`
		} `xml:"Tag"`
	} `xml:"TagSet"`
}

// parseTagging decodes a Tagging body. A TagSet is required and each Tag
// needs a Key and a Value (MalformedXML); a key given twice is InvalidTag.
// The tags' contents are the store's to check.
func parseTagging(data []byte) (map[string]string, error) {
	var t taggingRequest
	if err := decodeXML(data, &t); err != nil {
		return nil, err
	}
	if t.TagSet == nil {
		return nil, errMalformedXML("")
	}
	tags := make(map[string]string, len(t.TagSet.Tags))
	for _, tg := range t.TagSet.Tags {
		if tg.Key == nil || tg.Value == nil {
			return nil, errMalformedXML("")
		}
		if _, dup := tags[*tg.Key]; dup {
			return nil, newError("InvalidTag", "Cannot provide multiple Tags with the same key")
		}
		tags[*tg.Key] = *tg.Value
	}
	return tags, nil
}

// taggingOptions reads the versionId of the tagging operations.
func taggingOptions(q *request) (*cellar.TaggingOptions, error) {
	v, ok := q.query["versionId"]
	if !ok {
		return nil, nil
	}
	if v[0] == "" {
		return nil, errInvalidArgument("Version id cannot be the empty string", "versionId", "")
	}
	return &cellar.TaggingOptions{VersionID: v[0]}, nil
}

// getObjectTagging serves GetObjectTagging, tags sorted by key.
func (h *handler) getObjectTagging(q *request) error {
	opts, err := taggingOptions(q)
	if err != nil {
		return err
	}
	tags, versionID, err := h.store.Bucket(q.bucket).GetObjectTagging(q.ctx, q.key, opts)
	if err != nil {
		return err
	}
	doc := taggingDoc{}
	for k, v := range tags {
		doc.TagSet.Tags = append(doc.TagSet.Tags, tag{Key: k, Value: v})
	}
	sort.Slice(doc.TagSet.Tags, func(i, j int) bool { return doc.TagSet.Tags[i].Key < doc.TagSet.Tags[j].Key })
	h.versionIDHeader(q, q.bucket, versionID)
	return q.writeXML(http.StatusOK, &doc)
}

// putObjectTagging serves PutObjectTagging.
func (h *handler) putObjectTagging(q *request) error {
	opts, err := taggingOptions(q)
	if err != nil {
		return err
	}
	data, err := q.readBody(maxXMLBody)
	if err != nil {
		return err
	}
	tags, err := parseTagging(data)
	if err != nil {
		return err
	}
	versionID, err := h.store.Bucket(q.bucket).PutObjectTagging(q.ctx, q.key, tags, opts)
	if err != nil {
		return err
	}
	h.versionIDHeader(q, q.bucket, versionID)
	return q.ok()
}

// deleteObjectTagging serves DeleteObjectTagging.
func (h *handler) deleteObjectTagging(q *request) error {
	opts, err := taggingOptions(q)
	if err != nil {
		return err
	}
	versionID, err := h.store.Bucket(q.bucket).DeleteObjectTagging(q.ctx, q.key, opts)
	if err != nil {
		return err
	}
	h.versionIDHeader(q, q.bucket, versionID)
	return q.noContent()
}
