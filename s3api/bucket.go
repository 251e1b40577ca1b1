package s3api

import (
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"strings"

	"github.com/cellarhq/cellar"
)

type listAllMyBucketsResult struct {
	XMLName           xml.Name   `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListAllMyBucketsResult"`
	Owner             owner      `xml:"Owner"`
	Buckets           bucketList `xml:"Buckets"`
	ContinuationToken string     `xml:"ContinuationToken,omitempty"`
	Prefix            *string    `xml:"Prefix"`
}

type bucketList struct {
	Buckets []bucketEntry `xml:"Bucket"`
}

type bucketEntry struct {
	Name         string `xml:"Name"`
	CreationDate string `xml:"CreationDate"`
	BucketRegion string `xml:"BucketRegion"`
}

// listBuckets serves ListBuckets, with its newer paging parameters
// (max-buckets, continuation-token, prefix, bucket-region). The
// continuation token is the base64url of the last name listed.
func (h *handler) listBuckets(q *request) error {
	maxBuckets, err := intParam(q, "max-buckets", 10000, 1, 10000, "Argument max-buckets must be an integer between 1 and 10000")
	if err != nil {
		return err
	}
	var after string
	if tok, ok := q.query["continuation-token"]; ok {
		b, err := base64.RawURLEncoding.DecodeString(tok[0])
		if err != nil || len(b) == 0 {
			return errInvalidArgument("The continuation token provided is incorrect", "continuation-token", tok[0])
		}
		after = string(b)
	}
	prefix, hasPrefix := q.query["prefix"]
	region := q.query.Get("bucket-region")
	all, err := h.store.ListBuckets(q.ctx)
	if err != nil {
		return err
	}
	res := listAllMyBucketsResult{Owner: theOwner}
	if hasPrefix {
		res.Prefix = &prefix[0]
	}
	var list []bucketEntry
	for _, b := range all {
		if b.Name <= after || hasPrefix && !strings.HasPrefix(b.Name, prefix[0]) {
			continue
		}
		r := h.bucketRegion(b)
		if region != "" && r != region {
			continue
		}
		if len(list) == maxBuckets {
			res.ContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(list[len(list)-1].Name))
			break
		}
		list = append(list, bucketEntry{Name: b.Name, CreationDate: iso8601(b.Created), BucketRegion: r})
	}
	res.Buckets.Buckets = list
	return q.writeXML(http.StatusOK, &res)
}

// bucketRegion is the region a bucket was created in: the handler's own
// for a bucket made without one.
func (h *handler) bucketRegion(b cellar.BucketInfo) string {
	if b.Region != "" {
		return b.Region
	}
	return h.region
}

type createBucketConfiguration struct {
	XMLName            xml.Name  `xml:"CreateBucketConfiguration"`
	LocationConstraint string    `xml:"LocationConstraint"`
	Location           *struct{} `xml:"Location"`
	Bucket             *struct{} `xml:"Bucket"`
}

// parseCreateBucket decodes a CreateBucketConfiguration body into its
// LocationConstraint. The Location and Bucket of directory buckets are
// NotImplemented.
func parseCreateBucket(data []byte) (string, error) {
	var c createBucketConfiguration
	if err := decodeXML(data, &c); err != nil {
		return "", err
	}
	if c.Location != nil || c.Bucket != nil {
		return "", errNotImplemented("Directory buckets are not implemented by this server.", "")
	}
	return strings.TrimSpace(c.LocationConstraint), nil
}

// createBucket serves CreateBucket. A LocationConstraint must name the
// handler's region (or be absent). Re-creating a bucket that exists is
// BucketAlreadyOwnedByYou (409) in every region: see doc.go.
func (h *handler) createBucket(q *request) error {
	if err := checkACLHeaders(q.r.Header); err != nil {
		return err
	}
	if v := q.r.Header.Get("x-amz-bucket-object-lock-enabled"); strings.EqualFold(v, "true") {
		return errNotImplemented("Object Lock is not implemented by this server.", "x-amz-bucket-object-lock-enabled")
	}
	if v := q.r.Header.Get("x-amz-object-ownership"); v != "" && v != "BucketOwnerEnforced" {
		return errNotImplemented("Object ownership "+v+" is not implemented by this server: ACLs are not supported.", "x-amz-object-ownership")
	}
	data, err := q.readBody(maxXMLBody)
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(data))) > 0 {
		lc, err := parseCreateBucket(data)
		if err != nil {
			return err
		}
		if lc != "" && lc != h.region && !(lc == "EU" && h.region == "eu-west-1") {
			return newError("IllegalLocationConstraintException",
				"The "+lc+" location constraint is incompatible for the region specific endpoint this request was sent to ("+h.region+").")
		}
	}
	if err := h.store.CreateBucket(q.ctx, q.bucket, &cellar.BucketOptions{Region: h.region}); err != nil {
		return err
	}
	q.w.Header().Set("Location", "/"+q.bucket)
	return q.ok()
}

