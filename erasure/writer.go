package erasure

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cellarhq/cellar/backend"
	"github.com/klauspost/reedsolomon"
	"github.com/zeebo/blake3"
)

const (
	// stageMax is how much of an object a Writer keeps in a small staging
	// buffer before it takes a full stripe buffer, so that small objects
	// never hold a stripe's worth of memory.
	stageMax = 64 << 10
	// inFlightBytes bounds the stripe buffers of one Writer: between 2 and
	// maxBufs stripes (one filling, the rest encoding, hashing and
	// writing). Stages stall in bursts (a shard's write waits on the
	// kernel, a goroutine waits for a core), and a deep pipeline lets the
	// others, above all the one running the caller's hashes, keep going
	// meanwhile: with 16 stripes in flight rather than 4, a 1 GiB put
	// took about 7% less time.
	inFlightBytes = 24 << 20
	maxBufs       = 16
	// baseBufs stripe buffers are every Writer's; beyond them a Writer
	// takes buffers only while the process's Writers together hold less
	// than extraBytes of such extra buffers. A deep pipeline helps a lone
	// stream, which has a core to spare; many writes at once keep both
	// cores busy anyway, and measured no faster with 16 stripes each (and
	// would hold inFlightBytes each).
	baseBufs   = 4
	extraBytes = 24 << 20
	// coalesceMax is how many bytes of a shard's header, first block and
	// trailer are joined into one backend Write.
	coalesceMax = 16 << 10
	// cleanupTimeout bounds deleting shards after a failed or aborted write.
	cleanupTimeout = time.Minute
)

// WriteOptions describe one object's shards for NewWriter.
type WriteOptions struct {
	Params
	Zones     []backend.Backend
	Placement []int  // shard -> zone index, from Place
	DataID    string // [a-z0-9]{1,128}, fresh for every object
	// Quorum is the least number of shards that must commit; 0 means k,
	// or k+1 when k == m. It must lie in [k, k+m].
	Quorum int
	// Hashes, if any, are fed every byte of the object, in order, by a
	// goroutine of the Writer's own, so that a slow hash (MD5 for an
	// ETag) runs beside encoding rather than before it. Their sums are
	// complete once CloseWrite, or else Commit, returns nil; read them
	// only then. The Writer uses them until CloseWrite, Commit or Abort
	// returns.
	Hashes []hash.Hash
}

// WriteResult describes a committed object.
type WriteResult struct {
	Size    int64
	Missing []int        // shards that failed, ascending; to be healed
	Failed  []ShardError // why each Missing shard failed, same order
}

type writerState int

const (
	writerOpen writerState = iota
	writerCommitted
	writerDone // failed, aborted, or aborted after commit
)

// A Writer streams one object into k+m shard blobs. Write and ReadFrom
// split the stream into blocks; each full block goes down a pipeline where
// an encoder goroutine computes parity, a hash goroutine (with
// WriteOptions.Hashes) feeds the block to the caller's hashes, and one
// goroutine per shard hashes its shard block and appends [hash][shard
// block] to its backend writer. At most a few blocks are in flight, so
// memory stays bounded whatever the size.
//
// A Writer is not safe for concurrent use. Exactly one of Commit or Abort
// must be called, also after an error.
type Writer struct {
	parent context.Context
	ctx    context.Context // governs the backend writers
	cancel context.CancelFunc

	p       Params
	k, m, n int
	S       int // full shard block length
	quorum  int
	dataID  string
	zones   []backend.Backend
	place   []int
	enc     reedsolomon.Encoder

	shards []*shardWriter // the shards written: all but when rebuilding
	nData  int            // shards[:nData] are data shards, the rest parity
	encCh  chan shardMsg  // blocks (and the trailer) for the encoder; nil without parity to write
	hashes []hash.Hash
	hashCh chan *blockBuf // blocks for the hash goroutine; nil without Hashes
	hashed chan struct{}  // closed when the hash goroutine has seen every block
	free   chan *blockBuf
	nbufs  int // stripe buffers this Writer may hold
	nalloc int
	extra  int // buffers counted in extraHeld

	staging bool      // still collecting a small object in stage
	stage   *blockBuf // contiguous bytes, while staging
	cur     *blockBuf // block being filled
	fill    int       // object bytes in cur
	size    int64
	ended   bool // the last block was sent and hashCh closed: no more object bytes

	live    atomic.Int32 // shards not failed
	failMu  sync.Mutex
	failErr error
	failed  chan struct{} // closed when the write can no longer succeed

	wg        sync.WaitGroup
	state     writerState
	err       error // sticky error once writerDone
	committed []int // shards committed, while writerCommitted
}

