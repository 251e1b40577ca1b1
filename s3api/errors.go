package s3api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/cellarhq/cellar"
	"github.com/cellarhq/cellar/s3api/sigv4"
)

// apiError is an S3 error answer: the code, HTTP status and message of
// S3's <Error> body. Handlers return it (or wrap it) for failures they find
// themselves; store errors are translated through errorTable.
type apiError struct {
	Code    string
	Status  int
	Message string
	// fields are extra elements of the <Error> body, in order, as S3 adds
	// them for some codes (BucketName, Key, RangeRequested, ...).
	fields []errorField
}

type errorField struct{ name, value string }

func (e *apiError) Error() string { return "s3api: " + e.Code + ": " + e.Message }

// with returns a copy of e with one more <Error> element.
func (e *apiError) with(name, value string) *apiError {
	c := *e
	c.fields = append(append([]errorField(nil), e.fields...), errorField{name, value})
	return &c
}

// s3Code is what S3 says for one error code.
type s3Code struct {
	status  int
	message string // S3's standard message
}

// codes are the S3 error codes this handler answers with, their statuses
// and S3's standard messages.
var codes = map[string]s3Code{
	"AccessDenied":                       {403, "Access Denied"},
	"BadDigest":                          {400, "The Content-MD5 you specified did not match what we received."},
	"BadRequest":                         {400, "Bad Request"},
	"BucketAlreadyExists":                {409, "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again."},
	"BucketAlreadyOwnedByYou":            {409, "Your previous request to create the named bucket succeeded and you already own it."},
	"BucketNotEmpty":                     {409, "The bucket you tried to delete is not empty"},
	"EntityTooLarge":                     {400, "Your proposed upload exceeds the maximum allowed size"},
	"EntityTooSmall":                     {400, "Your proposed upload is smaller than the minimum allowed object size."},
	"IllegalLocationConstraintException": {400, "The location constraint is incompatible for the region specific endpoint this request was sent to."},
	"IncompleteBody":                     {400, "You did not provide the number of bytes specified by the Content-Length HTTP header"},
	"InternalError":                      {500, "We encountered an internal error. Please try again."},
	"InvalidArgument":                    {400, "Invalid Argument"},
	"InvalidBucketName":                  {400, "The specified bucket is not valid."},
	"InvalidDigest":                      {400, "The Content-MD5 you specified is not valid."},
	"InvalidPart":                        {400, "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."},
	"InvalidPartNumber":                  {416, "The requested partnumber is not satisfiable"},
	"InvalidPartOrder":                   {400, "The list of parts was not in ascending order. Parts must be ordered by part number."},
	"InvalidRange":                       {416, "The requested range is not satisfiable"},
	"InvalidRequest":                     {400, "Invalid Request"},
	"InvalidStorageClass":                {400, "The storage class you specified is not valid"},
	"InvalidObjectState":                 {403, "The operation is not valid for the object's storage class"},
	"RestoreAlreadyInProgress":           {409, "Object restore is already in progress"},
	"InvalidTag":                         {400, "The tag provided was not a valid tag."},
	"KeyTooLongError":                    {400, "Your key is too long"},
	"MalformedXML":                       {400, "The XML you provided was not well-formed or did not validate against our published schema"},
	"MaxMessageLengthExceeded":           {400, "Your request was too big."},
	"MetadataTooLarge":                   {400, "Your metadata headers exceed the maximum allowed metadata size."},
	"MethodNotAllowed":                   {405, "The specified method is not allowed against this resource."},
	"MissingContentLength":               {411, "You must provide the Content-Length HTTP header."},
	"NoSuchBucket":                       {404, "The specified bucket does not exist"},
	"NoSuchKey":                          {404, "The specified key does not exist."},
	"NoSuchLifecycleConfiguration":       {404, "The lifecycle configuration does not exist"},
	"NoSuchUpload":                       {404, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."},
	"NoSuchVersion":                      {404, "The specified version does not exist."},
	"NotImplemented":                     {501, "A header you provided implies functionality that is not implemented"},
	"NotModified":                        {304, "Not Modified"},
	"PreconditionFailed":                 {412, "At least one of the pre-conditions you specified did not hold"},
	"RequestTimeout":                     {400, "Your socket connection to the server was not read from or written to within the timeout period."},
	"ServiceUnavailable":                 {503, "Please reduce your request rate."},
	"XAmzContentSHA256Mismatch":          {400, "The provided 'x-amz-content-sha256' header does not match what was computed."},
}

// newError makes the Error for an S3 code with the given message, or
// S3's standard message when msg is empty.
func newError(code, msg string) *apiError {
	c, ok := codes[code]
	if !ok {
		c = codes["InternalError"]
	}
	if msg == "" {
		msg = c.message
	}
	return &apiError{Code: code, Status: c.status, Message: msg}
}

// errorMapping maps a sentinel error of the store to an S3 code. detail
// says that the store's text, which names what was wrong, is the message;
// otherwise S3's standard message for the code is.
type errorMapping struct {
	err    error
	code   string
	detail bool
}

// errorTable is the one place where the store's errors become S3 codes and
// statuses, matched in order with errors.Is. Order matters only where one
// error matches two rows (a *cellar.DeleteMarkerError matches ErrNoSuchKey
// or ErrMethodNotAllowed, never both; ErrMalformedLifecycle matches
// ErrInvalidLifecycle too).
var errorTable = []errorMapping{
	{cellar.ErrNoSuchBucket, "NoSuchBucket", false},
	{cellar.ErrNoSuchKey, "NoSuchKey", false},
	{cellar.ErrNoSuchVersion, "NoSuchVersion", false},
	{cellar.ErrNoSuchUpload, "NoSuchUpload", false},
	// The store has no bucket owners: every credential of a handler is one
	// account, so a taken name is always the caller's own bucket.
	{cellar.ErrBucketAlreadyExists, "BucketAlreadyOwnedByYou", false},
	{cellar.ErrBucketNotEmpty, "BucketNotEmpty", false},
	{cellar.ErrInvalidBucketName, "InvalidBucketName", true},
	// Keys over 1024 bytes are caught before the store as KeyTooLongError;
	// what is left (empty, not UTF-8) is an invalid argument.
	{cellar.ErrInvalidKey, "InvalidArgument", true},
	{cellar.ErrMetadataTooLarge, "MetadataTooLarge", false},
	{cellar.ErrInvalidMetadata, "InvalidArgument", true},
	{cellar.ErrEntityTooLarge, "EntityTooLarge", true},
	{cellar.ErrEntityTooSmall, "EntityTooSmall", true},
	{cellar.ErrIncompleteBody, "IncompleteBody", true},
	// The store names the digest that failed (Content-MD5, CRC32, ...).
	{cellar.ErrBadDigest, "BadDigest", true},
	{cellar.ErrInvalidDigest, "InvalidDigest", false},
	{cellar.ErrPreconditionFailed, "PreconditionFailed", false},
	{cellar.ErrNotModified, "NotModified", false},
	{cellar.ErrMethodNotAllowed, "MethodNotAllowed", false},
	{cellar.ErrInvalidArgument, "InvalidArgument", true},
	{cellar.ErrInvalidRequest, "InvalidRequest", true},
	{cellar.ErrInvalidTag, "InvalidTag", true},
	{cellar.ErrTooManyTags, "BadRequest", true},
	{cellar.ErrTooManyKeys, "MalformedXML", true},
	{cellar.ErrInvalidPart, "InvalidPart", true},
	{cellar.ErrInvalidPartOrder, "InvalidPartOrder", false},
	{cellar.ErrInvalidPartNumber, "InvalidPartNumber", false},
	{cellar.ErrInvalidRange, "InvalidRange", true},
	// ErrMalformedLifecycle matches ErrInvalidLifecycle too: it comes
	// first. Both name the rule and field that S3 would refuse.
	{cellar.ErrMalformedLifecycle, "MalformedXML", true},
	{cellar.ErrInvalidLifecycle, "InvalidArgument", true},
	{cellar.ErrNoSuchLifecycleConfiguration, "NoSuchLifecycleConfiguration", false},
	{cellar.ErrInvalidStorageClass, "InvalidStorageClass", true},
	// An archived object read before it is restored, or a restore of one
	// that is not archived.
	{cellar.ErrInvalidObjectState, "InvalidObjectState", true},
	{cellar.ErrRestoreAlreadyInProgress, "RestoreAlreadyInProgress", false},
	// What the store does not support; the store's text says what.
	{cellar.ErrNotImplemented, "NotImplemented", true},
	{cellar.ErrQuorum, "ServiceUnavailable", false},
	{cellar.ErrClosed, "ServiceUnavailable", false},
	{cellar.ErrCorrupt, "InternalError", false},
	// A client that went away mid-request; the answer is seldom read.
	{context.Canceled, "RequestTimeout", false},
	{context.DeadlineExceeded, "ServiceUnavailable", false},
}

// toError translates any error into the S3 error to answer with: an *apiError
// or *sigv4.Error anywhere in the chain as it is, then the first row of
// errorTable that matches, then InternalError.
func toError(err error) *apiError {
	var e *apiError
	if errors.As(err, &e) {
		return e
	}
	var se *sigv4.Error
	if errors.As(err, &se) {
		status := se.Status
		if status == 0 {
			status = http.StatusForbidden
		}
		return &apiError{Code: se.Code, Status: status, Message: se.Message}
	}
	for _, m := range errorTable {
		if errors.Is(err, m.err) {
			msg := ""
			if m.detail {
				msg = detail(err, m.err)
			}
			return newError(m.code, msg)
		}
	}
	return newError("InternalError", "")
}

// detail is an error's text made fit for a client: without the package
// prefixes and the text of the sentinel it matched (the code says that),
// and capitalized as S3's messages are when it begins with a word. A text
// that begins with a name ("bkt/key is in storage class GLACIER", or a
// bare bucket name) keeps the name as the client spelled it.
func detail(err, sentinel error) string {
	s := err.Error()
	for _, p := range []string{"cellar: ", "s3api: "} {
		s = strings.ReplaceAll(s, p, "")
	}
	s = strings.Replace(s, strings.TrimPrefix(sentinel.Error(), "cellar: ")+": ", "", 1)
	if first, _, ok := strings.Cut(s, " "); ok && first != "" && strings.Trim(first, "abcdefghijklmnopqrstuvwxyz") == "" {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	return s
}

// Helpers for errors the handler finds itself.

func errInvalidArgument(msg, name, value string) *apiError {
	e := newError("InvalidArgument", msg)
	if name != "" {
		e = e.with("ArgumentName", name).with("ArgumentValue", value)
	}
	return e
}

func errNotImplemented(msg, header string) *apiError {
	e := newError("NotImplemented", msg)
	if header != "" {
		e = e.with("Header", header)
	}
	return e
}

func errMalformedXML(msg string) *apiError { return newError("MalformedXML", msg) }

func errInvalidRange(requested string, size int64) *apiError {
	return newError("InvalidRange", "").
		with("RangeRequested", requested).
		with("ActualObjectSize", strconv.FormatInt(size, 10))
}
