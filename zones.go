package cellar

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cellarhq/cellar/backend"
)

// errZoneOffline is the error of an operation on a zone that its health
// probe marked offline. The store does not try such a zone: the operation
// fails at once, and operations in flight on the zone when it was marked
// are cancelled.
var errZoneOffline = errors.New("cellar: zone offline (its health probe failed)")

// ZoneState is what the store knows of one zone's health.
type ZoneState struct {
	Zone   int  // index into Options.Zones
	Online bool // false while the zone's probes fail: it is skipped
	// Since is when the zone last went offline or came back; zero if it
	// has been online since Open.
	Since time.Time
	// LastProbe is when the zone was last probed; zero if never.
	LastProbe time.Time
	// LastError is why the last probe failed; nil if it succeeded.
	LastError error
}

// zoneHealth is the health of one zone, kept by the prober.
type zoneHealth struct {
	zone    int
	inner   backend.Backend // the caller's backend
	offline atomic.Bool
	probing atomic.Bool // a probe is running (it may hang past its timeout)

	mu        sync.Mutex
	epoch     context.Context // cancelled when the zone is marked offline
	endEpoch  context.CancelCauseFunc
	since     time.Time
	lastProbe time.Time
	lastErr   error
}

func newZoneHealth(zone int, b backend.Backend) *zoneHealth {
	h := &zoneHealth{zone: zone, inner: b}
	h.epoch, h.endEpoch = context.WithCancelCause(context.Background())
	return h
}

func (h *zoneHealth) offlineErr() error {
	return fmt.Errorf("%w: zone %d", errZoneOffline, h.zone)
}

// enter starts an operation on the zone: it fails at once if the zone is
// marked offline, and otherwise returns a context that is also cancelled
// when the zone is marked offline, and the function that releases it.
func (h *zoneHealth) enter(ctx context.Context) (context.Context, func(), error) {
	if h.offline.Load() {
		return nil, nil, h.offlineErr()
	}
	h.mu.Lock()
	epoch := h.epoch
	h.mu.Unlock()
	c, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(epoch, func() { cancel(h.offlineErr()) })
	return c, func() { stop(); cancel(nil) }, nil
}

// explain turns the context error of an operation cut short because the
// zone was marked offline into errZoneOffline.
func explain(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		if cause := context.Cause(ctx); errors.Is(cause, errZoneOffline) {
			return cause
		}
	}
	return err
}

// record notes the outcome of a probe and moves the zone offline or back
// online. It reports whether the zone came back.
func (h *zoneHealth) record(s *Store, err error) (back bool) {
	now := time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lastProbe, h.lastErr = now, err
	switch off := h.offline.Load(); {
	case err != nil && !off:
		// Mark first, then cut the operations in flight short.
		h.offline.Store(true)
		h.since = now
		h.endEpoch(h.offlineErr())
		s.log.Warn("cellar: zone offline; skipping it until a probe succeeds", "zone", h.zone, "err", err)
	case err == nil && off:
		h.epoch, h.endEpoch = context.WithCancelCause(context.Background())
		h.since = now
		h.offline.Store(false)
		s.log.Info("cellar: zone back online; healing what it missed", "zone", h.zone)
		return true
	}
	return false
}

func (h *zoneHealth) state() ZoneState {
	h.mu.Lock()
	defer h.mu.Unlock()
	return ZoneState{Zone: h.zone, Online: !h.offline.Load(), Since: h.since, LastProbe: h.lastProbe, LastError: h.lastErr}
}

// probe runs the zone's Probe with a timeout. A probe that outlives its
// timeout counts as failed, and so does each later probe while it still
// runs: a backend that ignores its context cannot stall the prober.
func (h *zoneHealth) probe(ctx context.Context, timeout time.Duration) error {
	if !h.probing.CompareAndSwap(false, true) {
		return fmt.Errorf("cellar: zone %d: an earlier probe has not returned", h.zone)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		// The flag drops before the answer is sent, so the next probe
		// never finds this one still running once it has answered.
		err := h.inner.Probe(ctx)
		h.probing.Store(false)
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		// An answer that came with the deadline still counts.
		select {
		case err := <-done:
			return err
		default:
		}
		return fmt.Errorf("cellar: zone %d: probe: no answer in %v: %w", h.zone, timeout, ctx.Err())
	}
}

// gatedZone is the backend the store reads and writes a zone through: the
// caller's backend, skipped at once while the zone is marked offline.
type gatedZone struct{ h *zoneHealth }

var _ backend.Backend = (*gatedZone)(nil)

func (g *gatedZone) Create(ctx context.Context, name string) (backend.Writer, error) {
	c, done, err := g.h.enter(ctx)
	if err != nil {
		return nil, err
	}
	w, err := g.h.inner.Create(c, name)
	if err != nil {
		done()
		return nil, explain(c, err)
	}
	return &gatedWriter{w: w, ctx: c, done: done}, nil
}

func (g *gatedZone) Open(ctx context.Context, name string) (backend.Reader, error) {
	c, done, err := g.h.enter(ctx)
	if err != nil {
		return nil, err
	}
	r, err := g.h.inner.Open(c, name)
	if err != nil {
		done()
		return nil, explain(c, err)
	}
	return &gatedReader{r: r, ctx: c, done: done}, nil
}

