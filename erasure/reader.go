package erasure

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cellarhq/cellar/backend"
	"github.com/klauspost/reedsolomon"
	"github.com/zeebo/blake3"
)

const (
	// DefaultHedgeAfter is how long a shard read may take before the
	// Reader also reads parity and decodes from the first k good shards.
	DefaultHedgeAfter = 100 * time.Millisecond
	// DefaultReadahead is how many blocks a sequential reader fetches ahead.
	DefaultReadahead = 2
	// smallBlob is the blob size up to which a Reader fetches a whole shard
	// blob with one read when it opens it (header, blocks and trailer).
	smallBlob = 64 << 10
)

// ReadOptions describe one object's shards for Open. Params, Zones,
// Placement and DataID must be those it was written with; Size is the
// object size the writer reported.
type ReadOptions struct {
	Params
	Zones     []backend.Backend
	Placement []int
	DataID    string
	Size      int64
	// HedgeAfter is how long a shard read may take before parity is read
	// too; 0 means DefaultHedgeAfter, negative never hedges.
	HedgeAfter time.Duration
	// Readahead is how many blocks past a sequential read are fetched in
	// the background; 0 means DefaultReadahead, negative none.
	Readahead int
}

// A Reader reads an erasure-coded object with io.ReaderAt semantics. It
// fetches and verifies only the blocks a read touches and, within a block,
// only the data shards that hold the bytes asked for, decoding from parity
// when a shard is missing, corrupt, failing or slow. Sequential reads are
// served from a small cache of decoded blocks filled ahead in the
// background. Every shard block is checked against its BLAKE3 hash before
// use; a block that cannot be verified and decoded fails with ErrTooManyBad.
//
// A Reader is safe for concurrent use.
type Reader struct {
	ctx    context.Context
	cancel context.CancelFunc

	p       Params
	k, m, n int
	l       layout
	dataID  string
	zones   []backend.Backend
	place   []int
	enc     reedsolomon.Encoder
	hedge   time.Duration
	ahead   int
	maxEnts int // cache capacity in blocks
	// smallBlob is the blob size up to which a shard blob is fetched whole
	// on open; tests set 0 to check the ranged path gives the same results.
	smallBlob int64

	shards []shardReader

	mu     sync.Mutex
	closed bool
	cache  []*entry // least recently used first
	// lastEnd is where the previous ReadAt ended; a read starting there is
	// sequential. It starts at -1: a first read, even at 0, may well be a
	// small range, so it fetches just what it covers.
	lastEnd int64

	badMu sync.Mutex
	bad   []ShardError

	wg sync.WaitGroup // fetch and shard-read goroutines
}

// shardReader is one shard blob, opened and checked on first use.
type shardReader struct {
	once sync.Once
	r    backend.Reader
	mem  []byte // the whole blob, for small blobs (then r is nil)
	err  error
	dead atomic.Bool // unusable for any block: missing, bad header, failing I/O
}

// entry is one block in the cache. Its data shards lo..hi (at least) are
// available once done is closed, unless err is set. The fields below done
// are written only by the fetch, before done is closed.
type entry struct {
	block  int64
	lo, hi int
	refs   atomic.Int32 // cache, fetch and readers in progress
	done   chan struct{}

	err     error
	L       int
	shards  [][]byte // data shards, nil where not fetched
	buf     *blockBuf
	scratch []*blockBuf
	base    *entry // earlier entry of the same block whose shards are reused
}

func (e *entry) release() {
	if e.refs.Add(-1) != 0 {
		return
	}
	if e.buf != nil {
		e.buf.release()
	}
	for _, s := range e.scratch {
		s.release()
	}
	if e.base != nil {
		e.base.release()
	}
}

