package checksum

import "errors"

var (
	// ErrUnknownAlgorithm reports a checksum algorithm name S3 does not define.
	ErrUnknownAlgorithm = errors.New("checksum: unknown algorithm")
	// ErrBadDigest reports a checksum value that is not valid base64 or not
	// exactly one digest of the algorithm's size.
	ErrBadDigest = errors.New("checksum: malformed digest")
	// ErrNotFullObject reports an attempt to combine checksums of an
	// algorithm that has no FULL_OBJECT form (SHA1, SHA256).
	ErrNotFullObject = errors.New("checksum: algorithm does not support full-object checksums")
)
