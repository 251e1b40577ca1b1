package sigv4

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
)

// newBody returns the Result for r's payload, framed as payload (the
// x-amz-content-sha256 value) says. sig chains the chunk signatures of a
// signed stream; it is nil when the request had no Authorization header.
func newBody(r *http.Request, payload string, sig *chunkSigner) (*Result, *Error) {
	body := r.Body
	if body == nil {
		body = http.NoBody
	}
	res := &Result{DecodedLength: r.ContentLength, PayloadHash: payload}
	if res.DecodedLength < 0 {
		res.DecodedLength = -1
	}
	var end atomic.Pointer[http.Header]
	res.Trailer = func() http.Header {
		if h := end.Load(); h != nil {
			return *h
		}
		return nil
	}
	switch payload {
	case UnsignedPayload:
		res.Body = &plainBody{body: body, end: &end}
	case StreamingPayload, StreamingPayloadTrailer, StreamingUnsignedTrailer:
		signed := payload != StreamingUnsignedTrailer
		if signed && sig == nil {
			return nil, errorf(ErrAccessDenied, "%s requires an Authorization header.", payload)
		}
		if !signed {
			sig = nil
		}
		n, err := decodedLength(r)
		if err != nil {
			return nil, err
		}
		res.DecodedLength = n
		res.Streaming = true
		res.Body = &chunkedReader{
			src:      bufio.NewReaderSize(body, maxLineLen),
			body:     body,
			sig:      sig,
			trailers: payload != StreamingPayload,
			declared: declaredTrailers(r),
			want:     n,
			end:      &end,
		}
	default:
		want, err := hex.DecodeString(payload)
		if err != nil || len(want) != sha256.Size {
			return nil, checkPayloadHash(payload)
		}
		res.Body = &plainBody{body: body, end: &end, hash: sha256.New(), want: want}
	}
	return res, nil
}

// decodedLength parses X-Amz-Decoded-Content-Length, required for
// aws-chunked bodies.
func decodedLength(r *http.Request) (int64, *Error) {
	vs := r.Header.Values("X-Amz-Decoded-Content-Length")
	if len(vs) == 0 {
		return 0, errorf(ErrMissingContentLength,
			"An aws-chunked body requires the x-amz-decoded-content-length header.")
	}
	s := vs[0]
	n, err := strconv.ParseInt(s, 10, 64)
	if len(vs) > 1 || err != nil || n < 0 || s == "" || s[0] < '0' || s[0] > '9' {
		return 0, errorf(ErrInvalidArgument, "x-amz-decoded-content-length %q is not a length.", strings.Join(vs, ","))
	}
	return n, nil
}

// declaredTrailers returns the lowercase names that x-amz-trailer
// announces, or nil when the header is absent.
func declaredTrailers(r *http.Request) []string {
	vs := r.Header.Values("X-Amz-Trailer")
	if len(vs) == 0 {
		return nil
	}
	names := []string{}
	for _, v := range vs {
		for _, n := range strings.Split(v, ",") {
			if n = strings.ToLower(strings.TrimSpace(n)); n != "" {
				names = append(names, n)
			}
		}
	}
	return names
}

// bodyError maps an error from reading the request body: a body cut short
// is IncompleteBody; anything else (a network error, http.MaxBytesError)
// passes through.
func bodyError(err error) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return incompleteBody("The request body ended early.")
	}
	return err
}

// plainBody passes the body through, verifying its SHA-256 at the end when
// hash is set, and records the (empty) trailer at io.EOF.
type plainBody struct {
	body io.ReadCloser
	end  *atomic.Pointer[http.Header]
	hash hash.Hash // nil: UNSIGNED-PAYLOAD
	want []byte
	err  error // sticky, once the body ended
}

func (b *plainBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.body.Read(p)
	if b.hash != nil {
		b.hash.Write(p[:n])
	}
	switch {
	case err == io.EOF:
		if b.hash != nil && !equalBytes(b.hash.Sum(nil), b.want) {
			b.err = clone(ErrXAmzContentSHA256Mismatch)
			return n, b.err
		}
		b.err = io.EOF
		b.end.Store(&http.Header{})
	case err != nil:
		b.err = bodyError(err)
		return n, b.err
	}
	return n, err
}

func (b *plainBody) Close() error { return b.body.Close() }

func equalBytes(a, b []byte) bool { return string(a) == string(b) }