// shardWriter is the state of one shard's goroutine. committed and err are
// read only after the goroutine ends.
type shardWriter struct {
	idx, zone int
	ch        chan shardMsg
	attempted bool // Commit was called: the blob may exist even if it failed
	committed bool
	err       error
}

// shardMsg is a block to hash and write, or (blk == nil) the trailer,
// after which the shard commits.
type shardMsg struct {
	blk  *blockBuf
	tail []byte
}

// NewWriter starts writing an object's shards. The shard blobs are created
// in the background; nothing is visible until Commit succeeds. ctx governs
// the whole life of the Writer: cancelling it makes Write and Commit fail
// and publishes nothing.
func NewWriter(ctx context.Context, o *WriteOptions) (*Writer, error) {
	if o == nil {
		return nil, fmt.Errorf("%w: nil WriteOptions", ErrInvalidParams)
	}
	quorum, err := o.validate()
	if err != nil {
		return nil, err
	}
	all := make([]int, o.Shards())
	for i := range all {
		all[i] = i
	}
	return newWriter(ctx, o, all, quorum)
}

// newWriter starts a Writer that writes only the given shards (ascending,
// validated), for NewWriter (all of them) and Rebuild (the lost ones).
func newWriter(ctx context.Context, o *WriteOptions, only []int, quorum int) (*Writer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	k, m := o.DataShards, o.ParityShards
	var enc reedsolomon.Encoder
	if m > 0 {
		var err error
		if enc, err = encoderFor(k, m); err != nil {
			return nil, err
		}
	}
	w := &Writer{
		parent: ctx,
		p:      o.Params,
		k:      k, m: m, n: k + m,
		S:       o.ShardBlockSize(),
		quorum:  quorum,
		dataID:  o.DataID,
		zones:   slices.Clone(o.Zones),
		place:   slices.Clone(o.Placement),
		enc:     enc,
		failed:  make(chan struct{}),
		staging: o.BlockSize > stageMax,
	}
	w.ctx, w.cancel = context.WithCancel(ctx)
	w.nbufs = min(max(inFlightBytes/w.bufSize(), 2), maxBufs)
	w.free = make(chan *blockBuf, w.nbufs)
	// Each channel holds at most every stripe buffer, the last small block
	// and the trailer, so sends never block.
	chanCap := w.nbufs + 2
	for _, i := range only {
		w.shards = append(w.shards, &shardWriter{idx: i, zone: w.place[i], ch: make(chan shardMsg, chanCap)})
		if i < k {
			w.nData++
		}
	}
	w.live.Store(int32(len(w.shards)))
	w.wg.Add(len(w.shards))
	for _, s := range w.shards {
		go w.runShard(s)
	}
	if len(w.shards) > w.nData {
		w.encCh = make(chan shardMsg, chanCap)
		w.wg.Add(1)
		go w.runEncoder()
	}
	if len(o.Hashes) > 0 {
		w.hashes = slices.Clone(o.Hashes)
		w.hashCh = make(chan *blockBuf, chanCap)
		w.hashed = make(chan struct{})
		w.wg.Add(1)
		go w.runHasher()
	}
	return w, nil
}

