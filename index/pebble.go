package index

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Defaults of PebbleOptions.
const (
	DefaultPebbleCacheSize    = 32 << 20
	DefaultPebbleMemTableSize = 8 << 20
)

// pebbleFormat is the on-disk format written by Pebble. It is pinned rather
// than left to follow pebble.FormatNewest so that upgrading the library never
// silently ratchets an existing index to a format older binaries cannot read.
const pebbleFormat = pebble.FormatValueSeparation

// ctxCheckInterval is how many Next calls an iterator makes between checks
// of its context.
const ctxCheckInterval = 256

// PebbleOptions configures OpenPebble and OpenPebbleMemory. A nil
// *PebbleOptions, like each zero field, means the default.
type PebbleOptions struct {
	// Logger receives Pebble's messages: its chatty informational ones (WAL
	// replay, compactions) at slog.LevelDebug, its errors at
	// slog.LevelError. Nil means slog.Default().
	Logger *slog.Logger
	// CacheSize is the capacity in bytes of the block cache, which fills on
	// demand. Zero means DefaultPebbleCacheSize.
	CacheSize int64
	// MemTableSize is the size in bytes of one memtable. Pebble starts with
	// a small memtable and doubles up to this size, and keeps up to four
	// before stalling writes. Zero means DefaultPebbleMemTableSize.
	MemTableSize int64
}

// Pebble is an Index kept in a Pebble LSM tree, on disk (OpenPebble) or in
// memory (OpenPebbleMemory).
//
// Close may run concurrently with any other method: it waits for calls in
// flight, then closes every snapshot and iterator still open, so that using
// them afterwards returns ErrClosed instead of touching a closed database.
type Pebble struct {
	db  *pebble.DB
	log *slog.Logger

	// mu is held shared around every call into db made by Pebble's own
	// methods and exclusively by Close.
	mu     sync.RWMutex
	closed bool // guarded by mu

	snaps liveSet[*pebbleSnapshot] // open snapshots
	iters liveSet[*pebbleIter]     // open iterators not made by a snapshot
}

var _ Index = (*Pebble)(nil)

// OpenPebble opens the index in directory dir, creating it if needed.
func OpenPebble(dir string, opts *PebbleOptions) (*Pebble, error) {
	if dir == "" {
		return nil, errors.New("index: OpenPebble: empty directory name")
	}
	return openPebble(dir, vfs.Default, opts)
}

// OpenPebbleMemory opens an empty index held in memory, for tests. Its
// contents are lost on Close.
func OpenPebbleMemory(opts *PebbleOptions) (*Pebble, error) {
	return openPebble("", vfs.NewMem(), opts)
}

func openPebble(dir string, fs vfs.FS, opts *PebbleOptions) (*Pebble, error) {
	var o PebbleOptions
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.CacheSize == 0 {
		o.CacheSize = DefaultPebbleCacheSize
	}
	if o.MemTableSize == 0 {
		o.MemTableSize = DefaultPebbleMemTableSize
	}
	if o.CacheSize < 0 {
		return nil, fmt.Errorf("index: PebbleOptions.CacheSize is %d; it must not be negative", o.CacheSize)
	}
	// Pebble's limit: memtables are addressed with 32-bit offsets.
	if o.MemTableSize < 0 || o.MemTableSize >= 4<<30 {
		return nil, fmt.Errorf("index: PebbleOptions.MemTableSize is %d; it must be below 4 GiB", o.MemTableSize)
	}

	log := o.Logger.With("component", "index")
	po := &pebble.Options{
		FS:                          fs,
		FormatMajorVersion:          pebbleFormat,
		CacheSize:                   o.CacheSize,
		MemTableSize:                uint64(o.MemTableSize),
		MemTableStopWritesThreshold: 4,
		Logger:                      pebbleLogger{log},
		EventListener: &pebble.EventListener{
			// Pebble's default treats corruption as fatal. The read that met
			// it fails with an error anyway; one bad block must not bring
			// the whole store down.
			DataCorruption: func(info pebble.DataCorruptionInfo) {
				log.Error("pebble detected data corruption", "path", info.Path, "err", info.Details)
			},
		},
	}
	// Most reads are point lookups of keys that may not exist (a bucket, a
	// key's latest version); bloom filters on every level spare a block read
	// per level for those.
	for i := range po.Levels {
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	db, err := pebble.Open(dir, po)
	if err != nil {
		return nil, fmt.Errorf("index: open pebble %q: %w", dir, err)
	}
	return &Pebble{db: db, log: log}, nil
}

// Get implements Reader. The value returned is a copy.
func (p *Pebble) Get(ctx context.Context, key []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return nil, ErrClosed
	}
	return pebbleGet(p.db, key)
}

// NewIter implements Reader. The iterator reads the index as of the call.
func (p *Pebble) NewIter(ctx context.Context, lower, upper []byte) (Iterator, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return nil, ErrClosed
	}
	return newPebbleIter(ctx, p.db, &p.iters, lower, upper)
}

