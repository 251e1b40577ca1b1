// Package erasure stores one object's bytes as k data and m parity
// Reed-Solomon shards, one blob per shard, spread over zones (backends),
// and reads them back verified.
//
// # Coding
//
// An object is cut into blocks of Params.BlockSize bytes; the last block
// may be shorter and an empty object has none. A block of blen bytes is
// split into k data shard blocks of L = ceil(blen/k) bytes (the last ones
// zero padded) and m parity shard blocks of L bytes are computed from them
// with github.com/klauspost/reedsolomon. For a full block L is
// ShardBlockSize() = ceil(BlockSize/k). Object byte x of a block lies in
// data shard x/L at offset x%L. Every shard block is stored behind its
// BLAKE3-256 hash, and readers check that hash before using a byte.
//
// Place puts shard i in zone (i+seed) mod zones. With the default RS(4,2)
// over three zones each zone holds two shards, so losing a whole zone, or
// any two shards, loses nothing.
//
// # Shard blob format (version 1)
//
// A shard blob is named BlobName(dataID, shard) = "data/<dataID>/<shard>".
// All integers are little endian; BLAKE3 means BLAKE3-256 (32 bytes).
//
//	header (53+n bytes)
//	   0   8  magic "CELLARSH"
//	   8   2  format version = 1
//	  10   2  k, data shards       (1..256)
//	  12   2  m, parity shards     (0..255, k+m <= 256)
//	  14   2  shard index          (0..k+m-1; data shards first)
//	  16   4  block size           (object bytes per block, k..64 MiB)
//	  20   1  n, data ID length    (1..128)
//	  21   n  data ID              ([a-z0-9])
//	21+n  32  BLAKE3 of header bytes [0, 21+n)
//
//	blocks, one per object block j = 0 .. ceil(size/blockSize)-1, back to back
//	   0  32  BLAKE3 of the shard block
//	  32   L  shard block; L = ShardBlockSize() except in the last block,
//	          where L = ceil(lastBlockLen/k). Block j starts at
//	          headerLen + j*(32+ShardBlockSize()).
//
//	trailer (44+r bytes)
//	   0   8  object size in bytes
//	   8   4  r, record length     (<= 16 MiB)
//	  12   r  record               (opaque bytes from the store)
//	12+r  32  BLAKE3 of trailer bytes [0, 12+r)
//
//	footer (12 bytes, the very end of the blob)
//	   0   4  trailer length = 44+r
//	   4   8  magic "CELLARTR"
//
// The blob's length is therefore exactly header + blocks + trailer +
// footer, which ReadHeaderTrailer and the Reader check. A scrubber or an
// index rebuild reads the header from the start and the footer, then the
// trailer, from the end (ReadHeaderTrailer); VerifyShard also checks every
// block hash.
//
// Decision: DESIGN.md lists the object size and the version record among
// the header's fields. Writes stream, so the size, the ETag and hence the
// record are known only when the body ends; rewinding a blob is not in the
// Backend interface, and buffering a shard would break bounded memory. So
// they live in the trailer, and the footer makes the trailer findable from
// the blob alone. The header keeps what is known at the start: the code
// parameters, the shard index and the data ID.
//
// Block hashes cover the shard block only, as DESIGN.md says; a block's
// place is fixed by the layout, and the header (verified when a reader
// opens a blob) binds the blob to its data ID and shard index.
//
// # Write path
//
// Writer.Write copies the stream into a stripe buffer laid out as k+m
// regions [hash][shard block] (small objects are first collected in a
// 64 KiB staging buffer); Writer.ReadFrom reads into the same places
// straight from its reader, so io.Copy copies each byte once. A full block
// is handed on at once: each data shard's goroutine hashes its shard block
// into the region's hash slot and appends the region to its backend writer
// with one Write, while an encoder goroutine computes parity (reedsolomon
// with one goroutine per call) and hands the parity regions to their
// shards' goroutines. With WriteOptions.Hashes a hash goroutine feeds the
// block's data shard blocks to the caller's hashes (the store's MD5) at the
// same time: it and the encoder only read the data shard blocks, and the
// block is reused when the last of them is done (a reference count). The
// caller fills the next buffer meanwhile; between two and four stripe
// buffers exist per Writer, so memory is bounded whatever the size.
// CloseWrite sends the last block and waits for the hashes, whose sums can
// then go into the record that Commit writes. A shard whose backend
// fails is dropped and recorded; the write goes on while at least Quorum
// shards remain and fails early with ErrQuorum otherwise. Commit sends the
// trailer and every shard goroutine commits its blob, in parallel.
//
// INVARIANT: nothing of a write stays visible unless Commit returns
// success: a failed or cancelled Commit deletes the shards it committed,
// and Abort after a successful Commit deletes them too.
//
// # Read path
//
// Reader.ReadAt fetches only the blocks a read covers and, for a range
// inside a block, only the data shards that hold it. Shard blobs are
// opened lazily; the header must match the data ID, shard index and
// params, else the shard is unusable. A shard read that fails, fails its
// hash, or is still running after HedgeAfter makes the Reader read further
// shards (data first, then parity) and decode the wanted data shards from
// the first k good ones. A sequential reader keeps a few decoded blocks in
// a cache and fetches the next ones in the background. Every bad shard is
// reported once by BadShards, for healing.
//
// INVARIANT: the Reader returns only bytes of shard blocks whose BLAKE3
// matched, or bytes decoded from k such blocks; otherwise ErrTooManyBad.
//
// A read that starts where the previous one ended is sequential: it asks
// for whole blocks and starts the readahead. The first read of a Reader is
// not, since it may be a small range; a partial block fetched for it is
// completed, not fetched again, when the reads turn out to be sequential.
//
// # Healing and scrubbing
//
// Rebuild rewrites chosen shards of an object from the others: a Reader
// decodes (and verifies) the object and a Writer restricted to those shards
// re-encodes it. Encoding is deterministic, so the rebuilt blobs equal the
// originals byte for byte. VerifyShard checks one blob on its own, and
// ParseBlobName maps a listed blob name back to its data ID and shard.
package erasure
