package sigv4

import (
	"strconv"
	"strings"
	"time"
)

// maxAuthorizationLen bounds the Authorization header and the presigned
// query values that are parsed. Real ones are a few hundred bytes.
const maxAuthorizationLen = 16 << 10

// maxExpires is the longest a presigned URL may be valid: seven days.
const maxExpires = 7 * 24 * time.Hour

// The presigned URL query parameters.
const (
	queryAlgorithm     = "X-Amz-Algorithm"
	queryCredential    = "X-Amz-Credential"
	queryDate          = "X-Amz-Date"
	queryExpires       = "X-Amz-Expires"
	querySignedHeaders = "X-Amz-SignedHeaders"
	querySignature     = "X-Amz-Signature"
	queryContentSHA256 = "X-Amz-Content-Sha256"
)

// credential is the parsed Credential: AKID/YYYYMMDD/region/s3/aws4_request.
type credential struct {
	accessKey, date, region, service, terminator string
}

func (c credential) scope() string { return scope(c.date, c.region) }

// authorization is what a signed request claims, from its Authorization
// header or its presigned query string.
type authorization struct {
	presigned     bool
	cred          credential
	signedHeaders []string // as listed, lowercase
	signature     string
	expires       time.Duration // presigned only
}

// parseAuthorization parses an Authorization header value of the form
//
//	AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request,
//	  SignedHeaders=host;range;x-amz-date, Signature=fe5f80f7...
//
// Components are separated by commas with optional spaces; each must
// appear exactly once.
func parseAuthorization(h string) (*authorization, *Error) {
	if len(h) > maxAuthorizationLen {
		return nil, malformed(false, "the header is longer than %d bytes.", maxAuthorizationLen)
	}
	h = strings.TrimSpace(h)
	alg, rest, _ := strings.Cut(h, " ")
	if alg != algorithm {
		switch {
		case alg == "AWS" || strings.HasPrefix(alg, "AWS4-"):
			return nil, errorf(ErrInvalidRequest,
				"The authorization mechanism you have provided is not supported. Please use %s.", algorithm)
		default:
			return nil, errorf(ErrInvalidArgument, "Unsupported Authorization Type")
		}
	}
	a := &authorization{}
	var cred, signed string
	var haveCred, haveSigned, haveSig bool
	for _, field := range strings.Split(rest, ",") {
		field = strings.TrimSpace(field)
		key, value, ok := strings.Cut(field, "=")
		if !ok {
			return nil, malformed(false, "the component %q is not of the form Name=value.", field)
		}
		var seen *bool
		switch key {
		case "Credential":
			cred, seen = value, &haveCred
		case "SignedHeaders":
			signed, seen = value, &haveSigned
		case "Signature":
			a.signature, seen = value, &haveSig
		default:
			return nil, malformed(false, "unknown component %q.", key)
		}
		if *seen {
			return nil, malformed(false, "the component %s appears more than once.", key)
		}
		*seen = true
	}
	if !haveCred || !haveSigned || !haveSig {
		return nil, malformed(false,
			"the authorization header requires three components: Credential, SignedHeaders, and Signature.")
	}
	var err *Error
	if a.cred, err = parseCredential(cred, false); err != nil {
		return nil, err
	}
	if a.signedHeaders, err = parseSignedHeaders(signed, false); err != nil {
		return nil, err
	}
	return a, nil
}

// parseCredential splits AKID/YYYYMMDD/region/service/aws4_request. Only the
// shape is checked here; scope values are checked against the request by
// checkScope.
func parseCredential(s string, presigned bool) (credential, *Error) {
	parts := strings.Split(s, "/")
	if len(parts) != 5 || parts[0] == "" || parts[2] == "" || parts[3] == "" {
		return credential{}, credentialError(presigned,
			`the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`)
	}
	if _, err := time.Parse(dateFormat, parts[1]); err != nil || len(parts[1]) != len(dateFormat) {
		return credential{}, credentialError(presigned,
			`incorrect date format %q. This date in the credential must be in the format "yyyyMMdd".`, parts[1])
	}
	return credential{parts[0], parts[1], parts[2], parts[3], parts[4]}, nil
}

func credentialError(presigned bool, format string, args ...any) *Error {
	if presigned {
		return errorf(ErrAuthorizationQueryParametersError, "Error parsing the X-Amz-Credential parameter; "+format, args...)
	}
	return malformed(false, format, args...)
}

