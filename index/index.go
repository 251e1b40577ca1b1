package index

import (
	"context"
)

// Index is an ordered key-value store with atomic, durable batches. Keys
// and values are arbitrary byte strings compared bytewise.
//
// All methods must be safe for concurrent use. Slices passed in may be
// reused by the caller after the call returns; slices returned belong to
// the caller.
type Index interface {
	Reader
	// Apply commits every operation of b atomically and durably (synced to
	// stable storage) before returning.
	Apply(ctx context.Context, b *Batch) error
	// Snapshot returns a consistent read-only view of the index as of now.
	Snapshot(ctx context.Context) (Snapshot, error)
	// Close releases the index. Using it afterwards returns ErrClosed.
	Close() error
}

// Reader is the read side shared by an Index and its snapshots.
type Reader interface {
	// Get returns the value of key, or an error matching ErrNotFound.
	Get(ctx context.Context, key []byte) ([]byte, error)
	// NewIter returns an iterator over keys k with lower <= k < upper. A nil
	// bound is unbounded.
	NewIter(ctx context.Context, lower, upper []byte) (Iterator, error)
}

// Snapshot is a consistent read-only view of an Index.
type Snapshot interface {
	Reader
	Close() error
}

// Iterator walks keys in ascending order. It starts unpositioned: call
// First or SeekGE. Key and Value are valid until the next positioning call;
// copy them to keep them.
type Iterator interface {
	// First moves to the smallest key in range and reports Valid.
	First() bool
	// SeekGE moves to the smallest key in range that is >= key.
	SeekGE(key []byte) bool
	// Next moves to the following key and reports Valid.
	Next() bool
	// Valid reports whether the iterator is at a key.
	Valid() bool
	Key() []byte
	Value() []byte
	// Error returns the first error the iterator met, if any.
	Error() error
	Close() error
}

// OpKind is the kind of one batch operation.
type OpKind uint8

const (
	OpSet OpKind = iota + 1
	OpDelete
)

// Op is one operation of a Batch.
type Op struct {
	Kind  OpKind
	Key   []byte
	Value []byte // OpSet only
}

// Batch is an ordered list of writes applied atomically by Index.Apply.
// Later operations on a key win over earlier ones. The zero Batch is empty
// and ready to use.
type Batch struct {
	Ops []Op
}

// Set records that key is to hold value. Batch keeps its own copies.
func (b *Batch) Set(key, value []byte) {
	b.Ops = append(b.Ops, Op{Kind: OpSet, Key: clone(key), Value: clone(value)})
}

// Delete records that key is to be removed.
func (b *Batch) Delete(key []byte) {
	b.Ops = append(b.Ops, Op{Kind: OpDelete, Key: clone(key)})
}

// Len is the number of operations in b.
func (b *Batch) Len() int { return len(b.Ops) }

// Reset empties b for reuse.
func (b *Batch) Reset() { b.Ops = b.Ops[:0] }

func clone(p []byte) []byte {
	if p == nil {
		return []byte{}
	}
	return append([]byte(nil), p...)
}