// Open prepares to read an object. It is cheap: shard blobs are opened,
// and their headers and trailers checked, when a read first needs them.
// ctx governs the Reader's whole life.
func Open(ctx context.Context, o *ReadOptions) (*Reader, error) {
	if o == nil {
		return nil, fmt.Errorf("%w: nil ReadOptions", ErrInvalidParams)
	}
	if err := o.Params.Validate(); err != nil {
		return nil, err
	}
	if err := validZones(o.Params, o.Zones, o.Placement); err != nil {
		return nil, err
	}
	if err := validDataID(o.DataID); err != nil {
		return nil, err
	}
	if o.Size < 0 || o.Size > maxObjectSize {
		return nil, fmt.Errorf("%w: Size %d not in [0,%d]", ErrInvalidParams, o.Size, int64(maxObjectSize))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := &Reader{
		p: o.Params,
		k: o.DataShards, m: o.ParityShards, n: o.Shards(),
		l:         newLayout(o.Params, len(o.DataID), o.Size),
		dataID:    o.DataID,
		zones:     slices.Clone(o.Zones),
		place:     slices.Clone(o.Placement),
		hedge:     o.HedgeAfter,
		ahead:     o.Readahead,
		shards:    make([]shardReader, o.Shards()),
		smallBlob: smallBlob,
	}
	if r.m > 0 {
		enc, err := encoderFor(r.k, r.m)
		if err != nil {
			return nil, err
		}
		r.enc = enc
	}
	if r.hedge == 0 {
		r.hedge = DefaultHedgeAfter
	}
	switch {
	case r.ahead == 0:
		r.ahead = DefaultReadahead
	case r.ahead < 0:
		r.ahead = 0
	}
	r.maxEnts = r.ahead + 2
	r.lastEnd = -1
	r.ctx, r.cancel = context.WithCancel(ctx)
	return r, nil
}

// Size is the object's size.
func (r *Reader) Size() int64 { return r.l.size }

// ReadAt reads len(p) bytes at off, as io.ReaderAt: n < len(p) only with an
// error, io.EOF at the end of the object.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	n, err := r.span(off, int64(len(p)), func(e *entry, from, to, at int) (int, error) {
		e.copyOut(p[at:at+to-from], from)
		return to - from, nil
	})
	return int(n), err
}

// WriteRange writes the n bytes of the object at off to w, straight from
// the Reader's block buffers, without the copy into a buffer of the
// caller's that ReadAt makes. It returns the bytes written and, if fewer
// than n, why: io.EOF at the end of the object, a read's error, or w's,
// returned as it is.
func (r *Reader) WriteRange(w io.Writer, off, n int64) (int64, error) {
	return r.span(off, n, func(e *entry, from, to, _ int) (int, error) {
		done := 0
		for from < to {
			i, o := from/e.L, from%e.L
			c, err := w.Write(e.shards[i][o:min(e.L, o+to-from)])
			done += c
			if err != nil {
				return done, err
			}
			from += c
		}
		return done, nil
	})
}

// span hands the object's bytes [off, off+length) to fn, block by block in
// order: bytes from..to of a block, which go at offset at of the range; fn
// returns how many of them it took. fn must not keep the entry. span
// returns the bytes taken and, if fewer than length, why: io.EOF at the end
// of the object, a read's error, or fn's.
func (r *Reader) span(off, length int64, fn func(e *entry, from, to, at int) (int, error)) (int64, error) {
	if off < 0 {
		return 0, fmt.Errorf("erasure: negative offset %d", off)
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return 0, ErrClosed
	}
	seq := off == r.lastEnd
	end := min(off+length, r.l.size)
	if off < r.l.size {
		r.lastEnd = end
	}
	r.mu.Unlock()
	if off >= r.l.size {
		return 0, io.EOF
	}
	if length <= 0 {
		return 0, nil
	}
	bs := r.l.bs
	first, last := off/bs, (end-1)/bs
	// Blocks of this read are fetched up to window blocks ahead of the one
	// being copied; a sequential reader also fetches past the read's end.
	stop, window := last, int64(max(r.ahead, 1))
	if seq {
		stop = min(last+int64(r.ahead), r.l.nblocks-1)
	}
	var n int64
	for b := first; b <= last; b++ {
		for a := b + 1; a <= min(stop, b+window); a++ {
			lo, hi := r.shardSpan(a, off, end, seq)
			if _, err := r.entryFor(a, lo, hi, false); err != nil {
				return n, err
			}
		}
		lo, hi := r.shardSpan(b, off, end, seq)
		e, err := r.entryFor(b, lo, hi, true)
		if err != nil {
			return n, err
		}
		select {
		case <-e.done:
		case <-r.ctx.Done():
			e.release()
			return n, r.ctx.Err()
		}
		if e.err != nil {
			e.release()
			return n, e.err
		}
		start := b * bs
		from := max(off, start) - start
		to := min(end, start+r.l.blockLen(b)) - start
		c, err := fn(e, int(from), int(to), int(n))
		e.release()
		n += int64(c)
		if err != nil {
			return n, err
		}
	}
	if n < length {
		return n, io.EOF
	}
	return n, nil
}