// validate checks o and returns the effective quorum.
func (o *WriteOptions) validate() (int, error) {
	if err := o.Params.Validate(); err != nil {
		return 0, err
	}
	if err := validZones(o.Params, o.Zones, o.Placement); err != nil {
		return 0, err
	}
	if err := validDataID(o.DataID); err != nil {
		return 0, err
	}
	for i, h := range o.Hashes {
		if h == nil {
			return 0, fmt.Errorf("%w: Hashes[%d] is nil", ErrInvalidParams, i)
		}
	}
	k, n := o.DataShards, o.Shards()
	q := o.Quorum
	if q == 0 {
		q = k
		if k == o.ParityShards {
			q = k + 1
		}
	}
	if q < k || q > n {
		return 0, fmt.Errorf("%w: Quorum %d not in [%d,%d]", ErrInvalidParams, o.Quorum, k, n)
	}
	return q, nil
}

func validZones(p Params, zones []backend.Backend, place []int) error {
	if len(zones) == 0 {
		return fmt.Errorf("%w: no Zones", ErrInvalidParams)
	}
	for i, z := range zones {
		if z == nil {
			return fmt.Errorf("%w: Zones[%d] is nil", ErrInvalidParams, i)
		}
	}
	if len(place) != p.Shards() {
		return fmt.Errorf("%w: Placement has %d entries, want %d", ErrInvalidParams, len(place), p.Shards())
	}
	for i, z := range place {
		if z < 0 || z >= len(zones) {
			return fmt.Errorf("%w: Placement[%d] = %d not in [0,%d)", ErrInvalidParams, i, z, len(zones))
		}
	}
	return nil
}

func (w *Writer) bufSize() int { return w.n * (hashLen + w.S) }

// Write appends p to the object. It copies p, so the caller may reuse it
// at once. It blocks only while every stripe buffer is in flight.
func (w *Writer) Write(p []byte) (int, error) {
	if err := w.writable(); err != nil {
		return 0, err
	}
	total := 0
	for len(p) > 0 {
		if w.cur == nil {
			if w.staging {
				if w.stage == nil {
					w.stage = newStage()
				}
				if len(w.stage.b)+len(p) <= stageMax {
					w.stage.b = append(w.stage.b, p...)
					w.size += int64(len(p))
					return total + len(p), nil
				}
				if err := w.unstage(); err != nil {
					return total, w.stop(err)
				}
			} else {
				bb, err := w.acquire()
				if err != nil {
					return total, w.stop(err)
				}
				w.cur, w.fill = bb, 0
			}
		}
		c := w.cur.fillAt(w.fill, p, w.S, w.p.BlockSize)
		w.fill += c
		w.size += int64(c)
		total += c
		p = p[c:]
		if w.fill == w.p.BlockSize {
			w.dispatch(w.cur, w.S, w.fill)
			w.cur = nil
		}
	}
	return total, nil
}

// ReadFrom appends what r yields until io.EOF to the object, reading
// straight into the stripe buffers, so io.Copy(w, r) copies each byte
// once. It may be mixed with Write. It returns the bytes read and nil at
// io.EOF, or the first error: r's own, returned as it is, or the write's
// (a lost quorum, ctx done), after which the Writer is spent as after a
// failed Write. Bytes read before an error of r are part of the object.
func (w *Writer) ReadFrom(r io.Reader) (int64, error) {
	var total int64
	for {
		if err := w.writable(); err != nil {
			return total, err
		}
		p, err := w.space()
		if err != nil {
			return total, w.stop(err)
		}
		n, rerr := r.Read(p)
		if n < 0 || n > len(p) {
			return total, fmt.Errorf("erasure: ReadFrom: %T.Read returned %d for a %d-byte buffer", r, n, len(p))
		}
		w.advance(n)
		total += int64(n)
		if rerr == io.EOF {
			return total, nil
		}
		if rerr != nil {
			return total, rerr
		}
	}
}

