package index

import "errors"

var (
	// ErrNotFound is returned by Get when a key holds no value.
	ErrNotFound = errors.New("index: key not found")
	// ErrClosed is returned by every use of an Index, Snapshot or Iterator
	// after it (or the Index it came from) was closed.
	ErrClosed = errors.New("index: closed")
	// ErrCorruptKey is returned when decoding a key that was not produced by
	// the encoders of this package.
	ErrCorruptKey = errors.New("index: corrupt key")
	// ErrInvalidOp is returned by Apply for a batch holding an operation of
	// unknown kind. Nothing of such a batch is applied.
	ErrInvalidOp = errors.New("index: invalid batch operation")
)
