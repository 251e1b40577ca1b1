package sigv4

import (
	"crypto/subtle"
	"encoding/hex"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultMaxSkew is how far a request's time may be from the verifier's
// clock when Verifier.MaxSkew is zero: 15 minutes, as S3.
const DefaultMaxSkew = 15 * time.Minute

// Verifier authenticates S3 requests signed with AWS Signature Version 4.
// Its fields are read, never written, so one Verifier serves concurrent
// requests.
type Verifier struct {
	// Region is the region requests must be signed for, e.g. "us-east-1".
	// Empty accepts whatever region the client signed for.
	Region string
	// Lookup returns the secret key of an access key. A nil Lookup knows no
	// keys: every signed request fails with InvalidAccessKeyId.
	Lookup func(accessKey string) (secret string, ok bool)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxSkew is how far a header-signed request's time may be from Now,
	// either way, and how far in the future a presigned URL's X-Amz-Date may
	// be. Zero means DefaultMaxSkew.
	MaxSkew time.Duration
}

// Result is an authenticated (or anonymous) request.
type Result struct {
	// AccessKey is the access key that signed the request; "" if anonymous.
	AccessKey string
	// Anonymous is true when the request carried no signature at all.
	Anonymous bool
	// Body yields the object's payload bytes: passthrough for
	// UNSIGNED-PAYLOAD; for a hex SHA-256 x-amz-content-sha256 it verifies
	// the hash when the body ends (the final Read returns an *Error
	// XAmzContentSHA256Mismatch instead of io.EOF); for
	// STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
	// and STREAMING-UNSIGNED-PAYLOAD-TRAILER it decodes aws-chunked framing,
	// verifies every chunk signature (chained from the seed signature) and
	// the trailer signature, parses trailers, and fails with an *Error
	// (SignatureDoesNotMatch, IncompleteBody, ...) on any mismatch; it checks
	// the decoded length equals X-Amz-Decoded-Content-Length. Presigned URLs
	// use UNSIGNED-PAYLOAD.
	//
	// A signed chunk is verified before any of its bytes are returned. A
	// caller must still treat the upload as failed unless Body reaches
	// io.EOF: an error may come after earlier bytes were returned. Closing
	// Body closes the request body.
	Body io.ReadCloser
	// DecodedLength is the payload length when known (Content-Length, or
	// X-Amz-Decoded-Content-Length for streaming), else -1.
	DecodedLength int64
	// Trailer returns the trailing headers (e.g. X-Amz-Checksum-Crc32) once
	// Body has returned io.EOF, and nil before. A body without trailers
	// gives an empty, non-nil header at its end.
	Trailer func() http.Header
	// Streaming is true for aws-chunked bodies (the handler strips
	// "aws-chunked" from Content-Encoding).
	Streaming bool
	// PayloadHash is the request's x-amz-content-sha256 as signed:
	// UNSIGNED-PAYLOAD, one of the STREAMING- values, or a hex SHA-256.
	PayloadHash string
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew > 0 {
		return v.MaxSkew
	}
	return DefaultMaxSkew
}

// Verify authenticates r, signed by an Authorization header with
// AWS4-HMAC-SHA256 or by a presigned query string (X-Amz-Algorithm,
// X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders,
// X-Amz-Signature; expiry 1 to 604800 seconds, AccessDenied "Request has
// expired" after it). A request with neither is anonymous: Verify returns
// Result{Anonymous: true} and a nil error, and the handler decides whether
// to refuse it. Verify replaces nothing in r; read the payload through
// Result.Body. Every error is an *Error.
func (v *Verifier) Verify(r *http.Request) (*Result, error) {
	res, err := v.verify(r)
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (v *Verifier) verify(r *http.Request) (*Result, *Error) {
	if r == nil || r.URL == nil {
		return nil, errorf(ErrInvalidRequest, "no request URL")
	}
	authz := r.Header.Values("Authorization")
	params, qerr := parseQuery(r.URL.RawQuery)
	if qerr != nil {
		if len(authz) > 0 || hasPresignParam(r.URL.RawQuery) {
			return nil, errorf(ErrInvalidArgument, "The query string is not validly percent-encoded.")
		}
		params = nil
	}
	pre, preTime, perr := parsePresigned(params)
	if perr != nil {
		return nil, perr
	}
	switch {
	case len(authz) > 0 && pre != nil:
		return nil, errorf(ErrInvalidArgument, "Only one auth mechanism allowed; only the X-Amz-Algorithm query "+
			"parameter, Signature query string parameter or the Authorization header should be specified")
	case len(authz) > 1:
		return nil, malformed(false, "the request has %d Authorization headers.", len(authz))
	case len(authz) == 1:
		return v.verifyHeader(r, authz[0], params)
	case pre != nil:
		return v.verifyPresigned(r, pre, preTime, params)
	case hasV2Presign(params):
		return nil, errorf(ErrInvalidRequest, "Query-string authentication version 2 is not supported. Please use %s.", algorithm)
	}
	// Anonymous. The payload is still framed as the headers say: an
	// unsigned trailer needs no key, a signed stream cannot be read.
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		payload = UnsignedPayload
	}
	res, err := newBody(r, payload, nil)
	if err != nil {
		return nil, err
	}
	res.Anonymous = true
	return res, nil
}

func hasPresignParam(raw string) bool {
	return strings.Contains(raw, queryAlgorithm) || strings.Contains(raw, queryCredential) ||
		strings.Contains(raw, querySignature)
}

func hasV2Presign(params []queryParam) bool {
	var key, sig bool
	for _, p := range params {
		key = key || p.name == "AWSAccessKeyId"
		sig = sig || p.name == "Signature"
	}
	return key && sig
}

// verifyHeader authenticates a request signed with an Authorization header.
func (v *Verifier) verifyHeader(r *http.Request, header string, params []queryParam) (*Result, *Error) {
	a, err := parseAuthorization(header)
	if err != nil {
		return nil, err
	}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		return nil, errorf(ErrInvalidRequest, "Missing required header for this request: x-amz-content-sha256")
	}
	if err := checkPayloadHash(payload); err != nil {
		return nil, err
	}
	// The request time: x-amz-date, else Date, which must then be signed.
	var t time.Time
	var timeErr error
	if d := r.Header.Get("X-Amz-Date"); d != "" {
		t, timeErr = time.Parse(timeFormat, d)
		if len(d) != len(timeFormat) {
			timeErr = strconv.ErrSyntax
		}
	} else if d := r.Header.Get("Date"); d != "" {
		t, timeErr = http.ParseTime(d)
		if timeErr == nil && !contains(a.signedHeaders, "date") {
			return nil, unsignedHeaders("date")
		}
	} else {
		timeErr = strconv.ErrSyntax
	}
	if timeErr != nil {
		return nil, errorf(ErrAccessDenied, "AWS authentication requires a valid Date or x-amz-date header")
	}
	if err := checkScope(a.cred, v.Region, t, false); err != nil {
		return nil, err
	}
	if skew := v.now().Sub(t); skew > v.maxSkew() || -skew > v.maxSkew() {
		return nil, clone(ErrRequestTimeTooSkewed)
	}
	secret, ok := v.lookup(a.cred.accessKey)
	if !ok {
		return nil, clone(ErrInvalidAccessKeyID)
	}
	if !contains(a.signedHeaders, "host") {
		return nil, unsignedHeaders("host")
	}
	// Every x-amz-* header must be signed, so none can be added in flight.
	var unsigned []string
	for name := range r.Header {
		l := strings.ToLower(name)
		if strings.HasPrefix(l, "x-amz-") && !contains(a.signedHeaders, l) {
			unsigned = append(unsigned, l)
		}
	}
	if len(unsigned) > 0 {
		slices.Sort(unsigned)
		return nil, unsignedHeaders(unsigned...)
	}
	timestamp := t.UTC().Format(timeFormat)
	key := signingKey(secret, a.cred.date, a.cred.region)
	query := canonicalQuery(params, "")
	if !matchSignature(r, a, key, timestamp, query, payload) {
		return nil, clone(ErrSignatureDoesNotMatch)
	}
	res, err := newBody(r, payload, &chunkSigner{
		key: key, timestamp: timestamp, scope: a.cred.scope(), prev: a.signature,
	})
	if err != nil {
		return nil, err
	}
	res.AccessKey = a.cred.accessKey
	return res, nil
}