// space returns where the next object bytes go: the rest of the staging
// buffer, or the rest of the current data shard block of the stripe being
// filled, taking a stripe buffer first if there is none. advance then
// accounts for the bytes put there.
func (w *Writer) space() ([]byte, error) {
	if w.cur == nil {
		if w.staging {
			if w.stage == nil {
				w.stage = newStage()
			}
			// One byte past stageMax tells an object of exactly stageMax
			// bytes, which stays staged, from a larger one.
			if len(w.stage.b) <= stageMax {
				return w.stage.b[len(w.stage.b) : stageMax+1], nil
			}
			if err := w.unstage(); err != nil {
				return nil, err
			}
		} else {
			bb, err := w.acquire()
			if err != nil {
				return nil, err
			}
			w.cur, w.fill = bb, 0
		}
	}
	i, o := w.fill/w.S, w.fill%w.S
	base := i*w.cur.stride + hashLen
	return w.cur.b[base+o : base+min(w.S, o+w.p.BlockSize-w.fill)], nil
}

// advance accounts for n object bytes put where space pointed, and sends a
// full block down the pipeline.
func (w *Writer) advance(n int) {
	w.size += int64(n)
	if w.cur == nil {
		w.stage.b = w.stage.b[:len(w.stage.b)+n]
		return
	}
	w.fill += n
	if w.fill == w.p.BlockSize {
		w.dispatch(w.cur, w.S, w.fill)
		w.cur = nil
	}
}

// writable is usable for Write and ReadFrom, which CloseWrite ends.
func (w *Writer) writable() error {
	if err := w.usable(); err != nil {
		return err
	}
	if w.ended {
		return fmt.Errorf("%w: write after CloseWrite", ErrClosed)
	}
	return nil
}

// usable reports why the Writer cannot take more data, if it cannot.
func (w *Writer) usable() error {
	if w.state != writerOpen {
		if w.err != nil {
			return w.err
		}
		return ErrClosed
	}
	if err := w.parent.Err(); err != nil {
		return w.stop(err)
	}
	select {
	case <-w.failed:
		return w.stop(w.failure())
	default:
		return nil
	}
}

// newStage returns an empty staging buffer. It has room for stageMax+1
// bytes, for ReadFrom; see space.
func newStage() *blockBuf {
	bb := getBlockBuf(stageMax+1, true)
	bb.b = bb.b[:0]
	return bb
}

// unstage moves the staged bytes into a stripe buffer; the object is
// larger than stageMax.
func (w *Writer) unstage() error {
	bb, err := w.acquire()
	if err != nil {
		return err
	}
	w.fill = bb.fillAt(0, w.stage.b, w.S, w.p.BlockSize)
	w.cur = bb
	w.stage.put()
	w.stage, w.staging = nil, false
	return nil
}

// acquire takes a free stripe buffer, allocating one while fewer than nbufs
// exist, else waiting for one to come back from the pipeline.
func (w *Writer) acquire() (*blockBuf, error) {
	select {
	case bb := <-w.free:
		return bb, nil
	default:
	}
	if w.nalloc < w.nbufs && (w.nalloc < baseBufs || w.reserveExtra()) {
		w.nalloc++
		bb := getBlockBuf(w.bufSize(), true)
		bb.spare, bb.stride = true, hashLen+w.S
		return bb, nil
	}
	select {
	case bb := <-w.free:
		return bb, nil
	case <-w.failed:
		return nil, w.failure()
	case <-w.parent.Done():
		return nil, w.parent.Err()
	}
}

// extraHeld is the bytes of stripe buffers the process's Writers hold
// beyond their first baseBufs; see extraBytes.
var extraHeld atomic.Int64