// shardSpan is the range of data shards of block b that hold the bytes
// [off,end) of the object, or all of the block's data when full.
func (r *Reader) shardSpan(b, off, end int64, full bool) (int, int) {
	start, blen := b*r.l.bs, r.l.blockLen(b)
	L := r.l.shardLen(b)
	from, to := int64(0), blen
	if !full {
		from = max(off, start) - start
		to = min(end, start+blen) - start
	}
	if to <= from {
		to = from + 1
	}
	return int(from / L), int((to - 1) / L)
}

// copyOut copies object bytes from offset from within the block to dst.
func (e *entry) copyOut(dst []byte, from int) {
	for len(dst) > 0 {
		i, o := from/e.L, from%e.L
		c := copy(dst, e.shards[i][o:])
		dst = dst[c:]
		from += c
	}
}

// entryFor finds or starts the fetch of data shards lo..hi of block j.
// With user, the caller gets a reference it must release.
func (r *Reader) entryFor(j int64, lo, hi int, user bool) (*entry, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	var base *entry
	baseAt := -1
	for i := len(r.cache) - 1; i >= 0; i-- {
		e := r.cache[i]
		if e.block != j {
			continue
		}
		if e.lo <= lo && hi <= e.hi {
			copy(r.cache[i:], r.cache[i+1:])
			r.cache[len(r.cache)-1] = e
			if user {
				e.refs.Add(1)
			}
			return e, nil
		}
		if base == nil {
			base, baseAt = e, i
		}
	}
	e := &entry{block: j, lo: lo, hi: hi, done: make(chan struct{})}
	if base != nil {
		// The new entry takes over the cache's reference to base and
		// reuses whatever base fetched.
		e.base = base
		e.lo, e.hi = min(lo, base.lo), max(hi, base.hi)
		r.cache = slices.Delete(r.cache, baseAt, baseAt+1)
	}
	e.refs.Store(2) // the cache and the fetch
	if user {
		e.refs.Add(1)
	}
	r.cache = append(r.cache, e)
	for len(r.cache) > r.maxEnts {
		r.cache[0].release()
		r.cache = slices.Delete(r.cache, 0, 1)
	}
	r.wg.Add(1)
	go r.fetch(e)
	return e, nil
}

func (r *Reader) fetch(e *entry) {
	defer r.wg.Done()
	if err := r.doFetch(e); err != nil {
		e.err = err
		r.mu.Lock()
		if i := slices.Index(r.cache, e); i >= 0 {
			r.cache = slices.Delete(r.cache, i, i+1)
			e.release()
		}
		r.mu.Unlock()
	}
	close(e.done)
	e.release()
}

// shardResult is one shard block read and verified (err == nil), or not.
type shardResult struct {
	shard int
	data  []byte
	err   error
}

const (
	untried = iota
	pending
	good
	failed
)