// Apply implements Index. It commits b as one Pebble batch and waits for
// the write-ahead log to be synced; concurrent calls share syncs.
func (p *Pebble) Apply(ctx context.Context, b *Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return ErrClosed
	}
	if b == nil || len(b.Ops) == 0 {
		return nil
	}
	for i, op := range b.Ops {
		if op.Kind != OpSet && op.Kind != OpDelete {
			return fmt.Errorf("%w: operation %d has kind %d", ErrInvalidOp, i, op.Kind)
		}
	}
	pb := p.db.NewBatch()
	defer pb.Close()
	for _, op := range b.Ops {
		var err error
		if op.Kind == OpSet {
			err = pb.Set(op.Key, op.Value, nil)
		} else {
			err = pb.Delete(op.Key, nil)
		}
		if err != nil {
			return fmt.Errorf("index: apply: %w", err)
		}
	}
	if err := pb.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("index: apply: %w", err)
	}
	return nil
}

// Snapshot implements Index.
func (p *Pebble) Snapshot(ctx context.Context) (Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return nil, ErrClosed
	}
	s := &pebbleSnapshot{owner: p, snap: p.db.NewSnapshot()}
	p.snaps.add(s)
	return s, nil
}

// Close implements Index. It first closes every snapshot and iterator
// still open, logging a warning if there were any.
func (p *Pebble) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	p.closed = true
	var errs []error
	snaps := p.snaps.drain()
	for _, s := range snaps {
		s.mu.Lock()
		if s.snap != nil {
			errs = append(errs, s.closeLocked())
		}
		s.mu.Unlock()
	}
	iters := p.iters.drain()
	for _, it := range iters {
		it.mu.Lock()
		errs = append(errs, it.closeLocked())
		it.mu.Unlock()
	}
	if len(snaps) > 0 || len(iters) > 0 {
		p.log.Warn("index closed with snapshots or iterators open; closed them",
			"snapshots", len(snaps), "iterators", len(iters))
	}
	if err := p.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("index: close: %w", err))
	}
	return errors.Join(errs...)
}

func pebbleGet(r pebble.Reader, key []byte) ([]byte, error) {
	v, closer, err := r.Get(key)
	if err != nil {
		if errors.Is(err, pebble.ErrNotFound) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("index: get: %w", err)
	}
	out := make([]byte, len(v)) // never nil: an empty value is not a missing one
	copy(out, v)
	if err := closer.Close(); err != nil {
		return nil, fmt.Errorf("index: get: %w", err)
	}
	return out, nil
}

// pebbleSnapshot is a Snapshot over a pebble.Snapshot.
type pebbleSnapshot struct {
	owner *Pebble

	// mu is held shared around reads of snap, exclusively to close it.
	mu    sync.RWMutex
	snap  *pebble.Snapshot // nil once closed
	iters liveSet[*pebbleIter]
}

func (s *pebbleSnapshot) Get(ctx context.Context, key []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.snap == nil {
		return nil, ErrClosed
	}
	return pebbleGet(s.snap, key)
}

func (s *pebbleSnapshot) NewIter(ctx context.Context, lower, upper []byte) (Iterator, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.snap == nil {
		return nil, ErrClosed
	}
	return newPebbleIter(ctx, s.snap, &s.iters, lower, upper)
}

// Close closes the snapshot and the iterators made from it.
func (s *pebbleSnapshot) Close() error {
	s.mu.Lock()
	if s.snap == nil {
		s.mu.Unlock()
		return ErrClosed
	}
	err := s.closeLocked()
	s.mu.Unlock()
	s.owner.snaps.remove(s)
	return err
}

// closeLocked closes an open snapshot; s.mu is held exclusively.
func (s *pebbleSnapshot) closeLocked() error {
	for _, it := range s.iters.drain() {
		it.mu.Lock()
		it.closeLocked()
		it.mu.Unlock()
	}
	err := s.snap.Close()
	s.snap = nil
	if err != nil {
		return fmt.Errorf("index: close snapshot: %w", err)
	}
	return nil
}

// pebbleIter is an Iterator over a pebble.Iterator. It copies nothing: Key
// and Value point into Pebble's buffers and stay valid until the next
// positioning call or Close.
type pebbleIter struct {
	ctx  context.Context
	live *liveSet[*pebbleIter] // the set that tracks it while open
	// mu serializes the iterator's methods with a Close of its Index or
	// Snapshot from another goroutine. The iterator itself is used by one
	// goroutine, so mu is otherwise uncontended.
	mu    sync.Mutex
	it    *pebble.Iterator // nil once closed
	err   error            // sticky: ErrClosed or the context's error
	empty bool             // the range is empty: never move it
	steps int              // Next calls since the last context check
}