func (g *gatedZone) Stat(ctx context.Context, name string) (backend.Info, error) {
	c, done, err := g.h.enter(ctx)
	if err != nil {
		return backend.Info{}, err
	}
	defer done()
	info, err := g.h.inner.Stat(c, name)
	return info, explain(c, err)
}

func (g *gatedZone) Delete(ctx context.Context, name string) error {
	c, done, err := g.h.enter(ctx)
	if err != nil {
		return err
	}
	defer done()
	return explain(c, g.h.inner.Delete(c, name))
}

func (g *gatedZone) List(ctx context.Context, prefix string, fn func(backend.Info) error) error {
	c, done, err := g.h.enter(ctx)
	if err != nil {
		return err
	}
	defer done()
	return explain(c, g.h.inner.List(c, prefix, fn))
}

// Probe goes to the zone whatever its state: it is how the zone comes back.
func (g *gatedZone) Probe(ctx context.Context) error { return g.h.inner.Probe(ctx) }

// SweepTemp passes on to a backend that leaves temporary files behind.
func (g *gatedZone) SweepTemp(olderThan time.Duration) (int, error) {
	if ts, ok := g.h.inner.(tempSweeper); ok {
		return ts.SweepTemp(olderThan)
	}
	return 0, nil
}

// Unwrap returns the caller's backend.
func (g *gatedZone) Unwrap() backend.Backend { return g.h.inner }

type gatedWriter struct {
	w    backend.Writer
	ctx  context.Context
	done func()
	once sync.Once
}

func (w *gatedWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	return n, explain(w.ctx, err)
}

func (w *gatedWriter) Commit() error {
	err := explain(w.ctx, w.w.Commit())
	w.once.Do(w.done)
	return err
}

func (w *gatedWriter) Abort() error {
	err := w.w.Abort()
	w.once.Do(w.done)
	return err
}

type gatedReader struct {
	r    backend.Reader
	ctx  context.Context
	done func()
	once sync.Once
}

func (r *gatedReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := r.r.ReadAt(p, off)
	return n, explain(r.ctx, err)
}

func (r *gatedReader) Size() int64 { return r.r.Size() }

func (r *gatedReader) Close() error {
	err := r.r.Close()
	r.once.Do(r.done)
	return err
}

// initZones puts every zone behind its health gate.
func (s *Store) initZones() {
	s.dur.zones = make([]*zoneHealth, len(s.zones))
	gated := make([]backend.Backend, len(s.zones))
	for i, z := range s.zones {
		s.dur.zones[i] = newZoneHealth(i, z)
		gated[i] = &gatedZone{h: s.dur.zones[i]}
	}
	s.zones = gated
}

// zoneOffline reports whether zone is marked offline.
func (s *Store) zoneOffline(zone int) bool {
	return zone < len(s.dur.zones) && s.dur.zones[zone].offline.Load()
}

// ZoneStates reports each zone's health, in zone order.
func (s *Store) ZoneStates() []ZoneState {
	out := make([]ZoneState, len(s.dur.zones))
	for i, h := range s.dur.zones {
		out[i] = h.state()
	}
	return out
}

// probeZones probes the zones (all of them, or only those marked offline)
// in parallel and records the outcomes. A zone that comes back starts a
// heal pass in the background.
func (s *Store) probeZones(ctx context.Context, all bool) {
	var wg sync.WaitGroup
	back := make([]bool, len(s.dur.zones))
	for i, h := range s.dur.zones {
		if !all && !h.offline.Load() {
			continue
		}
		wg.Go(func() {
			err := h.probe(ctx, s.opts.ProbeTimeout)
			if ctx.Err() != nil {
				return // closing: an aborted probe says nothing of the zone
			}
			back[i] = h.record(s, err)
		})
	}
	wg.Wait()
	for _, b := range back {
		if b {
			s.kickHeal()
			break
		}
	}
}

// reprobeOffline probes the zones marked offline now, so that an explicit
// Heal, Check or Scrub does not wait for the prober to notice a zone that
// came back.
func (s *Store) reprobeOffline(ctx context.Context) {
	for _, h := range s.dur.zones {
		if h.offline.Load() {
			s.probeZones(ctx, false)
			return
		}
	}
}

// probeLoop probes every zone each ProbeInterval, and the zones marked
// offline every second (or each ProbeInterval, if shorter).
func (s *Store) probeLoop(ctx context.Context) {
	defer s.bg.Done()
	every := s.opts.ProbeInterval
	step := min(every, time.Second)
	t := time.NewTicker(step)
	defer t.Stop()
	next := time.Now().Add(every)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		all := !time.Now().Before(next)
		if all {
			next = time.Now().Add(every)
		}
		s.probeZones(ctx, all)
	}
}

// kickHeal starts a heal pass in the background unless one is already
// waiting to start. It is for events that make healing possible or
// needed: a zone back online, a scrub that found bad shards.
func (s *Store) kickHeal() {
	ctx := s.dur.bgctx
	if ctx == nil || ctx.Err() != nil || !s.dur.healKick.CompareAndSwap(false, true) {
		return
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		s.dur.healMu.Lock()
		// A kick from now on needs a pass that starts after it.
		s.dur.healKick.Store(false)
		s.dur.healMu.Unlock()
		if _, err := s.Heal(ctx); err != nil && ctx.Err() == nil && !errors.Is(err, ErrClosed) {
			s.log.Warn("cellar: heal failed", "err", err)
		}
	}()
}
