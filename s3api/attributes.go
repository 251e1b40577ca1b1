package s3api

import (
	"encoding/xml"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/cellarhq/cellar"
)

// objectAttributes are the names x-amz-object-attributes may list.
var objectAttributes = map[string]bool{"ETag": true, "Checksum": true, "ObjectParts": true, "StorageClass": true, "ObjectSize": true}

type getObjectAttributesResponse struct {
	XMLName      xml.Name          `xml:"http://s3.amazonaws.com/doc/2006-03-01/ GetObjectAttributesResponse"`
	ETag         string            `xml:"ETag,omitempty"`
	Checksum     *checksumResponse `xml:"Checksum"`
	ObjectParts  *objectParts      `xml:"ObjectParts"`
	StorageClass string            `xml:"StorageClass,omitempty"`
	ObjectSize   *int64            `xml:"ObjectSize"`
}

// checksumResponse is the Checksum of GetObjectAttributes: the object's
// checksum and its type. A COMPOSITE value is given without the "-N"
// suffix that headers carry, as S3 gives it.
type checksumResponse struct {
	checksumElements
	ChecksumType string `xml:"ChecksumType,omitempty"`
}

// objectParts is the ObjectParts of GetObjectAttributes. S3 lists <Part>
// elements (number, size, checksum) for multipart objects with a
// COMPOSITE checksum; the store gives no part's checksum of a completed
// object, so only the count and the paging fields are given.
type objectParts struct {
	PartsCount           int  `xml:"PartsCount"`
	PartNumberMarker     int  `xml:"PartNumberMarker"`
	NextPartNumberMarker int  `xml:"NextPartNumberMarker"`
	MaxParts             int  `xml:"MaxParts"`
	IsTruncated          bool `xml:"IsTruncated"`
}

// parseObjectAttributes reads x-amz-object-attributes, which SDKs send as
// one comma-separated header or as repeated headers.
func parseObjectAttributes(h http.Header) (map[string]bool, error) {
	want := make(map[string]bool)
	for _, v := range h.Values("x-amz-object-attributes") {
		for _, a := range strings.Split(v, ",") {
			a = strings.TrimSpace(a)
			if a == "" {
				continue
			}
			if !objectAttributes[a] {
				return nil, errInvalidArgument("Invalid attribute name specified.", "x-amz-object-attributes", a)
			}
			want[a] = true
		}
	}
	if len(want) == 0 {
		return nil, errInvalidArgument("The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty", "x-amz-object-attributes", "")
	}
	return want, nil
}

// getObjectAttributes serves GetObjectAttributes. Its ETag is unquoted,
// unlike every other ETag S3 sends.
func (h *handler) getObjectAttributes(q *request) error {
	if err := checkSSEHeaders(q.r.Header); err != nil {
		return err
	}
	want, err := parseObjectAttributes(q.r.Header)
	if err != nil {
		return err
	}
	maxParts, err := headerInt(q.r.Header, "x-amz-max-parts", cellar.MaxListParts)
	if err != nil {
		return err
	}
	marker, err := headerInt(q.r.Header, "x-amz-part-number-marker", 0)
	if err != nil {
		return err
	}
	opts := &cellar.GetOptions{}
	if v, ok := q.query["versionId"]; ok {
		if v[0] == "" {
			return errInvalidArgument("Version id cannot be the empty string", "versionId", "")
		}
		opts.VersionID = v[0]
	}
	info, err := h.store.Bucket(q.bucket).Head(q.ctx, q.key, opts)
	if err != nil {
		return err
	}
	res := getObjectAttributesResponse{}
	if want["ETag"] {
		res.ETag = info.ETag
	}
	if want["Checksum"] && info.Checksum.Value != "" {
		c := &checksumResponse{ChecksumType: info.Checksum.Type}
		value := info.Checksum.Value
		if i := strings.LastIndexByte(value, '-'); i >= 0 {
			value = value[:i]
		}
		c.set(info.Checksum.Algorithm, value)
		res.Checksum = c
	}
	if want["StorageClass"] {
		res.StorageClass = info.StorageClass
	}
	if want["ObjectSize"] {
		res.ObjectSize = ptr(info.Size)
	}
	if want["ObjectParts"] && info.PartsCount > 0 {
		page := min(maxParts, cellar.MaxListParts)
		next := min(marker+page, info.PartsCount)
		res.ObjectParts = &objectParts{
			PartsCount:           info.PartsCount,
			PartNumberMarker:     marker,
			NextPartNumberMarker: max(next, marker),
			MaxParts:             maxParts,
			IsTruncated:          next < info.PartsCount,
		}
	}
	q.w.Header().Set("Last-Modified", httpDate(info.LastModified))
	h.versionIDHeader(q, q.bucket, info.VersionID)
	return q.writeXML(http.StatusOK, &res)
}

// headerInt reads a non-negative integer header, or def when absent.
func headerInt(h http.Header, name string, def int) (int, error) {
	v := h.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 || n > math.MaxInt32 {
		return 0, errInvalidArgument("The "+name+" header must be a non-negative integer", name, v)
	}
	return n, nil
}
