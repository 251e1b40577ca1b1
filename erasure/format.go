package erasure

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/zeebo/blake3"
)

// Format constants; doc.go draws the layout.
const (
	headerMagic   = "CELLARSH"
	footerMagic   = "CELLARTR"
	formatVersion = 1

	hashLen       = 32                        // BLAKE3-256
	headerFixed   = 8 + 2 + 2 + 2 + 2 + 4 + 1 // magic .. data ID length
	maxHeaderLen  = headerFixed + MaxDataIDLen + hashLen
	trailerFixed  = 8 + 4 + hashLen // object size, record length, hash
	footerLen     = 4 + 8           // trailer length, magic
	maxTrailerLen = trailerFixed + MaxRecordSize

	// MaxDataIDLen is the longest data ID.
	MaxDataIDLen = 128
	// MaxRecordSize is the largest record a trailer holds.
	MaxRecordSize = 16 << 20
	// maxObjectSize bounds the object size read from a trailer, so that
	// layout arithmetic on a corrupt value cannot overflow.
	maxObjectSize = 1 << 56
)

var le = binary.LittleEndian

// Header is the fixed part at the start of every shard blob.
type Header struct {
	Params
	Shard  int    // this blob's shard index, 0..k+m-1
	DataID string // the object data's ID, [a-z0-9]{1,128}
}

// Validate checks that h can be encoded.
func (h Header) Validate() error {
	if err := h.Params.Validate(); err != nil {
		return err
	}
	if h.Shard < 0 || h.Shard >= h.Shards() {
		return fmt.Errorf("%w: Shard %d not in [0,%d)", ErrInvalidParams, h.Shard, h.Shards())
	}
	return validDataID(h.DataID)
}

// Len is the encoded length of h.
func (h Header) Len() int { return headerLen(len(h.DataID)) }

func headerLen(idLen int) int { return headerFixed + idLen + hashLen }

// AppendBinary appends the encoded header to b.
func (h Header) AppendBinary(b []byte) ([]byte, error) {
	if err := h.Validate(); err != nil {
		return b, err
	}
	start := len(b)
	b = append(b, headerMagic...)
	b = le.AppendUint16(b, formatVersion)
	b = le.AppendUint16(b, uint16(h.DataShards))
	b = le.AppendUint16(b, uint16(h.ParityShards))
	b = le.AppendUint16(b, uint16(h.Shard))
	b = le.AppendUint32(b, uint32(h.BlockSize))
	b = append(b, byte(len(h.DataID)))
	b = append(b, h.DataID...)
	sum := blake3.Sum256(b[start:])
	return append(b, sum[:]...), nil
}

// ParseHeader decodes the header at the start of b and returns it with its
// encoded length. Any malformed input gives an error wrapping ErrCorrupt;
// it never panics.
func ParseHeader(b []byte) (Header, int, error) {
	if len(b) < headerFixed {
		return Header{}, 0, fmt.Errorf("%w: header: %d bytes, need at least %d", ErrCorrupt, len(b), headerFixed)
	}
	if string(b[:8]) != headerMagic {
		return Header{}, 0, fmt.Errorf("%w: header: bad magic %q", ErrCorrupt, b[:8])
	}
	if v := le.Uint16(b[8:]); v != formatVersion {
		return Header{}, 0, fmt.Errorf("%w: header: unsupported format version %d", ErrCorrupt, v)
	}
	n := headerLen(int(b[20]))
	if len(b) < n {
		return Header{}, 0, fmt.Errorf("%w: header: %d bytes, need %d", ErrCorrupt, len(b), n)
	}
	if sum := blake3.Sum256(b[:n-hashLen]); !bytes.Equal(sum[:], b[n-hashLen:n]) {
		return Header{}, 0, fmt.Errorf("%w: header: hash mismatch", ErrCorrupt)
	}
	h := Header{
		Params: Params{
			DataShards:   int(le.Uint16(b[10:])),
			ParityShards: int(le.Uint16(b[12:])),
			BlockSize:    int(le.Uint32(b[16:])),
		},
		Shard:  int(le.Uint16(b[14:])),
		DataID: string(b[headerFixed : n-hashLen]),
	}
	if err := h.Validate(); err != nil {
		return Header{}, 0, fmt.Errorf("%w: header: %v", ErrCorrupt, err)
	}
	return h, n, nil
}

// Trailer ends every shard blob; it is written once the object's size and
// record are known.
type Trailer struct {
	Size   int64  // object size in bytes
	Record []byte // opaque bytes from the store (the version record)
}

// Len is the encoded length of t, footer included.
func (t Trailer) Len() int { return trailerFixed + len(t.Record) + footerLen }

