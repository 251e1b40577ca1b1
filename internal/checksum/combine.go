package checksum

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/minio/crc64nvme"
)

// crcParams describes a reflected CRC for combination: its width in bits and
// its polynomial in reversed (LSB-first) form.
type crcParams struct {
	width int
	poly  uint64
	once  sync.Once
	ops   *[64]gf2Matrix // see zeroOps
}

func newCRCParams(width int, poly uint64) *crcParams {
	return &crcParams{width: width, poly: poly}
}

var (
	crc32Params     = newCRCParams(32, 0xEDB88320)     // crc32.IEEE, reversed
	crc32cParams    = newCRCParams(32, 0x82F63B78)     // crc32.Castagnoli, reversed
	crc64nvmeParams = newCRCParams(64, crc64nvme.NVME) // reversed
)

func (a Algorithm) crcParams() (*crcParams, bool) {
	switch a {
	case CRC32:
		return crc32Params, true
	case CRC32C:
		return crc32cParams, true
	case CRC64NVME:
		return crc64nvmeParams, true
	}
	return nil, false
}

// gf2Matrix is a linear map on a CRC register: column i is the image of the
// register with only bit i set.
type gf2Matrix [64]uint64

func (m *gf2Matrix) times(vec uint64) uint64 {
	var sum uint64
	for i := 0; vec != 0; i, vec = i+1, vec>>1 {
		if vec&1 != 0 {
			sum ^= m[i]
		}
	}
	return sum
}

// square sets m to src·src.
func (m *gf2Matrix) square(src *gf2Matrix, width int) {
	for i := 0; i < width; i++ {
		m[i] = src.times(src[i])
	}
}

// zeroOps returns ops where ops[k] is the operator that appends 2^k zero
// bytes to a message: ops[0] (eight zero bits) is the one-zero-bit operator
// squared three times, and each next one squares the last. Built once per
// algorithm, 32 KiB.
func (p *crcParams) zeroOps() *[64]gf2Matrix {
	p.once.Do(func() {
		ops := new([64]gf2Matrix)
		var bit, tmp gf2Matrix
		// The operator for one zero bit: shift right, folding the polynomial
		// in when the bit shifted out is set.
		bit[0] = p.poly
		for i := 1; i < p.width; i++ {
			bit[i] = 1 << (i - 1)
		}
		tmp.square(&bit, p.width) // 2 bits
		bit.square(&tmp, p.width) // 4 bits
		ops[0].square(&bit, p.width)
		for k := 1; k < len(ops); k++ {
			ops[k].square(&ops[k-1], p.width)
		}
		p.ops = ops
	})
	return p.ops
}

// combine returns crc(A||B) from crcA = crc(A), crcB = crc(B) and lenB:
// crcA shifted through lenB zero bytes, xored with crcB.
func (p *crcParams) combine(crcA, crcB uint64, lenB int64) uint64 {
	ops := p.zeroOps()
	for k, n := 0, uint64(lenB); n != 0; k, n = k+1, n>>1 {
		if n&1 != 0 {
			crcA = ops[k].times(crcA)
		}
	}
	return crcA ^ crcB
}

func (p *crcParams) load(b []byte) uint64 {
	if p.width == 32 {
		return uint64(binary.BigEndian.Uint32(b))
	}
	return binary.BigEndian.Uint64(b)
}

func (p *crcParams) store(v uint64) []byte {
	if p.width == 32 {
		return binary.BigEndian.AppendUint32(nil, uint32(v))
	}
	return binary.BigEndian.AppendUint64(nil, v)
}

// Combine returns the checksum of A||B given crcA = a's digest of A, crcB =
// a's digest of B and lenB = len(B), without the data. Digests are
// big-endian as hash.Hash.Sum returns them. a must be a CRC
// (SupportsFullObject); SHA1 and SHA256 give an error wrapping
// ErrNotFullObject. A digest of the wrong size or a negative length is an
// error wrapping ErrBadDigest.
func Combine(a Algorithm, crcA, crcB []byte, lenB int64) ([]byte, error) {
	p, ok := a.crcParams()
	if !ok {
		if !a.Valid() {
			return nil, fmt.Errorf("%w %q", ErrUnknownAlgorithm, string(a))
		}
		return nil, fmt.Errorf("%w: %s", ErrNotFullObject, a)
	}
	if len(crcA) != a.Size() || len(crcB) != a.Size() {
		return nil, fmt.Errorf("%w: %s digests of %d and %d bytes, want %d",
			ErrBadDigest, a, len(crcA), len(crcB), a.Size())
	}
	if lenB < 0 {
		return nil, fmt.Errorf("%w: negative length %d", ErrBadDigest, lenB)
	}
	return p.store(p.combine(p.load(crcA), p.load(crcB), lenB)), nil
}

// FullObject returns the FULL_OBJECT checksum of an object made of parts
// whose digests are crcs[i] and lengths lengths[i], in order: the digest the
// whole object would have had if uploaded at once. An object of no parts
// has the digest of empty data.
func FullObject(a Algorithm, crcs [][]byte, lengths []int64) ([]byte, error) {
	if len(crcs) != len(lengths) {
		return nil, fmt.Errorf("checksum: %d part digests but %d part lengths", len(crcs), len(lengths))
	}
	if !a.SupportsFullObject() {
		if !a.Valid() {
			return nil, fmt.Errorf("%w %q", ErrUnknownAlgorithm, string(a))
		}
		return nil, fmt.Errorf("%w: %s", ErrNotFullObject, a)
	}
	sum := a.New().Sum(nil)
	for i := range crcs {
		var err error
		if sum, err = Combine(a, sum, crcs[i], lengths[i]); err != nil {
			return nil, fmt.Errorf("part %d: %w", i+1, err)
		}
	}
	return sum, nil
}