// doFetch gets data shards e.lo..e.hi of block e.block. It reads just
// those shards; if one fails, or reads run longer than the hedge delay, it
// reads further shards (data first, then parity) until k are good and
// decodes the missing ones. Reads still running when it is done finish in
// the background.
func (r *Reader) doFetch(e *entry) error {
	j := e.block
	L := int(r.l.shardLen(j))
	e.L = L
	e.shards = make([][]byte, r.k)
	state := make([]uint8, r.n)
	slow := make([]bool, r.n)
	have := make([][]byte, r.n)
	nGood, nPending, nSlow := 0, 0, 0
	var errs []error

	if base := e.base; base != nil {
		select {
		case <-base.done:
		case <-r.ctx.Done():
			return r.ctx.Err()
		}
		if base.err == nil {
			for i, d := range base.shards {
				if d != nil {
					state[i], have[i] = good, d
					nGood++
				}
			}
		}
	}

	bb := getBlockBuf(r.n*(hashLen+L), L == int(r.l.sbs))
	bb.stride, bb.L = hashLen+L, L
	bb.refs.Store(1)
	e.buf = bb
	off := r.l.blockOff(j)
	results := make(chan shardResult, r.n)
	launch := func(i int) {
		if s := &r.shards[i]; s.dead.Load() {
			// s.err is set before dead, when opening failed.
			err := s.err
			if err == nil {
				err = errors.New("shard failed on an earlier block")
			}
			state[i] = failed
			errs = append(errs, r.shardErr(i, err))
			return
		}
		state[i] = pending
		nPending++
		bb.refs.Add(1)
		r.wg.Add(1)
		go r.readShard(i, j, off, bb, results)
	}
	for i := e.lo; i <= e.hi; i++ {
		if state[i] == untried {
			launch(i)
		}
	}

	// Every hedge period, reads still pending count as slow and further
	// shards are read in their stead.
	var timer *time.Timer
	var timerC <-chan time.Time
	if r.hedge > 0 {
		timer = time.NewTimer(r.hedge)
		defer timer.Stop()
		timerC = timer.C
	}
	escalated := false
	next := 0 // next shard to consider when escalating: data, then parity
	for {
		wanted := true
		for i := e.lo; i <= e.hi; i++ {
			switch state[i] {
			case good:
			case failed:
				escalated = true
				wanted = false
			default:
				wanted = false
			}
		}
		if wanted {
			break
		}
		if escalated {
			if nGood >= r.k {
				if err := r.reconstruct(e, state, have); err != nil {
					return err
				}
				break
			}
			for nGood+nPending-nSlow < r.k && next < r.n {
				if state[next] == untried {
					launch(next)
				}
				next++
			}
			if nGood+nPending < r.k {
				return r.tooManyBad(j, nGood+nPending, errs)
			}
		}
		select {
		case res := <-results:
			nPending--
			if slow[res.shard] {
				nSlow--
				slow[res.shard] = false
			}
			if res.err != nil {
				state[res.shard] = failed
				errs = append(errs, res.err)
			} else {
				state[res.shard], have[res.shard] = good, res.data
				nGood++
			}
		case <-timerC:
			escalated = true
			for i, s := range state {
				if s == pending && !slow[i] {
					slow[i] = true
					nSlow++
				}
			}
			timer.Reset(r.hedge)
		case <-r.ctx.Done():
			return r.ctx.Err()
		}
	}
	for i := range e.shards {
		if state[i] == good {
			e.shards[i] = have[i]
		}
	}
	return nil
}

// reconstruct decodes the wanted data shards of e that are not good from
// any k good shards, into fresh scratch buffers: a straggling read may still
// be writing into the block buffer region of a shard.
func (r *Reader) reconstruct(e *entry, state []uint8, have [][]byte) error {
	shards := make([][]byte, r.n)
	required := make([]bool, r.k)
	for i := range shards {
		if state[i] == good {
			shards[i] = have[i]
		}
	}
	for i := e.lo; i <= e.hi; i++ {
		if state[i] != good {
			sb := getBlockBuf(e.L, false)
			sb.refs.Store(1)
			e.scratch = append(e.scratch, sb)
			shards[i] = sb.b[:0]
			required[i] = true
		}
	}
	if err := r.enc.ReconstructSome(shards, required); err != nil {
		return fmt.Errorf("erasure: reconstruct block %d: %w", e.block, err)
	}
	for i := e.lo; i <= e.hi; i++ {
		if state[i] != good {
			state[i], have[i] = good, shards[i]
		}
	}
	return nil
}

