package erasure

import (
	"math/bits"
	"sync"
	"sync/atomic"
)

// blockBuf holds one stripe in memory: k+m regions, region i at i*stride,
// each [hash][shard block of L bytes]. Laying the hash right before its
// shard block lets a writer send both with one Write and a reader fetch
// both with one ReadAt.
type blockBuf struct {
	b      []byte
	stride int // distance between regions, >= hashLen+L
	L      int // shard block length of the stripe held now
	blen   int // object bytes in the stripe held now, set by dispatch
	refs   atomic.Int32
	spare  bool // belongs to a Writer's free list rather than a pool
	pool   *sync.Pool
}

// region is shard i's [hash][shard block].
func (bb *blockBuf) region(i int) []byte {
	o := i * bb.stride
	return bb.b[o : o+hashLen+bb.L]
}

// data is shard i's shard block.
func (bb *blockBuf) data(i int) []byte {
	o := i*bb.stride + hashLen
	return bb.b[o : o+bb.L]
}

// fillAt copies p to object-byte positions pos.. of a block whose data
// shards are L bytes long, stopping at limit, and returns how much it
// copied.
func (bb *blockBuf) fillAt(pos int, p []byte, L, limit int) int {
	total := 0
	for len(p) > 0 && pos < limit {
		i, o := pos/L, pos%L
		end := min(L, o+limit-pos)
		base := i*bb.stride + hashLen
		c := copy(bb.b[base+o:base+end], p)
		p = p[c:]
		pos += c
		total += c
	}
	return total
}

// relayout moves the first blen object bytes, laid out in data shards of S
// bytes, to data shards of L <= S bytes, in place. Byte x moves from
// (x/S)*stride+hashLen+x%S to (x/L)*stride+hashLen+x%L, which is never
// lower and grows with x, so copying runs from the highest byte down never
// overwrites a byte before it has moved.
func (bb *blockBuf) relayout(S, L, blen int) {
	if L == S {
		return
	}
	for pos := blen; pos > 0; {
		oi, ni := (pos-1)/S, (pos-1)/L
		start := max(oi*S, ni*L)
		src := oi*bb.stride + hashLen + start - oi*S
		dst := ni*bb.stride + hashLen + start - ni*L
		c := pos - start
		copy(bb.b[dst:dst+c], bb.b[src:src+c])
		pos = start
	}
}

// zeroPad zeroes the bytes of the k data shards (of L bytes) past the
// block's blen object bytes, so that parity is a function of the data.
func (bb *blockBuf) zeroPad(blen, k int) {
	for i := blen / bb.L; i < k; i++ {
		clear(bb.data(i)[max(blen-i*bb.L, 0):])
	}
}

// bufPools holds one sync.Pool of *blockBuf per buffer capacity.
var bufPools sync.Map // int -> *sync.Pool

// getBlockBuf returns a buffer of len size. With exact, its capacity is
// size (full stripes, one size per configuration); otherwise it is rounded
// up to a size class so that odd-sized last blocks share pools.
func getBlockBuf(size int, exact bool) *blockBuf {
	c := size
	if !exact {
		c = sizeClass(size)
	}
	pv, ok := bufPools.Load(c)
	if !ok {
		pv, _ = bufPools.LoadOrStore(c, new(sync.Pool))
	}
	pool := pv.(*sync.Pool)
	bb, _ := pool.Get().(*blockBuf)
	if bb == nil {
		bb = &blockBuf{b: make([]byte, c), pool: pool}
	}
	bb.b = bb.b[:size]
	bb.spare = false
	return bb
}

// put returns bb to its pool.
func (bb *blockBuf) put() {
	bb.b = bb.b[:cap(bb.b)]
	bb.pool.Put(bb)
}

// release drops a reference and pools bb when it was the last.
func (bb *blockBuf) release() {
	if bb.refs.Add(-1) == 0 {
		bb.put()
	}
}

// sizeClass rounds n up to 4 KiB or to a quarter step of its power of two,
// wasting at most a quarter.
func sizeClass(n int) int {
	if n <= 4096 {
		return 4096
	}
	q := 1 << (bits.Len(uint(n-1)) - 3)
	return (n + q - 1) / q * q
}

// smallPool holds the byte slices that coalesce a shard's small writes.
var smallPool = sync.Pool{New: func() any { b := make([]byte, 0, coalesceMax); return &b }}
