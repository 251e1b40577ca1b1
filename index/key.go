package index

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
)

// Escaped components. Inside a component a 0x00 byte is written as 0x00 0xFF;
// the component ends with 0x00 0x01. See the package documentation for why
// this preserves order.
const (
	escape        = 0x00
	escapedZero   = 0xFF // escape, escapedZero encodes one 0x00 byte
	escapedTerm   = 0x01 // escape, escapedTerm ends a component
	escapeMaxSize = 2    // bytes of output per input byte, at most
)

// AppendEscaped appends the escaped, terminated encoding of s to dst and
// returns the extended slice.
//
// Write E(s) for AppendEscaped(nil, s). For any byte strings a and b,
// bytes.Compare(E(a), E(b)) equals bytes.Compare(a, b), and when a != b so
// does comparing E(a)+x with E(b)+y for any suffixes x and y: the encoding
// is order-preserving and prefix-free, so composite keys built from several
// components sort by their first component, then their second, and so on.
func AppendEscaped(dst, s []byte) []byte {
	dst = slices.Grow(dst, len(s)+escapeMaxSize)
	dst = appendEscapedBytes(dst, s)
	return append(dst, escape, escapedTerm)
}

// AppendEscapedString is AppendEscaped for a string.
func AppendEscapedString(dst []byte, s string) []byte {
	dst = slices.Grow(dst, len(s)+escapeMaxSize)
	dst = appendEscapedString(dst, s)
	return append(dst, escape, escapedTerm)
}

// AppendEscapedPrefix appends the escaped encoding of p without the
// terminator. The result is a key prefix shared by the encodings of exactly
// those strings that begin with p: if s = p+r then AppendEscaped(nil, s) is
// AppendEscapedPrefix(nil, p) followed by the escaped r and the terminator,
// and conversely, because every 0x00 in AppendEscapedPrefix(nil, p) is
// followed by 0xFF, a key that begins with it decodes to a string that
// begins with p.
// So the half-open range [k, PrefixEnd(k)) with
// k = AppendEscapedPrefix(compositePrefix, p) visits, in order, every key
// whose escaped component begins with the raw prefix p.
func AppendEscapedPrefix(dst, p []byte) []byte {
	dst = slices.Grow(dst, len(p))
	return appendEscapedBytes(dst, p)
}

// AppendEscapedPrefixString is AppendEscapedPrefix for a string.
func AppendEscapedPrefixString(dst []byte, p string) []byte {
	dst = slices.Grow(dst, len(p))
	return appendEscapedString(dst, p)
}

func appendEscapedBytes(dst, s []byte) []byte {
	for {
		i := bytes.IndexByte(s, escape)
		if i < 0 {
			return append(dst, s...)
		}
		dst = append(dst, s[:i+1]...)
		dst = append(dst, escapedZero)
		s = s[i+1:]
	}
}

func appendEscapedString(dst []byte, s string) []byte {
	for {
		i := strings.IndexByte(s, escape)
		if i < 0 {
			return append(dst, s...)
		}
		dst = append(dst, s[:i+1]...)
		dst = append(dst, escapedZero)
		s = s[i+1:]
	}
}

// DecodeEscaped decodes one component written by AppendEscaped from the
// start of b. It returns the raw bytes s, in a new slice that does not alias
// b, and rest, the part of b after the component's terminator. Input that is
// not a valid encoding, including a component without its terminator, gives
// an error matching ErrCorruptKey.
func DecodeEscaped(b []byte) (s, rest []byte, err error) {
	s = []byte{}
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], escape)
		if j < 0 {
			return nil, nil, fmt.Errorf("%w: escaped component has no terminator", ErrCorruptKey)
		}
		s = append(s, b[i:i+j]...)
		i += j
		if i+1 == len(b) {
			return nil, nil, fmt.Errorf("%w: truncated escape at offset %d", ErrCorruptKey, i)
		}
		switch b[i+1] {
		case escapedZero:
			s = append(s, escape)
			i += 2
		case escapedTerm:
			return s, b[i+2:], nil
		default:
			return nil, nil, fmt.Errorf("%w: invalid escape 0x00 0x%02x at offset %d", ErrCorruptKey, b[i+1], i)
		}
	}
}

// PrefixEnd returns the smallest key that is greater than every key
// beginning with prefix, for use as the exclusive upper bound of a prefix
// scan. It returns nil, meaning no upper bound, when there is no such key:
// when prefix is empty or consists only of 0xFF bytes. The result never
// aliases prefix.
func PrefixEnd(prefix []byte) []byte {
	for i := len(prefix) - 1; i >= 0; i-- {
		if prefix[i] != 0xFF {
			end := make([]byte, i+1)
			copy(end, prefix)
			end[i]++
			return end
		}
	}
	return nil
}

// AppendUint64 appends v as 8 big-endian bytes, so that fixed-width numbers
// sort numerically. Append ^v instead to sort in descending order.
func AppendUint64(dst []byte, v uint64) []byte {
	return binary.BigEndian.AppendUint64(dst, v)
}

// DecodeUint64 decodes a number written by AppendUint64 from the start of b
// and returns it with the rest of b. Fewer than 8 bytes give an error
// matching ErrCorruptKey.
func DecodeUint64(b []byte) (v uint64, rest []byte, err error) {
	if len(b) < 8 {
		return 0, nil, fmt.Errorf("%w: %d bytes where a uint64 needs 8", ErrCorruptKey, len(b))
	}
	return binary.BigEndian.Uint64(b), b[8:], nil
}