// headBucket serves HeadBucket: 200 with the bucket's region, or the
// status of the error alone.
func (h *handler) headBucket(q *request) error {
	info, err := h.store.Bucket(q.bucket).Info(q.ctx)
	if err != nil {
		return err
	}
	q.w.Header().Set("x-amz-bucket-region", h.bucketRegion(info))
	return q.ok()
}

// deleteBucket serves DeleteBucket.
func (h *handler) deleteBucket(q *request) error {
	if err := h.store.DeleteBucket(q.ctx, q.bucket); err != nil {
		return err
	}
	return q.noContent()
}

type locationConstraint struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ LocationConstraint"`
	Region  string   `xml:",chardata"`
}

// getBucketLocation serves GetBucketLocation: empty for us-east-1, as S3
// answers.
func (h *handler) getBucketLocation(q *request) error {
	info, err := h.store.Bucket(q.bucket).Info(q.ctx)
	if err != nil {
		return err
	}
	region := h.bucketRegion(info)
	if region == "us-east-1" {
		region = ""
	}
	return q.writeXML(http.StatusOK, &locationConstraint{Region: region})
}

type versioningConfiguration struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ VersioningConfiguration"`
	Status  string   `xml:"Status,omitempty"`
}

// getBucketVersioning serves GetBucketVersioning: no Status for a bucket
// that was never versioned.
func (h *handler) getBucketVersioning(q *request) error {
	state, err := h.store.Bucket(q.bucket).Versioning(q.ctx)
	if err != nil {
		return err
	}
	return q.writeXML(http.StatusOK, &versioningConfiguration{Status: string(state)})
}

// versioningRequest is the body of PutBucketVersioning, in any namespace.
type versioningRequest struct {
	XMLName   xml.Name `xml:"VersioningConfiguration"`
	Status    *string  `xml:"Status"`
	MfaDelete *string  `xml:"MfaDelete"`
}

// parseVersioning decodes a VersioningConfiguration body: the new state,
// or "" to leave it as it is.
func parseVersioning(data []byte) (cellar.VersioningState, error) {
	var v versioningRequest
	if err := decodeXML(data, &v); err != nil {
		return "", err
	}
	if v.MfaDelete != nil {
		switch strings.TrimSpace(*v.MfaDelete) {
		case "Disabled":
		case "Enabled":
			return "", errNotImplemented("MFA Delete is not implemented by this server.", "")
		default:
			return "", errMalformedXML("")
		}
	}
	if v.Status == nil {
		return "", nil
	}
	switch s := cellar.VersioningState(strings.TrimSpace(*v.Status)); s {
	case cellar.VersioningEnabled, cellar.VersioningSuspended:
		return s, nil
	}
	return "", errMalformedXML("")
}

// putBucketVersioning serves PutBucketVersioning.
func (h *handler) putBucketVersioning(q *request) error {
	data, err := q.readBody(maxXMLBody)
	if err != nil {
		return err
	}
	state, err := parseVersioning(data)
	if err != nil {
		return err
	}
	b := h.store.Bucket(q.bucket)
	if state == "" {
		// Nothing to change, but the bucket must exist.
		if _, err := b.Info(q.ctx); err != nil {
			return err
		}
		return q.ok()
	}
	if err := b.SetVersioning(q.ctx, state); err != nil {
		return err
	}
	return q.ok()
}

// versionIDHeader sets x-amz-version-id as S3 does: on every object of a
// bucket that has ever had versioning, "null" included, and never in a
// bucket that has not.
func (h *handler) versionIDHeader(q *request, bucket, versionID string) {
	h.versionHeader(q, "x-amz-version-id", bucket, versionID)
}

// versionHeader sets a version ID header by the rule of x-amz-version-id.
func (h *handler) versionHeader(q *request, header, bucket, versionID string) {
	if versionID == "" {
		return
	}
	if versionID == "null" {
		state, err := h.store.Bucket(bucket).Versioning(q.ctx)
		if err != nil || state == cellar.VersioningUnversioned {
			return
		}
	}
	q.w.Header().Set(header, versionID)
}

// checkACLHeaders refuses ACL headers that would grant anything: the store
// has one owner and no ACLs, so only the private canned ACL means what it
// says.
func checkACLHeaders(h http.Header) error {
	switch v := h.Get("x-amz-acl"); v {
	case "", "private", "bucket-owner-full-control":
	default:
		return errNotImplemented("The canned ACL "+v+" is not implemented by this server: ACLs are not supported.", "x-amz-acl")
	}
	for name := range h {
		if strings.HasPrefix(strings.ToLower(name), "x-amz-grant-") {
			return errNotImplemented("ACL grants are not implemented by this server.", name)
		}
	}
	return nil
}
