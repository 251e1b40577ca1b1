package s3api

import (
	"bytes"
	"net/http"

	"github.com/cellarhq/cellar"
)

// transitionMinSizeHeader is S3's x-amz-transition-default-minimum-object-size,
// which says which objects transitions leave alone by default. S3's default,
// all_storage_classes_128K, is the only value the store keeps: its
// transitions always skip objects under 128 KiB.
const (
	transitionMinSizeHeader  = "x-amz-transition-default-minimum-object-size"
	transitionMinSizeDefault = "all_storage_classes_128K"
	transitionMinSizeVaries  = "varies_by_storage_class"
)

// msgMissingIntegrity is what S3 answers (InvalidRequest) to a
// PutBucketLifecycleConfiguration with neither Content-MD5 nor an
// x-amz-checksum-* header or trailer.
const msgMissingIntegrity = "Missing required header for this request: Content-MD5"

// parseLifecycle decodes a LifecycleConfiguration body with the store's
// parser, which checks it as S3 does. The body must be XML: the store's
// parser also reads the aws CLI's JSON, which S3 does not take. Errors are
// an *apiError (MalformedXML) or the store's (ErrMalformedLifecycle,
// ErrInvalidLifecycle), which errorTable translates.
func parseLifecycle(data []byte) (*cellar.LifecycleConfig, error) {
	t := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(t) == 0 || t[0] != '<' {
		return nil, errMalformedXML("")
	}
	return cellar.ParseLifecycle(data)
}

// getBucketLifecycle serves GetBucketLifecycleConfiguration: the rules in
// S3's XML, or NoSuchLifecycleConfiguration.
func (h *handler) getBucketLifecycle(q *request) error {
	cfg, err := h.store.Bucket(q.bucket).Lifecycle(q.ctx)
	if err != nil {
		return err
	}
	q.w.Header().Set(transitionMinSizeHeader, transitionMinSizeDefault)
	return q.writeXML(http.StatusOK, cfg)
}

// putBucketLifecycle serves PutBucketLifecycleConfiguration. S3 requires
// an integrity check of the body: Content-MD5 or one x-amz-checksum-*
// header or trailer, each verified against the body.
func (h *handler) putBucketLifecycle(q *request) error {
	switch v, ok := q.r.Header[http.CanonicalHeaderKey(transitionMinSizeHeader)]; {
	case !ok || len(v) == 1 && v[0] == transitionMinSizeDefault:
	case len(v) == 1 && v[0] == transitionMinSizeVaries:
		return errNotImplemented("The "+transitionMinSizeVaries+" transition minimum object size is not implemented by this server: transitions skip objects under 128 KiB in every class.", transitionMinSizeHeader)
	default:
		return errInvalidArgument("Invalid value for "+transitionMinSizeHeader+" header; valid values are "+transitionMinSizeDefault+" and "+transitionMinSizeVaries+".", transitionMinSizeHeader, q.r.Header.Get(transitionMinSizeHeader))
	}
	ck, err := q.checksumRequest()
	if err != nil {
		return err
	}
	if ck.ContentMD5 == "" && ck.alg == "" {
		return newError("InvalidRequest", msgMissingIntegrity)
	}
	data, err := q.readBody(maxXMLBodyLarge) // checks Content-MD5
	if err != nil {
		return err
	}
	if ck.alg != "" {
		// The body has been read to its end, so a trailer has arrived.
		if err := ck.verify(ck.alg.Sum(data)); err != nil {
			return err
		}
	}
	cfg, err := parseLifecycle(data)
	if err != nil {
		return err
	}
	if err := h.store.Bucket(q.bucket).SetLifecycle(q.ctx, cfg); err != nil {
		return err
	}
	q.w.Header().Set(transitionMinSizeHeader, transitionMinSizeDefault)
	return q.ok()
}

// deleteBucketLifecycle serves DeleteBucketLifecycle: 204, whether or not
// the bucket had a configuration, as S3 answers.
func (h *handler) deleteBucketLifecycle(q *request) error {
	if err := h.store.Bucket(q.bucket).DeleteLifecycle(q.ctx); err != nil {
		return err
	}
	return q.noContent()
}
