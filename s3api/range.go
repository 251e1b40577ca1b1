package s3api

import (
	"strconv"
	"strings"
)

// byteRange is a satisfiable range of an object: its first byte and
// length.
type byteRange struct {
	start, length int64
}

// parseRange reads a Range header of a GetObject or HeadObject as S3 does,
// for an object of size bytes. A header that is not a single well-formed
// bytes range is ignored (ok false: the answer is the whole object), as
// S3 ignores multiple ranges and RFC 9110 says of invalid ones. A
// well-formed range that no byte of the object satisfies is InvalidRange
// (416): a first byte at or past the end (so any first-last range of an
// empty object), or a suffix of zero bytes.
func parseRange(header string, size int64) (r byteRange, ok bool, err error) {
	spec, found := strings.CutPrefix(strings.TrimSpace(header), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return byteRange{}, false, nil
	}
	firstStr, lastStr, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return byteRange{}, false, nil
	}
	firstStr, lastStr = strings.TrimSpace(firstStr), strings.TrimSpace(lastStr)
	unsatisfiable := errInvalidRange(header, size)
	if firstStr == "" {
		// A suffix: the last n bytes.
		n, valid := parseDigits(lastStr)
		if !valid {
			return byteRange{}, false, nil
		}
		if n == 0 {
			return byteRange{}, false, unsatisfiable
		}
		if size == 0 {
			// A non-empty suffix is satisfiable even for an empty object
			// (RFC 9110 14.1.1), but there is no byte to put in a
			// Content-Range: the answer is the whole, empty object.
			return byteRange{}, false, nil
		}
		n = min(n, size)
		return byteRange{start: size - n, length: n}, true, nil
	}
	first, valid := parseDigits(firstStr)
	if !valid {
		return byteRange{}, false, nil
	}
	last := int64(-1)
	if lastStr != "" {
		if last, valid = parseDigits(lastStr); !valid || last < first {
			return byteRange{}, false, nil
		}
	}
	if first >= size {
		return byteRange{}, false, unsatisfiable
	}
	if last < 0 || last >= size {
		last = size - 1
	}
	return byteRange{start: first, length: last - first + 1}, true, nil
}

// parseDigits parses a non-empty run of ASCII digits that fits an int64.
func parseDigits(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// parseCopyRange reads x-amz-copy-source-range: exactly
// "bytes=first-last", both inclusive, first <= last. Whether the range
// lies inside the source is the store's check (InvalidRange).
func parseCopyRange(header string) (first, last int64, err error) {
	bad := errInvalidArgument("The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
		"x-amz-copy-source-range", header)
	spec, ok := strings.CutPrefix(header, "bytes=")
	if !ok {
		return 0, 0, bad
	}
	a, b, ok := strings.Cut(spec, "-")
	if !ok {
		return 0, 0, bad
	}
	first, okA := parseDigits(a)
	last, okB := parseDigits(b)
	if !okA || !okB || last < first {
		return 0, 0, bad
	}
	return first, last, nil
}