// verifyPresigned authenticates a presigned URL.
func (v *Verifier) verifyPresigned(r *http.Request, a *authorization, t time.Time, params []queryParam) (*Result, *Error) {
	if err := checkScope(a.cred, v.Region, t, true); err != nil {
		return nil, err
	}
	now := v.now()
	if t.Sub(now) > v.maxSkew() {
		return nil, errorf(ErrAccessDenied, "Request is not valid yet")
	}
	if now.Sub(t) > a.expires {
		return nil, errorf(ErrAccessDenied, "Request has expired")
	}
	secret, ok := v.lookup(a.cred.accessKey)
	if !ok {
		return nil, clone(ErrInvalidAccessKeyID)
	}
	if !contains(a.signedHeaders, "host") {
		return nil, unsignedHeaders("host")
	}
	// The payload is not signed, unless the URL itself says otherwise.
	payload := UnsignedPayload
	for _, p := range params {
		if p.name == queryContentSHA256 {
			payload = p.value
		}
	}
	if err := checkPayloadHash(payload); err != nil {
		return nil, err
	}
	if payload == StreamingPayload || payload == StreamingPayloadTrailer {
		return nil, errorf(ErrInvalidRequest, "A presigned URL cannot carry a signed aws-chunked payload.")
	}
	timestamp := t.UTC().Format(timeFormat)
	key := signingKey(secret, a.cred.date, a.cred.region)
	query := canonicalQuery(params, querySignature)
	if !matchSignature(r, a, key, timestamp, query, payload) {
		return nil, clone(ErrSignatureDoesNotMatch)
	}
	res, err := newBody(r, payload, nil)
	if err != nil {
		return nil, err
	}
	res.AccessKey = a.cred.accessKey
	return res, nil
}