// tooManyBadError is ErrTooManyBad with the shards' own errors, so that a
// caller can tell shards that were unavailable (an offline zone) from
// shards that were corrupt or lost.
type tooManyBadError struct {
	msg  string
	errs []error
}

func (e *tooManyBadError) Error() string { return e.msg }

// Unwrap gives ErrTooManyBad and every shard's error.
func (e *tooManyBadError) Unwrap() []error { return append([]error{ErrTooManyBad}, e.errs...) }

// tooManyBad is the error for block j when at most usable shards can still
// turn out good.
func (r *Reader) tooManyBad(j int64, usable int, errs []error) error {
	msgs := make([]string, len(errs))
	for i, err := range errs {
		msgs[i] = err.Error()
	}
	return &tooManyBadError{
		msg:  fmt.Sprintf("%v: data %s block %d: at most %d of %d shards usable, need %d: %s", ErrTooManyBad, r.dataID, j, usable, r.n, r.k, strings.Join(msgs, "; ")),
		errs: errs,
	}
}

func (r *Reader) shardErr(i int, err error) *ShardError {
	return &ShardError{Zone: r.place[i], Shard: i, Err: err}
}

// readShard reads and verifies shard i's block j into its region of bb.
func (r *Reader) readShard(i int, j int64, off int64, bb *blockBuf, out chan<- shardResult) {
	defer r.wg.Done()
	defer bb.release()
	data, err := r.readBlock(i, j, off, bb.region(i))
	if err != nil {
		err = r.shardErr(i, err)
		if r.ctx.Err() == nil {
			r.recordBad(err.(*ShardError))
		}
	}
	out <- shardResult{shard: i, data: data, err: err}
}

func (r *Reader) readBlock(i int, j int64, off int64, reg []byte) ([]byte, error) {
	s := &r.shards[i]
	s.once.Do(func() {
		s.r, s.mem, s.err = r.openShard(i)
		if s.err != nil {
			s.dead.Store(true)
		}
	})
	if s.err != nil {
		return nil, s.err
	}
	if s.mem != nil {
		if off+int64(len(reg)) > int64(len(s.mem)) {
			s.dead.Store(true)
			return nil, fmt.Errorf("%w: block %d: blob truncated", ErrCorrupt, j)
		}
		reg = s.mem[off : off+int64(len(reg))]
	} else if n, err := s.r.ReadAt(reg, off); n < len(reg) {
		s.dead.Store(true)
		if err == nil || err == io.EOF {
			return nil, fmt.Errorf("%w: block %d: blob truncated", ErrCorrupt, j)
		}
		return nil, fmt.Errorf("block %d: %w", j, err)
	}
	if sum := blake3.Sum256(reg[hashLen:]); !bytes.Equal(sum[:], reg[:hashLen]) {
		return nil, fmt.Errorf("%w: block %d: hash mismatch", ErrCorrupt, j)
	}
	return reg[hashLen:], nil
}

