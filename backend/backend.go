package backend

import (
	"context"
	"io"
	"time"
)

// Backend is one zone's blob store. Implementations are dumb: they store
// named byte strings and nothing else. Validation, checksums, quorum and
// placement live in the layers above.
//
// All methods must be safe for concurrent use.
type Backend interface {
	// Create starts a new blob called name. Nothing is visible under name
	// until the returned Writer's Commit succeeds; then the blob atomically
	// replaces any earlier blob of that name. ctx governs the whole life of
	// the Writer.
	Create(ctx context.Context, name string) (Writer, error)

	// Open opens a committed blob for ranged reads. ctx governs the whole
	// life of the Reader. A missing blob is an error that matches
	// ErrNotExist (and fs.ErrNotExist).
	Open(ctx context.Context, name string) (Reader, error)

	// Stat describes a committed blob. A missing blob matches ErrNotExist.
	Stat(ctx context.Context, name string) (Info, error)

	// Delete removes a committed blob. A missing blob matches ErrNotExist.
	Delete(ctx context.Context, name string) error

	// List calls fn for every committed blob whose name starts with
	// prefix, in no particular order. An error from fn stops the walk and
	// is returned.
	List(ctx context.Context, prefix string, fn func(Info) error) error

	// Probe reports whether the zone is reachable and working.
	Probe(ctx context.Context) error
}

// Writer receives a blob's bytes. Exactly one of Commit or Abort must be
// called; after either, the Writer is spent.
type Writer interface {
	io.Writer
	// Commit makes the blob durable (fsynced) and visible under its name
	// atomically, replacing any earlier blob of that name.
	Commit() error
	// Abort discards everything written. It is safe to call after a failed
	// Write or Commit.
	Abort() error
}

// Reader reads ranges of a committed blob.
type Reader interface {
	io.ReaderAt
	io.Closer
	// Size is the blob's length in bytes.
	Size() int64
}

// Info describes a committed blob.
type Info struct {
	Name    string
	Size    int64
	ModTime time.Time
}