// AppendBinary appends the encoded trailer and footer to b.
func (t Trailer) AppendBinary(b []byte) ([]byte, error) {
	if t.Size < 0 || t.Size > maxObjectSize {
		return b, fmt.Errorf("%w: Size %d not in [0,%d]", ErrInvalidParams, t.Size, int64(maxObjectSize))
	}
	if len(t.Record) > MaxRecordSize {
		return b, fmt.Errorf("%w: record of %d bytes > %d", ErrInvalidParams, len(t.Record), MaxRecordSize)
	}
	start := len(b)
	b = le.AppendUint64(b, uint64(t.Size))
	b = le.AppendUint32(b, uint32(len(t.Record)))
	b = append(b, t.Record...)
	sum := blake3.Sum256(b[start:])
	b = append(b, sum[:]...)
	b = le.AppendUint32(b, uint32(len(b)-start))
	return append(b, footerMagic...), nil
}

// parseFooter returns the trailer length recorded in the footer that ends b.
func parseFooter(b []byte) (int, error) {
	if len(b) < footerLen {
		return 0, fmt.Errorf("%w: footer: %d bytes, need %d", ErrCorrupt, len(b), footerLen)
	}
	f := b[len(b)-footerLen:]
	if string(f[4:]) != footerMagic {
		return 0, fmt.Errorf("%w: footer: bad magic %q", ErrCorrupt, f[4:])
	}
	tl := le.Uint32(f)
	if tl < trailerFixed || tl > maxTrailerLen {
		return 0, fmt.Errorf("%w: footer: trailer length %d not in [%d,%d]", ErrCorrupt, tl, trailerFixed, maxTrailerLen)
	}
	return int(tl), nil
}

// ParseTrailer decodes the trailer and footer that end b (b may hold more
// bytes before them) and returns the trailer with the number of bytes it
// took from the end of b. The Record is a copy. Any malformed input gives
// an error wrapping ErrCorrupt; it never panics.
func ParseTrailer(b []byte) (Trailer, int, error) {
	tl, err := parseFooter(b)
	if err != nil {
		return Trailer{}, 0, err
	}
	n := tl + footerLen
	if len(b) < n {
		return Trailer{}, 0, fmt.Errorf("%w: trailer: %d bytes, footer says %d", ErrCorrupt, len(b), n)
	}
	t := b[len(b)-n : len(b)-footerLen]
	if sum := blake3.Sum256(t[:tl-hashLen]); !bytes.Equal(sum[:], t[tl-hashLen:]) {
		return Trailer{}, 0, fmt.Errorf("%w: trailer: hash mismatch", ErrCorrupt)
	}
	size := le.Uint64(t)
	if size > maxObjectSize {
		return Trailer{}, 0, fmt.Errorf("%w: trailer: object size %d too large", ErrCorrupt, size)
	}
	if rl := le.Uint32(t[8:]); int(rl) != tl-trailerFixed {
		return Trailer{}, 0, fmt.Errorf("%w: trailer: record length %d does not fit trailer length %d", ErrCorrupt, rl, tl)
	}
	return Trailer{Size: int64(size), Record: bytes.Clone(t[12 : tl-hashLen])}, n, nil
}

// layout maps an object of a given size onto the byte positions of its
// shard blobs. Every shard blob of an object has the same layout.
type layout struct {
	k, m, n int
	bs      int64 // object bytes per full block
	sbs     int64 // shard block length of a full block
	hdrLen  int64
	size    int64
	nblocks int64
}

func newLayout(p Params, idLen int, size int64) layout {
	bs := int64(p.BlockSize)
	return layout{
		k: p.DataShards, m: p.ParityShards, n: p.Shards(),
		bs:      bs,
		sbs:     int64(p.ShardBlockSize()),
		hdrLen:  int64(headerLen(idLen)),
		size:    size,
		nblocks: (size + bs - 1) / bs,
	}
}

// blockLen is the number of object bytes in block j.
func (l *layout) blockLen(j int64) int64 {
	if j == l.nblocks-1 {
		return l.size - j*l.bs
	}
	return l.bs
}

// shardLen is the length of each shard block of block j: ceil(blockLen/k).
func (l *layout) shardLen(j int64) int64 {
	return (l.blockLen(j) + int64(l.k) - 1) / int64(l.k)
}

// blockOff is where block j's [hash][shard block] starts in a shard blob;
// every block before the last is full.
func (l *layout) blockOff(j int64) int64 { return l.hdrLen + j*(hashLen+l.sbs) }

// blocksEnd is where the trailer starts.
func (l *layout) blocksEnd() int64 {
	if l.nblocks == 0 {
		return l.hdrLen
	}
	return l.blockOff(l.nblocks-1) + hashLen + l.shardLen(l.nblocks-1)
}
