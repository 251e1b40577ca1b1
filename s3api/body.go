package s3api

import (
	"bytes"
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

// payload wraps the body of a request that the store reads. It counts the
// bytes against the declared length and hashes them against Content-MD5,
// and reports a failure from Read in place of io.EOF, so that the store,
// which commits only after a clean end of body, aborts the write. Errors
// are sticky: once a Read failed, every later Read fails the same way, and
// an error met together with data is held back to the next Read, so that
// io.ReadFull, which drops an error when it filled its buffer, cannot lose
// it.
//
// The store is given no size with a payload: the payload checks the
// length itself, so a failure at the very end of the body always reaches
// the store as a read error.
type payload struct {
	r    io.Reader
	want int64 // the declared length, -1 if unknown
	n    int64
	md5  hash.Hash
	sum  []byte // the Content-MD5 wanted, nil if none
	err  error  // sticky: io.EOF after a good end, else the failure
}

func newPayload(r io.Reader, want int64, contentMD5 []byte) *payload {
	p := &payload{r: r, want: want, sum: contentMD5}
	if contentMD5 != nil {
		p.md5 = md5.New()
	}
	return p
}

// Read implements io.Reader.
func (p *payload) Read(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	n, err := p.r.Read(b)
	p.n += int64(n)
	if p.md5 != nil {
		p.md5.Write(b[:n])
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

// finish checks a body that ended: io.EOF if it is whole and matches its
// Content-MD5.
func (p *payload) finish() error {
	if p.want >= 0 && p.n < p.want {
		return newError("IncompleteBody", fmt.Sprintf("You did not provide the number of bytes specified by the Content-Length HTTP header: %d of %d bytes.", p.n, p.want))
	}
	if p.md5 != nil && !bytes.Equal(p.md5.Sum(nil), p.sum) {
		return newError("BadDigest", "")
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

// contentMD5 reads the Content-MD5 header: nil if absent, InvalidDigest if
// it is not the base64 of 16 bytes.
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