// openShard opens shard i's blob and checks its header (data ID, shard
// index and params must match) and its trailer. A bad header makes the
// shard unusable; a bad trailer or length is recorded but the blocks,
// which carry their own hashes, stay usable.
func (r *Reader) openShard(i int) (backend.Reader, []byte, error) {
	br, err := r.zones[r.place[i]].Open(r.ctx, BlobName(r.dataID, i))
	if err != nil {
		return nil, nil, err
	}
	size := br.Size()
	var mem []byte
	var hdr []byte
	if size <= r.smallBlob {
		mem = make([]byte, size)
		n, err := br.ReadAt(mem, 0)
		cerr := br.Close()
		if n < len(mem) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, nil, fmt.Errorf("read blob: %w", err)
		}
		if cerr != nil {
			return nil, nil, cerr
		}
		br = nil
		hdr = mem[:min(r.l.hdrLen, size)]
	} else {
		hdr = make([]byte, r.l.hdrLen)
		if n, err := br.ReadAt(hdr, 0); n < len(hdr) {
			br.Close()
			if err == nil || err == io.EOF {
				return nil, nil, fmt.Errorf("%w: header: blob truncated", ErrCorrupt)
			}
			return nil, nil, fmt.Errorf("read header: %w", err)
		}
	}
	if err := r.checkHeader(i, hdr); err != nil {
		if br != nil {
			br.Close()
		}
		return nil, nil, err
	}
	if err := r.checkTail(br, mem, size); err != nil {
		if r.ctx.Err() == nil {
			r.recordBad(r.shardErr(i, err))
		}
	}
	return br, mem, nil
}

func (r *Reader) checkHeader(i int, b []byte) error {
	h, _, err := ParseHeader(b)
	if err != nil {
		return err
	}
	if h.DataID != r.dataID || h.Shard != i || h.Params != r.p {
		return fmt.Errorf("%w: header is of data %s shard %d %+v, want data %s shard %d %+v",
			ErrCorrupt, h.DataID, h.Shard, h.Params, r.dataID, i, r.p)
	}
	return nil
}

// checkTail checks that the blob is exactly as long as the layout says and
// that its trailer is intact and gives the expected object size.
func (r *Reader) checkTail(br backend.Reader, mem []byte, size int64) error {
	start := r.l.blocksEnd()
	tl := size - start
	if tl < trailerFixed+footerLen || tl > maxTrailerLen+footerLen {
		return fmt.Errorf("%w: blob is %d bytes, blocks end at %d", ErrCorrupt, size, start)
	}
	var tail []byte
	if mem != nil {
		tail = mem[start:]
	} else {
		tail = make([]byte, tl)
		if n, err := br.ReadAt(tail, start); n < len(tail) {
			if err == nil || err == io.EOF {
				err = fmt.Errorf("%w: trailer: blob truncated", ErrCorrupt)
			}
			return err
		}
	}
	t, n, err := ParseTrailer(tail)
	if err != nil {
		return err
	}
	if int64(n) != tl {
		return fmt.Errorf("%w: trailer is %d bytes, blob leaves %d", ErrCorrupt, n, tl)
	}
	if t.Size != r.l.size {
		return fmt.Errorf("%w: trailer says object size %d, want %d", ErrCorrupt, t.Size, r.l.size)
	}
	return nil
}

// recordBad notes a bad shard for BadShards, once per shard.
func (r *Reader) recordBad(se *ShardError) {
	r.badMu.Lock()
	defer r.badMu.Unlock()
	for _, b := range r.bad {
		if b.Shard == se.Shard {
			return
		}
	}
	r.bad = append(r.bad, *se)
}

// BadShards lists the shards found missing, corrupt or failing so far, by
// shard index, one entry per shard, for healing.
func (r *Reader) BadShards() []ShardError {
	r.badMu.Lock()
	defer r.badMu.Unlock()
	bad := slices.Clone(r.bad)
	slices.SortFunc(bad, func(a, b ShardError) int { return a.Shard - b.Shard })
	return bad
}

// Close stops background fetches, waits for reads in flight (the backends
// end them when the Reader's context is cancelled) and closes the shard
// blobs. Reads after Close fail with ErrClosed.
func (r *Reader) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	cache := r.cache
	r.cache = nil
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
	for _, e := range cache {
		e.release()
	}
	var errs []error
	for i := range r.shards {
		if s := &r.shards[i]; s.r != nil {
			if err := s.r.Close(); err != nil {
				errs = append(errs, r.shardErr(i, err))
			}
		}
	}
	return errors.Join(errs...)
}
