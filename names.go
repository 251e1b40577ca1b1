package cellar

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"
)

// S3 limits the store enforces.
const (
	MaxKeyLength     = 1024
	MaxMetadataSize  = 2 << 10
	MaxPutSize       = 5 << 30
	MaxObjectSize    = 5 << 40
	MaxListKeys      = 1000
	MaxDeleteObjects = 1000
)

// ValidBucketName checks S3's rules for general purpose bucket names: 3 to
// 63 characters of lowercase letters, digits, '.' and '-', beginning and
// ending with a letter or digit, no two adjacent periods, not shaped like
// an IPv4 address, and none of S3's reserved prefixes and suffixes.
func ValidBucketName(name string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: %q %s", ErrInvalidBucketName, name, why)
	}
	if len(name) < 3 || len(name) > 63 {
		return bad("must be 3 to 63 characters long")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return bad("may hold only lowercase letters, digits, '.' and '-'")
		}
	}
	if !isAlnum(name[0]) || !isAlnum(name[len(name)-1]) {
		return bad("must begin and end with a letter or digit")
	}
	if strings.Contains(name, "..") {
		return bad("must not hold two adjacent periods")
	}
	if addr, err := netip.ParseAddr(name); err == nil && addr.Is4() {
		return bad("must not be formatted as an IP address")
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return bad("must not begin with the reserved prefix " + p)
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, s) {
			return bad("must not end with the reserved suffix " + s)
		}
	}
	return nil
}

func isAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

// ValidKey checks an object key: 1 to 1024 bytes of valid UTF-8.
func ValidKey(key string) error {
	if len(key) == 0 {
		return fmt.Errorf("%w: empty key", ErrInvalidKey)
	}
	if len(key) > MaxKeyLength {
		return fmt.Errorf("%w: key of %d bytes is over %d", ErrInvalidKey, len(key), MaxKeyLength)
	}
	if !utf8.ValidString(key) {
		return fmt.Errorf("%w: key %q is not valid UTF-8", ErrInvalidKey, key)
	}
	return nil
}

// normalizeMetadata checks user metadata and returns it with lowercased
// names, as S3 stores them. Names must be HTTP header tokens (they travel
// as x-amz-meta-NAME); values must be printable (tab allowed). The sum of
// the bytes of every name and value is at most MaxMetadataSize.
func normalizeMetadata(md map[string]string) (map[string]string, error) {
	if len(md) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(md))
	size := 0
	for k, v := range md {
		if k == "" {
			return nil, fmt.Errorf("%w: empty metadata name", ErrInvalidMetadata)
		}
		for i := 0; i < len(k); i++ {
			if !isTokenChar(k[i]) {
				return nil, fmt.Errorf("%w: metadata name %q has byte %#x", ErrInvalidMetadata, k, k[i])
			}
		}
		for _, r := range v {
			if r == utf8.RuneError || r < ' ' && r != '\t' || r == 0x7f {
				return nil, fmt.Errorf("%w: metadata %q has a control or invalid character in its value", ErrInvalidMetadata, k)
			}
		}
		lk := strings.ToLower(k)
		if _, dup := out[lk]; dup {
			return nil, fmt.Errorf("%w: metadata name %q given twice (names are case-insensitive)", ErrInvalidMetadata, k)
		}
		out[lk] = v
		size += len(k) + len(v)
	}
	if size > MaxMetadataSize {
		return nil, fmt.Errorf("%w: %d bytes of user metadata, limit %d", ErrMetadataTooLarge, size, MaxMetadataSize)
	}
	return out, nil
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