func (v *Verifier) lookup(accessKey string) (string, bool) {
	if v.Lookup == nil {
		return "", false
	}
	return v.Lookup(accessKey)
}

// matchSignature computes the request's signature and compares it, in
// constant time, with the one claimed. The canonical URI is S3's single
// encoding of the decoded path; if that fails, the path exactly as sent is
// tried, for clients that sign their own (differently escaped) wire path.
// Likewise a host with an explicit default port is tried without it. Each
// candidate denotes the same resource, so the extra tries admit no request
// the signer did not mean.
func matchSignature(r *http.Request, a *authorization, key []byte, timestamp, query, payload string) bool {
	uris := []string{canonicalURI(r.URL.Path)}
	if raw := r.URL.EscapedPath(); raw != "" && raw != uris[0] {
		uris = append(uris, raw)
	}
	host := requestHost(r)
	hosts := []string{host}
	if h := stripDefaultPort(host); h != host {
		hosts = append(hosts, h)
	}
	scope := a.cred.scope()
	ok := false
	for _, h := range hosts {
		for _, uri := range uris {
			cr := canonicalRequest(r, uri, query, h, a.signedHeaders, payload)
			sig := signature(key, stringToSign(timestamp, scope, cr))
			if subtle.ConstantTimeCompare([]byte(sig), []byte(a.signature)) == 1 {
				ok = true
			}
		}
	}
	return ok
}

// checkPayloadHash accepts the x-amz-content-sha256 values S3 knows.
func checkPayloadHash(p string) *Error {
	switch p {
	case UnsignedPayload, StreamingPayload, StreamingPayloadTrailer, StreamingUnsignedTrailer:
		return nil
	case "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER":
		return errorf(ErrInvalidRequest, "Signature Version 4A (%s) is not supported.", p)
	}
	if len(p) == 64 {
		if _, err := hex.DecodeString(p); err == nil {
			return nil
		}
	}
	return errorf(ErrInvalidArgument, "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, %s, %s, %s or a valid sha256 value.",
		StreamingPayload, StreamingPayloadTrailer, StreamingUnsignedTrailer)
}

func unsignedHeaders(names ...string) *Error {
	return errorf(ErrAccessDenied, "There were headers present in the request which were not signed (HeadersNotSigned: %s)",
		strings.Join(names, ", "))
}

func contains(list []string, s string) bool { return slices.Contains(list, s) }
