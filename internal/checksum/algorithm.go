package checksum

import (
	"crypto/sha1"
	"crypto/sha256"
	"fmt"
	"hash"
	"hash/crc32"
	"strings"

	"github.com/minio/crc64nvme"
)

// Algorithm names one of the checksum algorithms S3 supports, spelled as S3
// spells it in x-amz-checksum-algorithm and x-amz-sdk-checksum-algorithm.
type Algorithm string

// The algorithms S3 supports.
const (
	CRC32     Algorithm = "CRC32"
	CRC32C    Algorithm = "CRC32C"
	CRC64NVME Algorithm = "CRC64NVME"
	SHA1      Algorithm = "SHA1"
	SHA256    Algorithm = "SHA256"
)

var algorithms = []Algorithm{CRC32, CRC32C, CRC64NVME, SHA1, SHA256}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Algorithms returns every supported algorithm, in a fixed order.
func Algorithms() []Algorithm {
	return append([]Algorithm(nil), algorithms...)
}

// ParseAlgorithm returns the algorithm named s, ignoring case
// ("crc32c" and "CRC32C" are the same). Any other name is an error that
// wraps ErrUnknownAlgorithm.
func ParseAlgorithm(s string) (Algorithm, error) {
	for _, a := range algorithms {
		if strings.EqualFold(s, string(a)) {
			return a, nil
		}
	}
	return "", fmt.Errorf("%w %q", ErrUnknownAlgorithm, s)
}

// ByHeaderName returns the algorithm whose checksum header is name
// (case-insensitive), e.g. "x-amz-checksum-crc32" gives CRC32. It is what a
// handler needs to map x-amz-trailer or a received header to an algorithm.
func ByHeaderName(name string) (Algorithm, bool) {
	const prefix = "x-amz-checksum-"
	if len(name) <= len(prefix) || !strings.EqualFold(name[:len(prefix)], prefix) {
		return "", false
	}
	a, err := ParseAlgorithm(name[len(prefix):])
	return a, err == nil
}

// Valid reports whether a is one of the supported algorithms.
func (a Algorithm) Valid() bool {
	for _, b := range algorithms {
		if a == b {
			return true
		}
	}
	return false
}

// New returns a fresh hash for a. Its Sum appends the big-endian digest that
// S3 base64-encodes. New panics if a is not a supported algorithm: values
// should come from ParseAlgorithm or the constants.
func (a Algorithm) New() hash.Hash {
	switch a {
	case CRC32:
		return crc32.NewIEEE()
	case CRC32C:
		return crc32.New(castagnoli)
	case CRC64NVME:
		return crc64nvme.New()
	case SHA1:
		return sha1.New()
	case SHA256:
		return sha256.New()
	}
	panic(fmt.Sprintf("checksum: New on unsupported algorithm %q", string(a)))
}

// HeaderName returns the lowercase name of the header that carries a's
// checksum, e.g. "x-amz-checksum-crc32c", or "" for an unsupported value.
func (a Algorithm) HeaderName() string {
	if !a.Valid() {
		return ""
	}
	return "x-amz-checksum-" + strings.ToLower(string(a))
}

// Size returns the length in bytes of a's digest, or 0 for an unsupported
// value.
func (a Algorithm) Size() int {
	switch a {
	case CRC32, CRC32C:
		return 4
	case CRC64NVME:
		return 8
	case SHA1:
		return sha1.Size
	case SHA256:
		return sha256.Size
	}
	return 0
}

// SupportsFullObject reports whether a multipart object may carry a
// FULL_OBJECT checksum of a: true for the CRCs, false for SHA1 and SHA256.
func (a Algorithm) SupportsFullObject() bool {
	switch a {
	case CRC32, CRC32C, CRC64NVME:
		return true
	}
	return false
}

// SupportsComposite reports whether a multipart object may carry a COMPOSITE
// checksum of a. S3 allows every algorithm except CRC64NVME, which is
// full-object only.
func (a Algorithm) SupportsComposite() bool {
	return a.Valid() && a != CRC64NVME
}

// Sum returns a's digest of data.
func (a Algorithm) Sum(data []byte) []byte {
	h := a.New()
	h.Write(data)
	return h.Sum(nil)
}

// String returns the algorithm's S3 name.
func (a Algorithm) String() string { return string(a) }
