// Package index holds cellar's metadata: an ordered key-value store behind
// the small Index interface, its default implementation on Pebble, and the
// order-preserving key encoding the store builds its keys with. Package
// indextest checks any implementation against the contract below.
//
// # Contract
//
// Keys and values are byte strings; keys compare bytewise (bytes.Compare).
// The store never writes the empty key and the conformance suite does not
// require an implementation to support it. An empty value is a value: Get
// of a key set to an empty value returns an empty slice and no error, while
// Get of a missing key returns an error matching ErrNotFound.
//
// Batches. Apply commits every operation of a Batch or none of them, and
// returns only once the batch is durable: synced to stable storage, so that
// it survives a crash of the process or the machine. No reader ever sees
// part of a batch. Within a batch, a later operation on a key wins over an
// earlier one. A batch holding an operation of unknown kind is rejected
// with ErrInvalidOp and nothing of it is applied. Concurrent Apply calls are
// serialized in some order; an implementation may sync them together.
//
// Reads. Get and iterators see every batch whose Apply returned before they
// started (read-after-write). A Snapshot is a consistent view of the index
// as of its creation: batches applied afterwards are invisible to it. An
// iterator, whether made by an Index or a Snapshot, likewise reads one
// consistent view, taken when NewIter is called.
//
// Iterators. NewIter(lower, upper) walks the keys k with lower <= k < upper
// in ascending order; a nil bound is unbounded, and lower >= upper gives an
// empty iterator. A new iterator is unpositioned: call First or SeekGE.
// SeekGE to a key below lower behaves as First. When a positioning call
// returns false the iterator is exhausted or failed; Error tells which. The
// slices returned by Key and Value are owned by the iterator: valid until
// the next positioning call or Close, and read-only. Copy them to keep or
// modify them. An iterator is used by one goroutine at a time.
//
// Ownership. Slices passed to any method may be reused by the caller once
// the call returns: implementations copy what they keep (Batch copies on
// Set and Delete, and Apply copies again, so even a caller who fills
// Batch.Ops directly may reuse its slices). Slices returned by Get belong
// to the caller, who may modify them without affecting the index.
//
// Contexts. Every method that takes a context fails with the context's
// error if it is done when called. An iterator also checks the context of
// the NewIter call that made it, at each seek and every few hundred Next
// calls, and stops with the context's error, reported by Error.
//
// Closing. After Close, every method of the Index returns an error
// matching ErrClosed, and a second Close does too. Closing a Snapshot closes
// the iterators made from it; closing an Index closes its snapshots and
// iterators still open. Using any of them afterwards does not panic:
// positioning calls return false, Key and Value return nil, and Error,
// Get, NewIter and Close return ErrClosed. Close may be called while other
// goroutines are still using the index; it waits for the calls in flight.
//
// # Key encoding
//
// The store builds composite keys from components: a one-byte key space
// prefix, then escaped strings (bucket, object key) and fixed-width numbers
// (an inverted version), for example
//
//	key := []byte{prefixVersions}
//	key = index.AppendEscapedString(key, bucket)
//	key = index.AppendEscapedString(key, objectKey)
//	key = index.AppendUint64(key, ^version) // newest first
//
// AppendEscaped writes a string with each 0x00 byte replaced by 0x00 0xFF,
// then the terminator 0x00 0x01. For strings a and b, the encodings compare
// as a and b do, even with further components appended to each:
//
//   - Up to the first byte where a and b differ, the encodings are equal.
//   - If both have a byte there and neither is 0x00, the encodings differ in
//     that same byte.
//   - If a has 0x00 and b a byte x > 0x00, the encoding of a has 0x00 where
//     that of b has x.
//   - If a ends there, a proper prefix of b, the encoding of a continues
//     0x00 0x01 and that of b continues either x > 0x00 or 0x00 0xFF, and
//     0x01 < 0xFF.
//
// In every case the first differing byte of the encodings lies inside the
// encoded component, before anything appended after it, so later
// components only break ties. The encoding is prefix-free: 0x00 0x01 never
// occurs inside an encoded string, so DecodeEscaped finds where a component
// ends without knowing its length, and the encoding of a proper prefix of b
// is never a prefix of the encoding of b.
//
// Listing keys that begin with a raw prefix p uses AppendEscapedPrefix,
// which escapes p without the terminator: the encoding of s begins with it
// exactly when s begins with p, so the range
// [AppendEscapedPrefix(k, p), PrefixEnd(AppendEscapedPrefix(k, p))) holds
// exactly the keys under composite prefix k whose next component begins
// with p, in order.
//
// AppendUint64 writes 8 big-endian bytes, which sort numerically; writing
// ^v sorts in descending order.
//
// # Pebble
//
// OpenPebble and OpenPebbleMemory open the default implementation. Apply
// writes one Pebble batch with pebble.Sync, so concurrent commits share
// fsyncs (group commit). Bloom filters are on for every level, since most
// reads are point lookups of keys that may be missing. Pebble's
// informational log messages go to the configured slog.Logger at debug
// level and its errors at error level; a fatal error in Pebble (a failed
// sync of the write-ahead log, a broken internal invariant) is logged and
// then panics, since continuing could lose acknowledged writes.
package index
