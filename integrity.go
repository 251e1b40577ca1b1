package cellar

import (
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"hash"

	"github.com/cellarhq/cellar/internal/checksum"
)

// Checksum is an object's or part's additional checksum, as S3 reports it
// in x-amz-checksum-* and x-amz-checksum-type.
type Checksum struct {
	Algorithm string // CRC32, CRC32C, CRC64NVME, SHA1 or SHA256
	Value     string // base64 of the digest; a COMPOSITE value ends in "-N"
	Type      string // FULL_OBJECT or COMPOSITE
}

// Checksum types and the algorithm the store uses when none is asked for,
// as S3 does for every new object.
const (
	ChecksumFullObject       = "FULL_OBJECT"
	ChecksumComposite        = "COMPOSITE"
	DefaultChecksumAlgorithm = "CRC64NVME"
)

// Integrity holds what a write checks besides its size: every write
// computes the body's MD5 (the ETag) and one checksum (ChecksumAlgorithm,
// CRC64NVME if empty) while it streams, and fails with ErrBadDigest,
// committing nothing, if either disagrees with a value given here.
type Integrity struct {
	// ChecksumAlgorithm is the checksum to compute and store.
	ChecksumAlgorithm string
	// Checksum is the expected checksum (base64), if known before the body.
	Checksum string
	// TrailingChecksum gives the expected checksum (base64) once the whole
	// body has been read, for checksums that arrive after the body (HTTP
	// trailers). It is called once, before anything is committed.
	TrailingChecksum func() string
	// ContentMD5 is the expected MD5 of the body, base64 (Content-MD5).
	ContentMD5 string
}

// ContentHeaders are the HTTP headers S3 stores with an object beside its
// content type and returns on GET and HEAD. They are kept as given.
type ContentHeaders struct {
	CacheControl       string
	ContentDisposition string
	ContentEncoding    string
	ContentLanguage    string
	Expires            string
}

// contentHeaderNames name ContentHeaders fields in records.
var contentHeaderNames = [...]string{"Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language", "Expires"}

func (h *ContentHeaders) fields() [5]*string {
	return [5]*string{&h.CacheControl, &h.ContentDisposition, &h.ContentEncoding, &h.ContentLanguage, &h.Expires}
}

// toMap and fromMap convert to the map a record stores.
func (h ContentHeaders) toMap() map[string]string {
	var m map[string]string
	for i, f := range h.fields() {
		if *f != "" {
			if m == nil {
				m = make(map[string]string)
			}
			m[contentHeaderNames[i]] = *f
		}
	}
	return m
}

func contentHeadersFrom(m map[string]string) ContentHeaders {
	var h ContentHeaders
	for i, f := range h.fields() {
		*f = m[contentHeaderNames[i]]
	}
	return h
}

func (h ContentHeaders) validate() error {
	for i, f := range h.fields() {
		for _, r := range *f {
			if r < ' ' && r != '\t' || r == 0x7f {
				return fmt.Errorf("%w: %s has a control character", ErrInvalidArgument, contentHeaderNames[i])
			}
		}
	}
	return nil
}

// checker computes a write's MD5 and checksum and compares them with what
// the Integrity expects.
type checker struct {
	in  Integrity
	alg checksum.Algorithm
	md5 hash.Hash
	ck  hash.Hash
}

func newChecker(in *Integrity) (*checker, error) {
	c := &checker{md5: md5.New()}
	if in != nil {
		c.in = *in
	}
	algName := c.in.ChecksumAlgorithm
	if algName == "" {
		algName = DefaultChecksumAlgorithm
	}
	alg, err := checksum.ParseAlgorithm(algName)
	if err != nil {
		return nil, fmt.Errorf("%w: checksum algorithm %q", ErrInvalidRequest, c.in.ChecksumAlgorithm)
	}
	c.alg = alg
	c.ck = alg.New()
	if c.in.ContentMD5 != "" {
		if b, err := base64.StdEncoding.DecodeString(c.in.ContentMD5); err != nil || len(b) != md5.Size {
			return nil, fmt.Errorf("%w: Content-MD5 %q is not a base64 MD5", ErrInvalidDigest, c.in.ContentMD5)
		}
	}
	if c.in.Checksum != "" {
		if _, err := checksum.Decode(c.in.Checksum, alg); err != nil {
			return nil, fmt.Errorf("%w: %s checksum %q is not valid", ErrInvalidRequest, alg, c.in.Checksum)
		}
	}
	return c, nil
}

func (c *checker) hashes() []hash.Hash { return []hash.Hash{c.md5, c.ck} }

// verify compares the sums, once the whole body has gone through the
// hashes, and returns the hex MD5 and the base64 checksum.
func (c *checker) verify() (etag, sum string, err error) {
	md := c.md5.Sum(nil)
	if c.in.ContentMD5 != "" && base64.StdEncoding.EncodeToString(md) != c.in.ContentMD5 {
		return "", "", fmt.Errorf("%w: the Content-MD5 you specified did not match what was received", ErrBadDigest)
	}
	sum = checksum.Encode(c.ck.Sum(nil))
	want := c.in.Checksum
	if c.in.TrailingChecksum != nil {
		want = c.in.TrailingChecksum()
		if _, err := checksum.Decode(want, c.alg); err != nil {
			return "", "", fmt.Errorf("%w: trailing %s checksum %q is not valid", ErrInvalidRequest, c.alg, want)
		}
	}
	if want != "" && want != sum {
		return "", "", fmt.Errorf("%w: the %s you specified did not match the calculated checksum", ErrBadDigest, c.alg)
	}
	return fmt.Sprintf("%x", md), sum, nil
}
