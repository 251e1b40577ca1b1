package checksum

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// Encode returns the S3 header form of a digest: standard base64 with
// padding.
func Encode(sum []byte) string {
	return base64.StdEncoding.EncodeToString(sum)
}

// Decode parses the header form of a checksum of algorithm a. The value must
// be canonical standard base64 (padding included) of exactly a.Size() bytes;
// anything else is an error wrapping ErrBadDigest.
func Decode(s string, a Algorithm) ([]byte, error) {
	size := a.Size()
	if size == 0 {
		return nil, fmt.Errorf("%w %q", ErrUnknownAlgorithm, string(a))
	}
	if len(s) != base64.StdEncoding.EncodedLen(size) {
		return nil, fmt.Errorf("%w: %s value of %d characters, want %d",
			ErrBadDigest, a, len(s), base64.StdEncoding.EncodedLen(size))
	}
	// Strict refuses non-zero padding bits, so each digest has exactly one
	// accepted spelling.
	sum, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(sum) != size {
		return nil, fmt.Errorf("%w: %s value %q is not base64 of %d bytes", ErrBadDigest, a, s, size)
	}
	return sum, nil
}

// Composite returns the COMPOSITE multipart digest: a's checksum of the
// concatenation of the parts' binary digests, in part order. The header
// value adds "-N"; see EncodeComposite.
func Composite(a Algorithm, parts [][]byte) []byte {
	h := a.New()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// EncodeComposite returns the header form of a COMPOSITE checksum of an
// object of n parts: Encode(sum) + "-" + n.
func EncodeComposite(sum []byte, n int) string {
	return Encode(sum) + "-" + strconv.Itoa(n)
}

// DecodeComposite parses "<base64>-N" as written by EncodeComposite. N must
// be a part count between 1 and 10,000.
func DecodeComposite(s string, a Algorithm) (sum []byte, n int, err error) {
	i := strings.LastIndexByte(s, '-')
	if i < 0 {
		return nil, 0, fmt.Errorf("%w: composite %s value %q has no -N part count", ErrBadDigest, a, s)
	}
	n, err = strconv.Atoi(s[i+1:])
	if err != nil || n < 1 || n > 10000 || s[i+1] == '+' || s[i+1] == '0' {
		return nil, 0, fmt.Errorf("%w: composite %s value %q has a bad part count", ErrBadDigest, a, s)
	}
	sum, err = Decode(s[:i], a)
	if err != nil {
		return nil, 0, err
	}
	return sum, n, nil
}
