package s3api

import (
	"encoding/xml"
	"fmt"
	"net/http"

	"github.com/cellarhq/cellar"
)

// deleteRequest is the body of DeleteObjects, in any namespace.
type deleteRequest struct {
	XMLName xml.Name `xml:"Delete"`
	Quiet   bool     `xml:"Quiet"`
	Objects []struct {
		Key       *string `xml:"Key"`
		VersionID string  `xml:"VersionId"`
	} `xml:"Object"`
}

// parseDelete decodes a Delete body: at least one and at most 1,000
// objects, each with a Key, else MalformedXML, as S3 answers.
func parseDelete(data []byte) (quiet bool, objects []cellar.ObjectToDelete, err error) {
	var d deleteRequest
	if err := decodeXML(data, &d); err != nil {
		return false, nil, err
	}
	if len(d.Objects) == 0 {
		return false, nil, errMalformedXML("")
	}
	if len(d.Objects) > cellar.MaxDeleteObjects {
		return false, nil, errMalformedXML(fmt.Sprintf("%d objects in one DeleteObjects request; at most %d are allowed", len(d.Objects), cellar.MaxDeleteObjects))
	}
	objects = make([]cellar.ObjectToDelete, len(d.Objects))
	for i, o := range d.Objects {
		if o.Key == nil {
			return false, nil, errMalformedXML("")
		}
		objects[i] = cellar.ObjectToDelete{Key: *o.Key, VersionID: o.VersionID}
	}
	return d.Quiet, objects, nil
}

type deleteResult struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ DeleteResult"`
	Entries []any    // *deletedEntry and *deleteErrorEntry, in the order asked
}

type deletedEntry struct {
	XMLName               xml.Name `xml:"Deleted"`
	Key                   string   `xml:"Key"`
	VersionID             string   `xml:"VersionId,omitempty"`
	DeleteMarker          bool     `xml:"DeleteMarker,omitempty"`
	DeleteMarkerVersionID string   `xml:"DeleteMarkerVersionId,omitempty"`
}

type deleteErrorEntry struct {
	XMLName   xml.Name `xml:"Error"`
	Key       string   `xml:"Key"`
	VersionID string   `xml:"VersionId,omitempty"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
}

// deleteObjects serves DeleteObjects. Content-MD5 is checked when given,
// never required. In quiet mode only the errors are listed.
func (h *handler) deleteObjects(q *request) error {
	data, err := q.readBody(maxXMLBodyLarge)
	if err != nil {
		return err
	}
	quiet, objects, err := parseDelete(data)
	if err != nil {
		return err
	}
	results, err := h.store.Bucket(q.bucket).DeleteObjects(q.ctx, objects)
	if err != nil {
		return err
	}
	res := deleteResult{}
	for _, r := range results {
		if r.Err != nil {
			e := toError(r.Err)
			if e.Status >= 500 {
				h.log.Error("s3api: DeleteObjects key failed", "request", q.id, "bucket", q.bucket, "key", r.Key, "err", r.Err)
			}
			res.Entries = append(res.Entries, &deleteErrorEntry{Key: r.Key, VersionID: r.VersionID, Code: e.Code, Message: e.Message})
			continue
		}
		if quiet {
			continue
		}
		d := &deletedEntry{Key: r.Key, VersionID: r.VersionID}
		if r.DeleteMarker {
			d.DeleteMarker = true
			d.DeleteMarkerVersionID = r.DeleteResult.VersionID
		}
		res.Entries = append(res.Entries, d)
	}
	return q.writeXML(http.StatusOK, &res)
}