// reserveExtra counts one more buffer beyond baseBufs against extraBytes,
// if it fits.
func (w *Writer) reserveExtra() bool {
	n := int64(w.bufSize())
	if extraHeld.Add(n) > extraBytes {
		extraHeld.Add(-n)
		return false
	}
	w.extra++
	return true
}

// dispatch sends a filled block down the pipeline: data shards straight to
// their goroutines, the whole block to the encoder for parity and to the
// hash goroutine. The encoder writes only parity shard blocks, and the
// shard goroutines only their regions' hash slots, while the hash
// goroutine reads only data shard blocks, so all work on it at once; the
// last to finish frees it.
func (w *Writer) dispatch(bb *blockBuf, L, blen int) {
	bb.L, bb.blen = L, blen
	bb.zeroPad(blen, w.k)
	refs := len(w.shards)
	if w.hashCh != nil {
		refs++
	}
	bb.refs.Store(int32(refs))
	msg := shardMsg{blk: bb}
	for _, s := range w.shards[:w.nData] {
		s.ch <- msg
	}
	if w.encCh != nil {
		w.encCh <- msg
	}
	if w.hashCh != nil {
		w.hashCh <- bb
	}
}

// releaseBlock drops a pipeline goroutine's reference to bb.
func (w *Writer) releaseBlock(bb *blockBuf) {
	if bb.refs.Add(-1) != 0 {
		return
	}
	if bb.spare {
		w.free <- bb
	} else {
		bb.put()
	}
}

func (w *Writer) runEncoder() {
	defer w.wg.Done()
	shards := make([][]byte, w.n)
	for msg := range w.encCh {
		if bb := msg.blk; bb != nil && w.ctx.Err() == nil {
			for i := range shards {
				shards[i] = bb.data(i)
			}
			if err := w.enc.Encode(shards); err != nil {
				w.fail(fmt.Errorf("erasure: encode: %w", err))
			}
		}
		for _, s := range w.shards[w.nData:] {
			s.ch <- msg
		}
	}
	for _, s := range w.shards[w.nData:] {
		close(s.ch)
	}
}

// runHasher feeds each block's object bytes, in order, to the Hashes.
// Once the write is cancelled it only frees the blocks.
func (w *Writer) runHasher() {
	defer w.wg.Done()
	defer close(w.hashed)
	for bb := range w.hashCh {
		if w.ctx.Err() == nil {
			for i, rest := 0, bb.blen; rest > 0; i++ {
				p := bb.data(i)[:min(rest, bb.L)]
				for _, h := range w.hashes {
					h.Write(p)
				}
				rest -= len(p)
			}
		}
		w.releaseBlock(bb)
	}
}

// runShard creates shard s's blob, then hashes and writes every block it is
// sent and, on the trailer, writes it and commits. A failed shard keeps
// draining its channel so the pipeline never stalls.
func (w *Writer) runShard(s *shardWriter) {
	defer w.wg.Done()
	var bw backend.Writer
	fail := func(err error) {
		if s.err != nil {
			return
		}
		s.err = err
		if bw != nil {
			_ = bw.Abort()
			bw = nil
		}
		if left := int(w.live.Add(-1)); left < w.quorum {
			w.fail(fmt.Errorf("%w: %d of %d shards still writable, need %d; %v",
				ErrQuorum, left, len(w.shards), w.quorum, &ShardError{Zone: s.zone, Shard: s.idx, Err: err}))
		}
	}
	write := func(b []byte) {
		if s.err == nil {
			if _, err := bw.Write(b); err != nil {
				fail(err)
			}
		}
	}
	if b, err := w.zones[s.zone].Create(w.ctx, BlobName(w.dataID, s.idx)); err != nil {
		fail(err)
	} else {
		bw = b
	}
	// pend collects the header and, while they stay small, the first block
	// and the trailer, so that a small object costs one backend Write.
	pp := smallPool.Get().(*[]byte)
	pend, _ := Header{Params: w.p, Shard: s.idx, DataID: w.dataID}.AppendBinary((*pp)[:0])
	for msg := range s.ch {
		if bb := msg.blk; bb != nil {
			if s.err == nil {
				if err := w.ctx.Err(); err != nil {
					fail(err)
				} else {
					reg := bb.region(s.idx)
					sum := blake3.Sum256(reg[hashLen:])
					copy(reg, sum[:])
					switch {
					case pend == nil:
						write(reg)
					case len(pend)+len(reg) <= coalesceMax:
						pend = append(pend, reg...)
					default:
						write(pend)
						write(reg)
						pend = nil
					}
				}
			}
			w.releaseBlock(bb)
			continue
		}
		if s.err == nil {
			if pend != nil {
				pend = append(pend, msg.tail...)
				write(pend)
			} else {
				write(msg.tail)
			}
			if s.err == nil {
				s.attempted = true
				if err := bw.Commit(); err != nil {
					fail(err)
				} else {
					s.committed, bw = true, nil
				}
			}
		}
	}
	if bw != nil {
		_ = bw.Abort()
	}
	if cap(*pp) >= coalesceMax {
		*pp = (*pp)[:0]
		smallPool.Put(pp)
	}
}

