package faulty

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cellarhq/cellar/backend"
)

// Backend is a backend.Backend that passes every call to the backend it
// wraps, injecting the faults currently set. All methods are safe for
// concurrent use.
type Backend struct {
	inner backend.Backend

	ops     atomic.Int64
	budget  atomic.Int64 // operations left before FailAfter trips; < 0: off
	latency atomic.Int64 // time.Duration
	offline atomic.Bool

	mu       sync.Mutex // guards the fields below
	rng      *rand.Rand
	flipP    float64
	corrupt  func(name string) bool
	torn     Torn
	tornKeep float64
}

var _ backend.Backend = (*Backend)(nil)

// Wrap returns b wrapped with the faults that opts set. With no options it
// injects nothing.
func Wrap(b backend.Backend, opts ...Option) *Backend {
	f := &Backend{inner: b, rng: newRand(1)}
	f.budget.Store(-1)
	for _, opt := range opts {
		opt(f)
	}
	return f
}

func newRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x6a09e667f3bcc908))
}

// Unwrap returns the wrapped backend, which sees no faults.
func (b *Backend) Unwrap() backend.Backend { return b.inner }

// Ops returns the number of operations begun on b, failed ones included.
func (b *Backend) Ops() int64 { return b.ops.Load() }

// SetFailAfter lets the next n operations succeed and fails every later one
// with ErrInjected. A negative n turns the fault off.
func (b *Backend) SetFailAfter(n int64) { b.budget.Store(max(n, -1)) }

// SetLatency makes every operation sleep for d first; 0 turns it off.
func (b *Backend) SetLatency(d time.Duration) { b.latency.Store(int64(max(d, 0))) }

// SetOffline takes the zone offline or brings it back. Blobs committed
// before it went offline are there when it comes back.
func (b *Backend) SetOffline(offline bool) { b.offline.Store(offline) }

// SetBitFlip sets the probability, in [0, 1], that a ReadAt has a bit of
// its data flipped.
func (b *Backend) SetBitFlip(p float64) {
	checkFraction("bit flip probability", p)
	b.mu.Lock()
	b.flipP = p
	b.mu.Unlock()
}

// SetCorrupt makes every ReadAt of a blob whose name satisfies match have a
// bit of its data flipped. A nil match turns the fault off.
func (b *Backend) SetCorrupt(match func(name string) bool) {
	b.mu.Lock()
	b.corrupt = match
	b.mu.Unlock()
}

// SetTorn sets what Commit does for Writers created from now on: publish
// everything (TornOff), or publish the first keep fraction of the bytes,
// keep in [0, 1], and fail (TornFail) or report success (TornSilent).
func (b *Backend) SetTorn(mode Torn, keep float64) {
	if mode < TornOff || mode > TornSilent {
		panic(fmt.Sprintf("faulty: unknown torn-write mode %v", mode))
	}
	checkFraction("torn-write fraction", keep)
	b.mu.Lock()
	b.torn, b.tornKeep = mode, keep
	b.mu.Unlock()
}

// SetSeed reseeds the random generator that bit flips draw from.
func (b *Backend) SetSeed(seed uint64) {
	b.mu.Lock()
	b.rng = newRand(seed)
	b.mu.Unlock()
}

