package s3api

import (
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"

	"github.com/cellarhq/cellar/s3api/sigv4"
)

// payload wraps the body of a request that the store reads or that the
// handler reads whole. It counts the bytes against the declared length
// and reports a failure from Read in place of io.EOF, so that the store,
// which commits only after a clean end of body, aborts the write; it
// classifies connection failures (IncompleteBody, RequestTimeout). Errors
// are sticky: once a Read failed, every later Read fails the same way, and
// an error met together with data is held back to the next Read, so that
// io.ReadFull, which drops an error when it filled its buffer, cannot lose
// it.
//
// The store checks object bodies itself (size, Content-MD5, checksums); a
// payload hashes only with withDigest: the Content-MD5 of an XML body, or
// a checksum the store cannot check (see uploadPart).
type payload struct {
	r       io.Reader
	want    int64 // the declared length, -1 if unknown
	n       int64
	started bool // Read was called
	digest  hash.Hash
	verify  func(sum []byte) error // checks digest's sum at the end
	err     error                  // sticky: io.EOF after a good end, else the failure
}

func newPayload(r io.Reader, want int64) *payload {
	return &payload{r: r, want: want}
}

// withDigest hashes the body with h and, when it ends, fails the last
// Read with what verify says of the sum.
func (p *payload) withDigest(h hash.Hash, verify func(sum []byte) error) *payload {
	p.digest, p.verify = h, verify
	return p
}

// Read implements io.Reader.
func (p *payload) Read(b []byte) (int, error) {
	p.started = true
	if p.err != nil {
		return 0, p.err
	}
	n, err := p.r.Read(b)
	p.n += int64(n)
	if p.digest != nil {
		p.digest.Write(b[:n])
	}
	switch {
	case p.want >= 0 && p.n > p.want:
		p.err = newError("IncompleteBody", fmt.Sprintf("The request body is longer than the %d bytes declared.", p.want))
	case err == io.EOF:
		p.err = p.finish()
	case err != nil:
		p.err = bodyError(err)
	default:
		return n, nil
	}
	if n > 0 && p.err != io.EOF {
		return n, nil // the failure comes with the next Read
	}
	return n, p.err
}

// finish checks a body that ended: io.EOF if it is whole and its digest
// verifies.
func (p *payload) finish() error {
	if p.want >= 0 && p.n < p.want {
		return newError("IncompleteBody", fmt.Sprintf("You did not provide the number of bytes specified by the Content-Length HTTP header: %d of %d bytes.", p.n, p.want))
	}
	if p.digest != nil {
		if err := p.verify(p.digest.Sum(nil)); err != nil {
			return err
		}
	}
	return io.EOF
}

// bodyError classifies a failure to read the request body: a verification
// failure keeps its own code; a connection that broke or stalled is
// IncompleteBody or RequestTimeout.
func bodyError(err error) error {
	var ae *apiError
	var se *sigv4.Error
	if errors.As(err, &ae) || errors.As(err, &se) {
		return err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%w (%v)", newError("RequestTimeout", ""), err)
	}
	return fmt.Errorf("%w (%v)", newError("IncompleteBody", "The request body ended early: "+err.Error()), err)
}

// contentMD5 reads the Content-MD5 header of an XML body, which the
// handler checks itself: nil if absent, InvalidDigest if it is not the
// base64 of 16 bytes. (The store checks the Content-MD5 of objects.)
func contentMD5(h http.Header) ([]byte, error) {
	v, ok := h["Content-Md5"]
	if !ok {
		return nil, nil
	}
	sum, err := base64.StdEncoding.DecodeString(v[0])
	if err != nil || len(sum) != md5.Size || len(v) > 1 {
		return nil, newError("InvalidDigest", "")
	}
	return sum, nil
}

// declaredLength is the length of the payload a PutObject or UploadPart
// carries: Content-Length, or x-amz-decoded-content-length for an
// aws-chunked body. A body of unknown length is MissingContentLength, as
// S3 answers.
func (q *request) declaredLength() (int64, error) {
	if q.auth != nil && q.auth.Streaming {
		if q.auth.DecodedLength < 0 {
			return 0, newError("MissingContentLength", "You must provide the x-amz-decoded-content-length header with an aws-chunked body.")
		}
		return q.auth.DecodedLength, nil
	}
	r := q.r
	if r.ContentLength < 0 || r.ContentLength == 0 && r.ProtoMajor == 1 && r.Header["Content-Length"] == nil {
		return 0, newError("MissingContentLength", "")
	}
	return r.ContentLength, nil
}