// fail records the first error that dooms the write.
func (w *Writer) fail(err error) {
	w.failMu.Lock()
	defer w.failMu.Unlock()
	if w.failErr == nil {
		w.failErr = err
		close(w.failed)
	}
}

func (w *Writer) failure() error {
	w.failMu.Lock()
	defer w.failMu.Unlock()
	return w.failErr
}

// CloseWrite ends the object's bytes: it sends the last, short block down
// the pipeline and waits until the Hashes have seen every byte, so that
// their sums can go into the record given to Commit. Write and ReadFrom
// fail after it; Commit or Abort must still be called. It returns the
// write's error if it can no longer succeed. A second call does nothing.
func (w *Writer) CloseWrite() error {
	if err := w.usable(); err != nil {
		return err
	}
	w.end()
	if w.hashed != nil {
		<-w.hashed // quick once cancelled: the goroutine just frees blocks
	}
	return w.usable()
}

// end sends the last, short block, in its own layout, and closes the hash
// goroutine's channel, once.
func (w *Writer) end() {
	if w.ended {
		return
	}
	w.ended = true
	switch {
	case w.cur != nil && w.fill > 0: // ReadFrom may take a buffer and get no bytes
		L := (w.fill + w.k - 1) / w.k
		w.cur.relayout(w.S, L, w.fill)
		w.dispatch(w.cur, L, w.fill)
		w.cur = nil
	case w.stage != nil && len(w.stage.b) > 0:
		blen := len(w.stage.b)
		L := (blen + w.k - 1) / w.k
		bb := getBlockBuf(w.n*(hashLen+L), false)
		bb.stride, bb.L = hashLen+L, L
		bb.fillAt(0, w.stage.b, L, blen)
		w.dispatch(bb, L, blen)
	}
	if w.hashCh != nil {
		close(w.hashCh)
	}
}