func newPebbleIter(ctx context.Context, r pebble.Reader, live *liveSet[*pebbleIter], lower, upper []byte) (*pebbleIter, error) {
	// Pebble keeps the bounds for the iterator's life; the caller may reuse
	// its slices as soon as we return.
	o := &pebble.IterOptions{UpperBound: bytes.Clone(upper)}
	// Pebble built with -race indexes key[0] when seeking, so an empty key
	// must never reach it as a bound or a seek key. An empty lower bound is
	// no bound; an empty upper bound, like lower >= upper, makes an empty
	// range, which we serve without moving the Pebble iterator at all.
	if len(lower) > 0 {
		o.LowerBound = bytes.Clone(lower)
	}
	empty := upper != nil && bytes.Compare(lower, upper) >= 0
	if empty {
		o.LowerBound, o.UpperBound = nil, nil
	}
	it, err := r.NewIter(o)
	if err != nil {
		return nil, fmt.Errorf("index: new iterator: %w", err)
	}
	pi := &pebbleIter{ctx: ctx, live: live, it: it, empty: empty}
	live.add(pi)
	return pi, nil
}

// usable reports whether the iterator may move, recording a done context.
func (i *pebbleIter) usable() bool {
	if i.err != nil || i.empty {
		return false
	}
	if err := i.ctx.Err(); err != nil {
		i.err = err
		return false
	}
	return true
}

func (i *pebbleIter) First() bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.usable() && i.it.First()
}

func (i *pebbleIter) SeekGE(key []byte) bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	if !i.usable() {
		return false
	}
	if len(key) == 0 {
		// Every key is >= the empty key. Pebble built with -race indexes
		// key[0] in SeekGE, so an empty seek key must not reach it.
		return i.it.First()
	}
	return i.it.SeekGE(key)
}

func (i *pebbleIter) Next() bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.err != nil || i.empty {
		return false
	}
	if i.steps++; i.steps >= ctxCheckInterval {
		i.steps = 0
		if !i.usable() {
			return false
		}
	}
	return i.it.Next()
}

func (i *pebbleIter) Valid() bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.err == nil && i.it.Valid()
}

func (i *pebbleIter) Key() []byte {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.err != nil || !i.it.Valid() {
		return nil
	}
	return i.it.Key()
}

func (i *pebbleIter) Value() []byte {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.err != nil || !i.it.Valid() {
		return nil
	}
	return i.it.Value()
}

func (i *pebbleIter) Error() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.err != nil {
		return i.err
	}
	if err := i.it.Error(); err != nil {
		return fmt.Errorf("index: iterate: %w", err)
	}
	return nil
}

func (i *pebbleIter) Close() error {
	i.mu.Lock()
	if i.it == nil {
		i.mu.Unlock()
		return ErrClosed
	}
	err := i.closeLocked()
	i.mu.Unlock()
	i.live.remove(i)
	return err
}

// closeLocked closes the iterator if it is open; i.mu is held.
func (i *pebbleIter) closeLocked() error {
	if i.it == nil {
		return nil
	}
	err := i.it.Close()
	i.it = nil
	i.err = ErrClosed
	if err != nil {
		return fmt.Errorf("index: iterate: %w", err)
	}
	return nil
}

// liveSet tracks open snapshots or iterators so that closing their owner
// can close them first.
type liveSet[T comparable] struct {
	mu sync.Mutex
	m  map[T]struct{}
}

func (s *liveSet[T]) add(v T) {
	s.mu.Lock()
	if s.m == nil {
		s.m = make(map[T]struct{})
	}
	s.m[v] = struct{}{}
	s.mu.Unlock()
}

func (s *liveSet[T]) remove(v T) {
	s.mu.Lock()
	delete(s.m, v)
	s.mu.Unlock()
}

// drain empties the set and returns what it held.
func (s *liveSet[T]) drain() []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]T, 0, len(s.m))
	for v := range s.m {
		out = append(out, v)
	}
	clear(s.m)
	return out
}

// pebbleLogger adapts a *slog.Logger to pebble.Logger.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) { p.logf(slog.LevelDebug, format, args) }

func (p pebbleLogger) Errorf(format string, args ...any) { p.logf(slog.LevelError, format, args) }

// Fatalf logs and panics. Pebble calls it only when continuing could
// corrupt data (a failed WAL or MANIFEST sync, a broken invariant) and
// expects it not to return.
func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := strings.TrimSuffix(fmt.Sprintf(format, args...), "\n")
	p.l.Error("pebble fatal error", "msg", msg)
	panic("index: pebble fatal error: " + msg)
}

func (p pebbleLogger) logf(level slog.Level, format string, args []any) {
	ctx := context.Background()
	if !p.l.Enabled(ctx, level) {
		return
	}
	p.l.Log(ctx, level, "pebble: "+strings.TrimSuffix(fmt.Sprintf(format, args...), "\n"))
}
