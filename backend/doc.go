// Package backend defines the blob store that holds one zone's shards, and
// provides two implementations: Dir, a directory on a local filesystem, and
// Memory, for tests and in-memory stores. The subpackage faulty wraps any
// Backend to inject faults, and backendtest is the conformance suite that
// every implementation, fake and wrapper runs.
//
// A backend is deliberately dumb. It stores named byte strings and nothing
// else: validation, checksums, erasure coding, quorum and placement live in
// the layers above, once.
//
// # Names
//
// A blob name is 1 to 255 bytes of ASCII letters, digits, '-', '_', '.' and
// '/', where '/' separates non-empty segments that are neither "." nor "..".
// ValidName enforces this; every method that takes a name refuses other
// names with an error matching ErrInvalidName. Names are case-sensitive.
// A name and a longer name that extends it with '/' (say "a" and "a/b") are
// distinct blobs that can coexist. List prefixes are plain byte prefixes and
// need not be valid names.
//
// # Contract
//
// Every implementation keeps these promises; backendtest checks them.
//
//   - Atomic publish. Nothing written through a Writer is visible until
//     Commit succeeds. Then the whole blob appears at once, replacing any
//     earlier blob of that name: a concurrent Open, Stat or List sees the old
//     blob or the new one, never a mix, a prefix or nothing. Of several
//     concurrent writers to one name, the last to commit wins.
//   - Durability. When Commit returns nil the blob's bytes and its name are
//     on stable storage (for Dir: the file and every directory on its path
//     have been fsynced). A successful Delete is durable in the same way.
//   - Missing blobs. Open, Stat and Delete of a blob that is not there return
//     an error matching ErrNotExist and fs.ErrNotExist.
//   - Writers. A Writer is used by one goroutine. It does not retain the
//     slices passed to Write. The first failed Write poisons it: later Writes
//     and Commit return that error. Commit and Abort spend the Writer; then
//     Write and Commit return ErrSpent. A failed Commit publishes nothing
//     and releases the Writer's temporary resources itself, except that if
//     Dir fails to fsync the directory after the rename, the new blob may
//     be visible but not yet durable and Commit reports the error. Abort
//     after a successful Commit returns ErrSpent and leaves the blob in
//     place; in every other state Abort releases what the Writer holds and
//     returns nil, so `defer w.Abort()` is always safe.
//   - Readers. ReadAt has io.ReaderAt semantics: a read that reaches the end
//     of the blob returns the bytes there with io.EOF, a read at or beyond
//     the end returns 0 and io.EOF, and a negative offset is an error.
//     ReadAt is safe to call from several goroutines at once. ReadAt after
//     Close fails.
//   - Contexts. A method fails with the context's error if its ctx is done
//     when it is called. The ctx given to Create or Open governs the whole
//     life of the Writer or Reader: once it is done, Write, Commit and
//     ReadAt fail with its error and Commit publishes nothing.
//   - List calls fn without holding locks, so fn may call the backend,
//     including Delete of the blob it was given. A blob created or deleted
//     during the walk may or may not be reported.
//
// # Dir on disk
//
// A Dir rooted at R lays out its files like this:
//
//	R/tmp/blob-<random>.tmp  blobs being written, one file per Writer
//	R/tmp/probe-<random>.tmp made and removed at once by Probe
//	R/<h>/<file>             committed blobs
//
// where h is the first byte of SHA-256(name) as two lowercase hex digits,
// and file is the name with every '/' replaced by '+' (a byte that valid
// names never contain, so the mapping is one-to-one). The 256 fan-out
// directories keep the root at 257 entries and put a hundred million
// blobs at about 400,000 files a directory, which ext4's and XFS's hashed
// directories handle well. NewDir creates tmp and all 256 of them where
// missing and fsyncs R, every time it opens R, so that a commit never
// creates a directory; if a fan-out directory is removed while the Dir is
// open, the first Commit that finds it gone makes it again, durably.
//
// Decision: an earlier layout had two hashed levels, R/<h0>/<h1>/<file>,
// 65,536 leaves created as blobs first landed in them. In a fresh store
// nearly every commit then made a directory and fsynced its parent, three
// fsyncs a blob instead of two. NewDir refuses a root in that layout rather
// than show it as empty.
//
// Names are kept flat inside the leaf rather than turning their '/'
// segments into directories: that way "a" and "a/b" can coexist, a leaf
// never holds empty directories that a Delete would have to remove while a
// concurrent Commit renames into them, and the depth of the tree is fixed.
// Because the hash scatters names, List reads every fan-out directory
// whatever the prefix: it is for scrubbing, sweeping and rebuilding an
// index, not for serving object listings, which the index answers.
//
// A Writer writes straight to its temporary file (callers that write many
// small pieces should buffer). Commit fsyncs the file, renames it into its
// leaf directory and fsyncs the leaf directory: two fsyncs, no directory
// made, nothing stat'ed. While a blob is written its Writer keeps the disk
// busy from a goroutine of its own, one call at a time: every 1 MiB it
// starts the kernel's writeback of the new bytes (sync_file_range), and
// every 16 MiB it fdatasyncs the file instead, so that a large blob is on
// stable storage by the time Commit's fsync runs. On a disk with a
// volatile write cache that fsync's cache flush otherwise waits for the
// whole blob: on the virtual machine cellar is measured on, 0.4 to 0.7 s
// at the end of a 1 GiB put. The calls run off the writing goroutine
// because they block while the device flushes. A failed background
// fdatasync fails the Writer, as the kernel may have dropped the pages it
// could not write. R/tmp is on the same filesystem as the leaves, so
// the rename moves no data. (Temporary files in the leaves themselves
// would make the rename local to one directory, but measured no faster,
// and finding a crash's leftovers would then mean reading every leaf.) A
// crash leaves at most a temporary file in R/tmp, never a partial blob
// under its name. NewDir does not remove such leftovers, because another
// Dir, possibly in another process, may be writing there. Call
// (*Dir).SweepTemp(olderThan) at startup and now and again after, with an
// age well above the longest idle gap of a writer; it never removes the
// temporary files of the Dir's own live Writers, whatever their age.
//
// Dir needs a case-sensitive filesystem whose file names hold 255 bytes
// (ext4, XFS, btrfs, tmpfs, ZFS); on a case-insensitive one, names that
// differ only in case would collide.
package backend