// step runs the faults that precede every operation, as the package
// documentation lists them.
func (b *Backend) step(ctx context.Context, op, name string) error {
	b.ops.Add(1)
	if b.offline.Load() {
		return fmt.Errorf("%w: %s %s", ErrOffline, op, name)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if d := time.Duration(b.latency.Load()); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
	for {
		n := b.budget.Load()
		if n < 0 {
			return nil
		}
		if n == 0 {
			return fmt.Errorf("%w: %s %s", ErrInjected, op, name)
		}
		if b.budget.CompareAndSwap(n, n-1) {
			return nil
		}
	}
}

// corruptRead flips a bit of p, the data a ReadAt of name returned, if a
// corruption fault says so.
func (b *Backend) corruptRead(name string, p []byte) {
	if len(p) == 0 {
		return
	}
	b.mu.Lock()
	match, flipP := b.corrupt, b.flipP
	b.mu.Unlock()
	// match is the test's code: never call it with b.mu held.
	hit := match != nil && match(name)
	b.mu.Lock()
	defer b.mu.Unlock()
	if !hit && flipP > 0 {
		hit = b.rng.Float64() < flipP
	}
	if hit {
		p[b.rng.IntN(len(p))] ^= 1 << b.rng.IntN(8)
	}
}

// Create implements backend.Backend.
func (b *Backend) Create(ctx context.Context, name string) (backend.Writer, error) {
	if err := b.step(ctx, "create", name); err != nil {
		return nil, err
	}
	w, err := b.inner.Create(ctx, name)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	torn, keep := b.torn, b.tornKeep
	b.mu.Unlock()
	return &writer{b: b, ctx: ctx, name: name, inner: w, torn: torn, keep: keep}, nil
}

// Open implements backend.Backend.
func (b *Backend) Open(ctx context.Context, name string) (backend.Reader, error) {
	if err := b.step(ctx, "open", name); err != nil {
		return nil, err
	}
	r, err := b.inner.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	return &reader{b: b, ctx: ctx, name: name, inner: r}, nil
}

// Stat implements backend.Backend.
func (b *Backend) Stat(ctx context.Context, name string) (backend.Info, error) {
	if err := b.step(ctx, "stat", name); err != nil {
		return backend.Info{}, err
	}
	return b.inner.Stat(ctx, name)
}

// Delete implements backend.Backend.
func (b *Backend) Delete(ctx context.Context, name string) error {
	if err := b.step(ctx, "delete", name); err != nil {
		return err
	}
	return b.inner.Delete(ctx, name)
}

// List implements backend.Backend. The whole walk is one operation.
func (b *Backend) List(ctx context.Context, prefix string, fn func(backend.Info) error) error {
	if err := b.step(ctx, "list", prefix); err != nil {
		return err
	}
	return b.inner.List(ctx, prefix, fn)
}

// Probe implements backend.Backend. An offline zone fails its probe.
func (b *Backend) Probe(ctx context.Context) error {
	if err := b.step(ctx, "probe", ""); err != nil {
		return err
	}
	return b.inner.Probe(ctx)
}

type writer struct {
	b     *Backend
	ctx   context.Context
	name  string
	inner backend.Writer
	torn  Torn
	keep  float64
	buf   []byte // the data, kept until Commit when torn != TornOff

	err       error // first failed Write; poisons the Writer
	done      bool  // Commit or Abort was called
	committed bool  // Commit succeeded
	settled   bool  // inner was committed or aborted
}

func (w *writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, backend.ErrSpent
	}
	if w.err != nil {
		return 0, w.err
	}
	if err := w.b.step(w.ctx, "write", w.name); err != nil {
		w.err = err
		return 0, err
	}
	if w.torn != TornOff {
		w.buf = append(w.buf, p...)
		return len(p), nil
	}
	n, err := w.inner.Write(p)
	if err != nil {
		w.err = err
	}
	return n, err
}

func (w *writer) Commit() error {
	if w.done {
		return backend.ErrSpent
	}
	w.done = true
	err := w.err
	if err == nil {
		err = w.b.step(w.ctx, "commit", w.name)
	}
	if err != nil {
		w.abortInner()
		return err
	}
	if w.torn == TornOff {
		if err := w.inner.Commit(); err != nil {
			return err
		}
		w.settled, w.committed = true, true
		return nil
	}
	keep := int(float64(len(w.buf)) * w.keep)
	if _, err := w.inner.Write(w.buf[:keep]); err != nil {
		w.abortInner()
		return err
	}
	total := len(w.buf)
	w.buf = nil
	if err := w.inner.Commit(); err != nil {
		return err
	}
	w.settled = true
	if w.torn == TornFail {
		return fmt.Errorf("%w: commit %s torn after %d of %d bytes", ErrInjected, w.name, keep, total)
	}
	w.committed = true
	return nil
}

func (w *writer) Abort() error {
	if w.committed {
		return backend.ErrSpent
	}
	w.done = true
	w.buf = nil
	return w.abortInner()
}

func (w *writer) abortInner() error {
	if w.settled {
		return nil
	}
	w.settled = true
	return w.inner.Abort()
}

type reader struct {
	b     *Backend
	ctx   context.Context
	name  string
	inner backend.Reader
}

func (r *reader) ReadAt(p []byte, off int64) (int, error) {
	if err := r.b.step(r.ctx, "read", r.name); err != nil {
		return 0, err
	}
	n, err := r.inner.ReadAt(p, off)
	r.b.corruptRead(r.name, p[:n])
	return n, err
}

func (r *reader) Close() error { return r.inner.Close() }
func (r *reader) Size() int64  { return r.inner.Size() }
