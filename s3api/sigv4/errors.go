package sigv4

import (
	"fmt"
	"net/http"
)

// Error is an authentication failure, carrying the S3 error code and HTTP
// status a handler should answer with, and a message for the client.
//
// Match an error against the sentinels below with errors.Is, which compares
// codes only: errors.Is(err, sigv4.ErrSignatureDoesNotMatch) holds whatever
// the message says. Use errors.As to get the code, status and message.
type Error struct {
	Code    string
	Status  int
	Message string
}

func (e *Error) Error() string { return "sigv4: " + e.Code + ": " + e.Message }

// Is reports whether target is an *Error with the same Code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t != nil && t.Code == e.Code
}

// The errors Verify and Result.Body return, with S3's codes, statuses and
// default messages. A returned error is a fresh *Error whose Message may say
// more; compare with errors.Is.
var (
	ErrAccessDenied          = &Error{"AccessDenied", http.StatusForbidden, "Access Denied"}
	ErrSignatureDoesNotMatch = &Error{"SignatureDoesNotMatch", http.StatusForbidden,
		"The request signature we calculated does not match the signature you provided. Check your key and signing method."}
	ErrInvalidAccessKeyID = &Error{"InvalidAccessKeyId", http.StatusForbidden,
		"The AWS Access Key Id you provided does not exist in our records."}
	ErrRequestTimeTooSkewed = &Error{"RequestTimeTooSkewed", http.StatusForbidden,
		"The difference between the request time and the current time is too large."}
	ErrAuthorizationHeaderMalformed = &Error{"AuthorizationHeaderMalformed", http.StatusBadRequest,
		"The authorization header is malformed."}
	ErrAuthorizationQueryParametersError = &Error{"AuthorizationQueryParametersError", http.StatusBadRequest,
		"Error parsing the query-string authentication parameters."}
	ErrXAmzContentSHA256Mismatch = &Error{"XAmzContentSHA256Mismatch", http.StatusBadRequest,
		"The provided 'x-amz-content-sha256' header does not match what was computed."}
	ErrIncompleteBody = &Error{"IncompleteBody", http.StatusBadRequest,
		"You did not provide the number of bytes specified by the Content-Length HTTP header."}
	ErrMalformedTrailer = &Error{"MalformedTrailerError", http.StatusBadRequest,
		"The request contained trailing data that was not well-formed or did not conform to our published schema."}
	ErrMissingContentLength = &Error{"MissingContentLength", http.StatusLengthRequired,
		"You must provide the Content-Length HTTP header."}
	ErrInvalidArgument = &Error{"InvalidArgument", http.StatusBadRequest, "Invalid Argument"}
	ErrInvalidRequest  = &Error{"InvalidRequest", http.StatusBadRequest, "Invalid Request"}
)

// errorf returns a fresh error with kind's code and status and a formatted
// message.
func errorf(kind *Error, format string, args ...any) *Error {
	return &Error{Code: kind.Code, Status: kind.Status, Message: fmt.Sprintf(format, args...)}
}

// clone returns a fresh copy of kind with its default message, so that no
// caller can modify a sentinel through a returned error.
func clone(kind *Error) *Error {
	e := *kind
	return &e
}

// malformed returns the error for a bad Authorization header or bad
// presigned query parameters, whichever the request used.
func malformed(presigned bool, format string, args ...any) *Error {
	if presigned {
		return errorf(ErrAuthorizationQueryParametersError, format, args...)
	}
	return errorf(ErrAuthorizationHeaderMalformed, "The authorization header is malformed; "+format, args...)
}

func malformedChunk(format string, args ...any) *Error {
	return errorf(ErrInvalidRequest, "Malformed aws-chunked body: "+format, args...)
}

func incompleteBody(format string, args ...any) *Error {
	return errorf(ErrIncompleteBody, format, args...)
}
