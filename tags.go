package cellar

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// S3's limits on object tags.
const (
	MaxTags           = 10
	MaxTagKeyLength   = 128 // Unicode characters
	MaxTagValueLength = 256 // Unicode characters
)

// ValidTags checks a set of object tags against S3's rules: at most 10
// tags; keys of 1 to 128 and values of 0 to 256 Unicode characters, made
// of letters, digits, spaces and + - = . _ : / @; no key beginning with
// the reserved "aws:".
func ValidTags(tags map[string]string) error {
	if len(tags) > MaxTags {
		return fmt.Errorf("%w: %d tags, at most %d", ErrTooManyTags, len(tags), MaxTags)
	}
	for k, v := range tags {
		if n := utf8.RuneCountInString(k); n < 1 || n > MaxTagKeyLength {
			return fmt.Errorf("%w: tag key %q is %d characters, want 1 to %d", ErrInvalidTag, k, n, MaxTagKeyLength)
		}
		if n := utf8.RuneCountInString(v); n > MaxTagValueLength {
			return fmt.Errorf("%w: value of tag %q is %d characters, at most %d", ErrInvalidTag, k, n, MaxTagValueLength)
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return fmt.Errorf("%w: tag key %q uses the reserved prefix aws:", ErrInvalidTag, k)
		}
		for _, s := range []string{k, v} {
			if !validTagChars(s) {
				return fmt.Errorf("%w: tag %q=%q has a character S3 does not allow", ErrInvalidTag, k, v)
			}
		}
	}
	return nil
}

func validTagChars(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == ' ' || strings.ContainsRune("+-=._:/@", r) {
			continue
		}
		return false
	}
	return true
}

func cloneTags(tags map[string]string) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	out := make(map[string]string, len(tags))
	for k, v := range tags {
		out[k] = v
	}
	return out
}