// Commit flushes the last block, unless CloseWrite did, appends the
// trailer (object size and record) to every shard and commits the shards
// in parallel. If fewer than Quorum shards commit, or ctx is cancelled, it
// deletes those that did and returns an error (wrapping ErrQuorum, or
// ctx's error); nothing is left visible. Shards that failed are listed in
// the result for healing.
func (w *Writer) Commit(record []byte) (*WriteResult, error) {
	if err := w.usable(); err != nil {
		return nil, err
	}
	tail, err := Trailer{Size: w.size, Record: record}.AppendBinary(nil)
	if err != nil {
		return nil, w.stop(err)
	}
	w.end()
	msg := shardMsg{tail: tail}
	for _, s := range w.shards[:w.nData] {
		s.ch <- msg
		close(s.ch)
	}
	if w.encCh != nil {
		w.encCh <- msg
		close(w.encCh)
	}
	w.wg.Wait()
	w.cancel()
	w.releaseBuffers()

	res := &WriteResult{Size: w.size}
	var committed, doubtful []int
	for _, s := range w.shards {
		if s.committed {
			committed = append(committed, s.idx)
			continue
		}
		if s.attempted {
			// A failed Commit may still have published (a torn write,
			// a lost reply): remove whatever it left.
			doubtful = append(doubtful, s.idx)
		}
		res.Missing = append(res.Missing, s.idx)
		res.Failed = append(res.Failed, ShardError{Zone: s.zone, Shard: s.idx, Err: s.err})
	}
	w.state = writerDone
	if err := w.parent.Err(); err != nil {
		w.err = err
		if derr := w.deleteShards(append(committed, doubtful...)); derr != nil {
			// The context's error stays the one errors.Is finds.
			w.err = fmt.Errorf("%w (left for the sweeper: %v)", err, derr)
		}
		return nil, w.err
	}
	if len(committed) < w.quorum {
		w.err = fmt.Errorf("%w: %d of %d shards committed, need %d; %v",
			ErrQuorum, len(committed), len(w.shards), w.quorum, errors.Join(shardErrs(res.Failed)...))
		if derr := w.deleteShards(append(committed, doubtful...)); derr != nil {
			w.err = fmt.Errorf("%w (left for the sweeper: %v)", w.err, derr)
		}
		return nil, w.err
	}
	// Best effort: a missing shard is healed later in any case.
	_ = w.deleteShards(doubtful)
	w.state, w.committed = writerCommitted, committed
	return res, nil
}

func shardErrs(s []ShardError) []error {
	errs := make([]error, len(s))
	for i := range s {
		errs[i] = &s[i]
	}
	return errs
}

// Abort discards the object. Before Commit it stops the pipeline and
// aborts every shard writer; after a successful Commit it deletes the
// committed shards (for a store whose index commit then failed). It is
// safe to call after any error and more than once.
func (w *Writer) Abort() error {
	switch w.state {
	case writerOpen:
		w.stop(ErrClosed)
		return nil
	case writerCommitted:
		w.state, w.err = writerDone, ErrClosed
		return w.deleteShards(w.committed)
	default:
		return nil
	}
}

// stop tears the pipeline down without committing anything, records err as
// the Writer's sticky error and returns it.
func (w *Writer) stop(err error) error {
	if w.state != writerOpen {
		return err
	}
	w.state, w.err = writerDone, err
	w.cancel()
	for _, s := range w.shards[:w.nData] {
		close(s.ch)
	}
	if w.encCh != nil {
		close(w.encCh)
	}
	if !w.ended {
		w.ended = true
		if w.hashCh != nil {
			close(w.hashCh)
		}
	}
	w.wg.Wait()
	w.releaseBuffers()
	return err
}

// releaseBuffers returns every buffer to the pools once the pipeline is
// idle.
func (w *Writer) releaseBuffers() {
	if w.cur != nil {
		w.cur.put()
		w.cur = nil
	}
	if w.stage != nil {
		w.stage.put()
		w.stage = nil
	}
	for {
		select {
		case bb := <-w.free:
			bb.put()
		default:
			extraHeld.Add(-int64(w.extra * w.bufSize()))
			w.extra = 0
			return
		}
	}
}

// deleteShards removes shard blobs in parallel, with a context that
// survives the cancellation that may have caused the cleanup. A blob
// already gone is no error.
func (w *Writer) deleteShards(shards []int) error {
	if len(shards) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.parent), cleanupTimeout)
	defer cancel()
	errs := make([]error, len(shards))
	var wg sync.WaitGroup
	for j, i := range shards {
		wg.Go(func() {
			if err := w.zones[w.place[i]].Delete(ctx, BlobName(w.dataID, i)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs[j] = &ShardError{Zone: w.place[i], Shard: i, Err: err}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