// checkScope checks the credential scope against the request: the service
// is s3, the terminator aws4_request, the region the verifier's (any when
// region is empty), and the day that of the request time.
func checkScope(c credential, region string, t time.Time, presigned bool) *Error {
	if c.service != service {
		return credentialError(presigned, `incorrect service %q. This endpoint belongs to %q.`, c.service, service)
	}
	if c.terminator != terminator {
		return credentialError(presigned, `incorrect terminal %q. This endpoint uses %q.`, c.terminator, terminator)
	}
	if region != "" && c.region != region {
		return credentialError(presigned, `the region '%s' is wrong; expecting '%s'`, c.region, region)
	}
	if day := t.UTC().Format(dateFormat); c.date != day {
		return credentialError(presigned,
			`Invalid credential date %q. This date is not the same as X-Amz-Date: %q.`, c.date, day)
	}
	return nil
}

// parseSignedHeaders splits "host;range;x-amz-date". Names must be
// lowercase header names, each listed once; the list keeps its order, which
// is the order of the canonical headers.
func parseSignedHeaders(s string, presigned bool) ([]string, *Error) {
	names := strings.Split(s, ";")
	if len(names) > maxSignedHeaders {
		return nil, malformed(presigned, "more than %d signed headers.", maxSignedHeaders)
	}
	for i, n := range names {
		if !isLowerToken(n) {
			return nil, malformed(presigned, "the SignedHeaders list %q holds an invalid header name %q.", s, n)
		}
		for _, m := range names[:i] {
			if m == n {
				return nil, malformed(presigned, "the SignedHeaders list %q holds %q twice.", s, n)
			}
		}
	}
	return names, nil
}

// parsePresigned finds the presigned-URL parameters in params. It returns
// a nil authorization and error when none of X-Amz-Algorithm, X-Amz-Credential and
// X-Amz-Signature is present: the request is not presigned.
func parsePresigned(params []queryParam) (*authorization, time.Time, *Error) {
	get := map[string][]string{}
	for _, p := range params {
		switch p.name {
		case queryAlgorithm, queryCredential, queryDate, queryExpires, querySignedHeaders, querySignature:
			get[p.name] = append(get[p.name], p.value)
		}
	}
	if get[queryAlgorithm] == nil && get[queryCredential] == nil && get[querySignature] == nil {
		return nil, time.Time{}, nil
	}
	one := func(name string) (string, bool) {
		v := get[name]
		return strings.Join(v, ""), len(v) == 1 && len(v[0]) <= maxAuthorizationLen
	}
	alg, ok1 := one(queryAlgorithm)
	cred, ok2 := one(queryCredential)
	date, ok3 := one(queryDate)
	exp, ok4 := one(queryExpires)
	signed, ok5 := one(querySignedHeaders)
	sig, ok6 := one(querySignature)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return nil, time.Time{}, errorf(ErrAuthorizationQueryParametersError,
			"Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "+
				"X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters, each once.")
	}
	if alg != algorithm {
		return nil, time.Time{}, errorf(ErrAuthorizationQueryParametersError,
			"X-Amz-Algorithm only supports %q", algorithm)
	}
	t, err := time.Parse(timeFormat, date)
	if err != nil || len(date) != len(timeFormat) {
		return nil, time.Time{}, errorf(ErrAuthorizationQueryParametersError,
			`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`)
	}
	a := &authorization{presigned: true, signature: sig}
	secs, perr := strconv.ParseInt(exp, 10, 64)
	switch {
	case perr != nil || exp == "" || exp[0] < '0' || exp[0] > '9':
		return nil, time.Time{}, errorf(ErrAuthorizationQueryParametersError, "X-Amz-Expires should be a number")
	case secs < 1:
		return nil, time.Time{}, errorf(ErrAuthorizationQueryParametersError,
			"X-Amz-Expires must be at least 1 second")
	case secs > int64(maxExpires/time.Second):
		return nil, time.Time{}, errorf(ErrAuthorizationQueryParametersError,
			"X-Amz-Expires must be less than a week (in seconds) that is 604800")
	}
	a.expires = time.Duration(secs) * time.Second
	var e *Error
	if a.cred, e = parseCredential(cred, true); e != nil {
		return nil, time.Time{}, e
	}
	if a.signedHeaders, e = parseSignedHeaders(signed, true); e != nil {
		return nil, time.Time{}, e
	}
	return a, t, nil
}
