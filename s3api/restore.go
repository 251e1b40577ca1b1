package s3api

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"

	"github.com/cellarhq/cellar"
)

// restoreRequest is the body of RestoreObject, in any namespace. Pointers
// tell an element left out from one given empty.
type restoreRequest struct {
	XMLName              xml.Name `xml:"RestoreRequest"`
	Days                 *string  `xml:"Days"`
	Tier                 *string  `xml:"Tier"`
	GlacierJobParameters *struct {
		Tier *string `xml:"Tier"`
	} `xml:"GlacierJobParameters"`
	Type             *string   `xml:"Type"`
	Description      *string   `xml:"Description"`
	SelectParameters *struct{} `xml:"SelectParameters"`
	OutputLocation   *struct{} `xml:"OutputLocation"`
}

// restoreTiers are the retrieval tiers S3 takes.
var restoreTiers = map[string]bool{"Standard": true, "Bulk": true, "Expedited": true}

// parseRestore decodes a RestoreRequest body into the store's options.
// Days is required and must be a positive integer; a tier may be given in
// GlacierJobParameters or, as S3 also takes, at the top level, and is
// Standard when absent. Select restores (Type SELECT, SelectParameters,
// OutputLocation) are NotImplemented.
func parseRestore(data []byte) (*cellar.RestoreOptions, error) {
	var r restoreRequest
	if err := decodeXML(data, &r); err != nil {
		return nil, err
	}
	if r.Type != nil || r.SelectParameters != nil || r.OutputLocation != nil {
		return nil, errNotImplemented("Select restores (RestoreRequest Type, SelectParameters, OutputLocation) are not implemented by this server.", "")
	}
	if r.Days == nil {
		return nil, errMalformedXML("")
	}
	days, err := strconv.Atoi(*r.Days)
	if err != nil {
		return nil, errMalformedXML("")
	}
	if days < 1 {
		return nil, errInvalidArgument("Days must be a positive integer", "Days", *r.Days)
	}
	opts := &cellar.RestoreOptions{Days: days, Tier: "Standard"}
	tiers := 0
	for _, t := range []*string{r.Tier, jobTier(r)} {
		if t == nil {
			continue
		}
		tiers++
		if !restoreTiers[*t] {
			return nil, errMalformedXML("")
		}
		opts.Tier = *t
	}
	if tiers == 2 && *r.Tier != *jobTier(r) {
		return nil, errInvalidArgument("The Tier and GlacierJobParameters Tier differ", "Tier", *r.Tier)
	}
	return opts, nil
}

func jobTier(r restoreRequest) *string {
	if r.GlacierJobParameters == nil {
		return nil
	}
	return r.GlacierJobParameters.Tier
}

// restoreObject serves RestoreObject: 202 Accepted when a restore starts,
// 200 OK when the object was already restored and only its expiry moved,
// RestoreAlreadyInProgress while a restore runs, InvalidObjectState for an
// object whose storage class is not GLACIER or DEEP_ARCHIVE.
func (h *handler) restoreObject(q *request) error {
	version, hasVersion := q.query["versionId"]
	if hasVersion && version[0] == "" {
		return errInvalidArgument("Version id cannot be the empty string", "versionId", "")
	}
	data, err := q.readBody(maxXMLBody)
	if err != nil {
		return err
	}
	opts, err := parseRestore(data)
	if err != nil {
		return err
	}
	if hasVersion {
		opts.VersionID = version[0]
	}
	b := h.store.Bucket(q.bucket)
	before, err := b.Head(q.ctx, q.key, &cellar.GetOptions{VersionID: opts.VersionID})
	if err != nil {
		return err
	}
	if err := b.Restore(q.ctx, q.key, opts); err != nil {
		return err
	}
	h.versionIDHeader(q, q.bucket, before.VersionID)
	status := http.StatusAccepted
	if before.Restore != nil && !before.Restore.Ongoing {
		status = http.StatusOK
	}
	q.w.WriteHeader(status)
	return nil
}

// restoreHeader is x-amz-restore for an object's restore state, or "" if
// it was never restored.
func restoreHeader(r *cellar.RestoreStatus) string {
	switch {
	case r == nil:
		return ""
	case r.Ongoing:
		return `ongoing-request="true"`
	}
	return fmt.Sprintf(`ongoing-request="false", expiry-date="%s"`, httpDate(r.Expiry))
}

// expirationHeader is x-amz-expiration for a version a lifecycle rule will
// expire, or "".
func expirationHeader(e *cellar.ExpirationInfo) string {
	if e == nil {
		return ""
	}
	return fmt.Sprintf(`expiry-date="%s", rule-id="%s"`, httpDate(e.Date), headerQuote(e.RuleID))
}

// headerQuote escapes a value for a quoted string in a header.
func headerQuote(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// setLifecycleHeaders sets x-amz-expiration and x-amz-restore.
func setLifecycleHeaders(hdr http.Header, info cellar.ObjectInfo) {
	if v := expirationHeader(info.Expiration); v != "" {
		hdr.Set("x-amz-expiration", v)
	}
	if v := restoreHeader(info.Restore); v != "" {
		hdr.Set("x-amz-restore", v)
	}
}
