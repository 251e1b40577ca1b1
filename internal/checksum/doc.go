// Package checksum implements the additional checksums that S3 lets a client
// attach to an object: CRC32 (IEEE), CRC32C (Castagnoli), CRC64NVME, SHA1 and
// SHA256.
//
// # Wire form
//
// A checksum travels in a header named after its algorithm
// (x-amz-checksum-crc32, x-amz-checksum-crc32c, x-amz-checksum-crc64nvme,
// x-amz-checksum-sha1, x-amz-checksum-sha256) as the standard base64 encoding
// of the big-endian digest bytes: 4 bytes for the CRC32s, 8 for CRC64NVME, 20
// for SHA1 and 32 for SHA256. [Encode] and [Decode] convert between the two;
// Decode refuses any string that is not exactly one digest of the algorithm's
// size, so a truncated or padded value never compares equal by accident.
//
// # Multipart objects
//
// S3 gives a multipart object one of two checksum types:
//
//   - COMPOSITE (every algorithm but CRC64NVME): the checksum of the
//     concatenated binary checksums of the parts, in part order, written with
//     a "-N" suffix where N is the number of parts. [Composite] computes the
//     digest and [EncodeComposite] the header value.
//   - FULL_OBJECT (CRC32, CRC32C and CRC64NVME only): the CRC of the whole
//     object, as if it had been uploaded in one piece. A CRC of A||B follows
//     from crc(A), crc(B) and len(B) alone, so the store never rereads the
//     data: [Combine] merges two parts and [FullObject] folds a whole list.
//
// Combine uses the GF(2) matrix method (as zlib's crc32_combine): appending
// len(B) zero bytes to A is a linear map on the CRC register. The maps for
// 2^k zero bytes, k < 64, are built once per algorithm by repeated squaring
// of the one-zero-bit operator; a combine then applies one per set bit of
// len(B), O(w·log n) for a w-bit CRC (about 100 ns). It is valid for the
// reflected CRCs here because each starts from and finishes with an
// all-ones register, so those affine terms cancel.
//
// INVARIANT: every digest this package returns or accepts is big-endian, the
// byte order that S3 base64-encodes and that hash.Hash.Sum appends.
package checksum
