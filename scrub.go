package cellar

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cellarhq/cellar/backend"
	"github.com/cellarhq/cellar/erasure"
	"github.com/cellarhq/cellar/index"
	"golang.org/x/time/rate"
)

// ScrubOptions configure Scrub.
type ScrubOptions struct {
	// BytesPerSecond caps the bytes Scrub reads a second, over all zones.
	// Zero means unlimited.
	BytesPerSecond int64
	// Heal runs Heal once the pass is over, so that what the pass found
	// is rebuilt before Scrub returns.
	Heal bool
	// Progress, if set, is called after each data set with the pass's
	// progress. It runs on Scrub's goroutine and should return quickly.
	Progress func(ScrubProgress)
}

// ScrubProgress is how far a Scrub has come.
type ScrubProgress struct {
	DataSets, TotalDataSets int
	// Bytes counts the bytes read and verified so far; TotalBytes is an
	// estimate from the index, made before the pass.
	Bytes, TotalBytes int64
}

// ScrubReport tells what one Scrub found.
type ScrubReport struct {
	// DataSets counts the data sets checked: each committed version's data
	// and each part, of completed objects and of uploads in progress.
	DataSets int
	// Shards counts shards that verified, and Bytes the bytes read.
	Shards int
	Bytes  int64
	// Bad counts shards found missing or corrupt. Those of data sets that
	// can be rebuilt are queued for healing.
	Bad int
	// Skipped counts shards not verified because their zone was offline.
	Skipped int
	// MetaQueued counts zone metadata records missing or unreadable on
	// some zone, queued for Heal to write again.
	MetaQueued int
	// Lost lists, one line each, data sets with more bad shards than
	// parity covers: their data cannot be read or rebuilt.
	Lost []string
	// Zones breaks the counts down by zone, in zone order.
	Zones []ZoneScrub
	// Heal is what the Heal after the pass did, with ScrubOptions.Heal.
	Heal *HealReport
	// Elapsed is how long the pass took (without the Heal).
	Elapsed time.Duration
}

// ZoneScrub is one zone's part of a ScrubReport.
type ZoneScrub struct {
	Shards  int   // shards that verified
	Bytes   int64 // bytes read
	Bad     int   // shards missing or corrupt
	Skipped int   // shards not verified: the zone was offline
}

// Scrub walks every shard of every data set the index references, the
// committed versions' and the parts' of uploads in progress, and verifies
// it whole: header, the BLAKE3 of every block, trailer and length. So it
// checks the parity shards that reads never touch, too. Shards found
// missing or corrupt go to the heal queue, as reads' do; with
// ScrubOptions.Heal, Scrub then runs Heal. Shards in zones marked offline
// are skipped and counted.
//
// Scrub holds no lock while it reads: it takes the records to check from
// the index a few at a time, and holds each data set only against the
// sweeper, as a reader does. Data deleted meanwhile is passed over.
func (s *Store) Scrub(ctx context.Context, opts *ScrubOptions) (ScrubReport, error) {
	if err := s.check(); err != nil {
		return ScrubReport{}, err
	}
	var o ScrubOptions
	if opts != nil {
		o = *opts
	}
	if o.BytesPerSecond < 0 {
		return ScrubReport{}, fmt.Errorf("%w: ScrubOptions.BytesPerSecond %d is negative", ErrInvalidArgument, o.BytesPerSecond)
	}
	s.reprobeOffline(ctx)
	start := time.Now()
	sc := s.newScrubber(o.BytesPerSecond)
	if o.Progress != nil {
		var err error
		if sc.progress, err = s.scrubTotals(ctx); err != nil {
			return ScrubReport{}, err
		}
		sc.report = o.Progress
	}
	err := sc.pass(ctx, nil, nil)
	rep := sc.rep
	if err == nil {
		rep.MetaQueued, err = s.scrubMeta(ctx)
	}
	rep.Elapsed = time.Since(start)
	if err != nil {
		return *rep, err
	}
	s.dur.scrubPasses.Add(1)
	if o.Heal {
		hr, err := s.Heal(ctx)
		rep.Heal = &hr
		if err != nil {
			return *rep, err
		}
	}
	return *rep, nil
}

// scrubber is one scrub pass in progress.
type scrubber struct {
	s        *Store
	lim      *rate.Limiter // nil: unlimited
	rep      *ScrubReport
	mu       sync.Mutex // guards rep and progress, and serializes report
	progress ScrubProgress
	report   func(ScrubProgress)
}

func (s *Store) newScrubber(bytesPerSecond int64) *scrubber {
	return &scrubber{s: s, lim: newByteLimiter(bytesPerSecond), rep: &ScrubReport{Zones: make([]ZoneScrub, len(s.zones))}}
}

// newByteLimiter returns a limiter of bytesPerSecond for pacedZone, or nil
// (unlimited) if bytesPerSecond is not positive.
func newByteLimiter(bytesPerSecond int64) *rate.Limiter {
	if bytesPerSecond <= 0 {
		return nil
	}
	// A burst of an eighth of a second's budget keeps the pace even.
	burst := int(min(max(bytesPerSecond/8, 4<<10), 1<<20))
	return rate.NewLimiter(rate.Limit(bytesPerSecond), burst)
}

// scrubConcurrency is how many data sets a scrub pass verifies at once.
const scrubConcurrency = 4

// scrubItem is one index record whose data a pass checks.
type scrubItem struct {
	key  []byte
	what string
	segs []segment
}

// scrubSpaces are the index spaces whose records reference data, in the
// order a pass walks them: parts of uploads in progress, then versions.
var scrubSpaces = []byte{spacePart, spaceVersions}

// pass checks the data of every record after cursor (an index key; nil for
// all), calling save with the key of the last record of each batch once
// every record up to it is done.
func (sc *scrubber) pass(ctx context.Context, cursor []byte, save func(key []byte)) error {
	for _, space := range scrubSpaces {
		lower := []byte{space}
		if len(cursor) > 0 {
			if cursor[0] > space {
				continue
			}
			if cursor[0] == space {
				lower = append(append([]byte(nil), cursor...), 0)
			}
		}
		for {
			items, err := sc.s.scrubItems(ctx, lower, []byte{space + 1}, 32)
			if err != nil {
				return err
			}
			if len(items) == 0 {
				break
			}
			// Several data sets at once: a small one costs a few round
			// trips to each zone rather than bandwidth.
			if err := sc.batch(ctx, items); err != nil {
				return err
			}
			last := items[len(items)-1].key
			if save != nil {
				save(last)
			}
			lower = append(last, 0)
		}
	}
	return nil
}

// batch verifies the data sets of items, scrubConcurrency at a time, and
// returns the first error.
func (sc *scrubber) batch(ctx context.Context, items []scrubItem) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, scrubConcurrency)
	var wg sync.WaitGroup
	for _, it := range items {
		for _, seg := range it.segs {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
			}
			if ctx.Err() != nil {
				break
			}
			wg.Go(func() {
				defer func() { <-sem }()
				if err := sc.segment(ctx, it.what, seg); err != nil {
					cancel(err)
				}
			})
		}
	}
	wg.Wait()
	return context.Cause(ctx)
}

// scrubItems reads up to n records with data from [lower, upper) and lets
// go of the index before any shard is read.
func (s *Store) scrubItems(ctx context.Context, lower, upper []byte, n int) ([]scrubItem, error) {
	it, err := s.idx.NewIter(ctx, lower, upper)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var items []scrubItem
	for ok := it.First(); ok && len(items) < n; ok = it.Next() {
		item := scrubItem{key: append([]byte(nil), it.Key()...)}
		switch it.Key()[0] {
		case spacePart:
			pr, err := unmarshalPart(it.Value())
			if err != nil {
				s.log.Error("cellar: scrub: corrupt part record", "key", fmt.Sprintf("%x", it.Key()), "err", err)
				continue
			}
			item.what = fmt.Sprintf("%s/%s upload %s part %d", pr.Bucket, pr.Key, pr.UploadID, pr.PartNumber)
			item.segs = []segment{pr.Seg}
		default:
			rec, err := unmarshalRecord(it.Value())
			if err != nil {
				s.log.Error("cellar: scrub: corrupt version record", "key", fmt.Sprintf("%x", it.Key()), "err", err)
				continue
			}
			item.what = fmt.Sprintf("%s/%s version %s", rec.Bucket, rec.Key, rec.VersionID)
			item.segs = rec.Segments
		}
		items = append(items, item)
	}
	return items, it.Error()
}

// scrubTotals counts the data sets and estimates the bytes a pass reads.
func (s *Store) scrubTotals(ctx context.Context) (ScrubProgress, error) {
	var p ScrubProgress
	for _, space := range scrubSpaces {
		lower := []byte{space}
		for {
			items, err := s.scrubItems(ctx, lower, []byte{space + 1}, 1024)
			if err != nil {
				return p, err
			}
			if len(items) == 0 {
				break
			}
			for _, it := range items {
				for _, seg := range it.segs {
					p.TotalDataSets++
					p.TotalBytes += dataSetBytes(seg)
				}
			}
			lower = append(items[len(items)-1].key, 0)
		}
	}
	return p, nil
}

// shardCheck is the outcome of verifying one shard.
type shardCheck struct {
	bytes   int64
	err     error
	skipped bool
}

// segment verifies every shard of one data set and queues the bad ones.
func (sc *scrubber) segment(ctx context.Context, what string, seg segment) error {
	s := sc.s
	s.hold([]string{seg.DataID})
	defer s.release([]string{seg.DataID})
	if _, err := s.idx.Get(ctx, dataRefKey(seg.DataID)); errors.Is(err, index.ErrNotFound) {
		return nil // deleted since the records were read
	} else if err != nil {
		return err
	}
	checks := make([]shardCheck, len(seg.Placement))
	var wg sync.WaitGroup
	for shard, zone := range seg.Placement {
		switch {
		case zone >= len(s.zones):
			checks[shard].err = fmt.Errorf("cellar: zone %d is not in this store", zone)
		case s.zoneOffline(zone):
			checks[shard].skipped = true
		default:
			wg.Go(func() {
				var n atomic.Int64
				z := &pacedZone{Backend: s.zones[zone], ctx: ctx, lim: sc.lim, n: &n}
				err := erasure.VerifyShard(ctx, z, erasure.BlobName(seg.DataID, shard))
				checks[shard] = shardCheck{bytes: n.Load(), err: err, skipped: errors.Is(err, errZoneOffline)}
			})
		}
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	var bad []int
	var setBytes int64
	good := 0
	sc.mu.Lock()
	for shard, c := range checks {
		zone := seg.Placement[shard]
		var zs *ZoneScrub
		if zone < len(sc.rep.Zones) {
			zs = &sc.rep.Zones[zone]
		} else {
			zs = &ZoneScrub{}
		}
		zs.Bytes += c.bytes
		setBytes += c.bytes
		switch {
		case c.skipped:
			zs.Skipped++
			sc.rep.Skipped++
		case c.err != nil:
			zs.Bad++
			bad = append(bad, shard)
		default:
			zs.Shards++
			sc.rep.Shards++
			good++
		}
	}
	sc.rep.DataSets++
	sc.rep.Bytes += setBytes
	sc.rep.Bad += len(bad)
	s.dur.bytesScrubbed.Add(setBytes)
	s.dur.shardsScrubbed.Add(int64(good))
	if sc.report != nil {
		sc.progress.DataSets++
		sc.progress.Bytes += setBytes
		sc.report(sc.progress)
	}
	lost := len(bad) > seg.M
	if lost {
		sc.rep.Lost = append(sc.rep.Lost, fmt.Sprintf("%s: data %s has %d bad shards %v, more than the %d it can lose", what, seg.DataID, len(bad), bad, seg.M))
	}
	sc.mu.Unlock()
	if len(bad) == 0 {
		return nil
	}
	s.dur.badShards.Add(int64(len(bad)))
	if lost {
		s.log.Error("cellar: scrub: data lost", "what", what, "data", seg.DataID, "bad", bad)
		return nil
	}
	s.log.Warn("cellar: scrub: bad shards queued for healing", "what", what, "data", seg.DataID, "shards", bad)
	var b index.Batch
	addHealWork(&b, seg, bad)
	return s.idx.Apply(ctx, &b)
}

// pacedZone counts the bytes read through its Readers and written through
// its Writers and, with a limiter, paces them.
type pacedZone struct {
	backend.Backend
	ctx context.Context
	lim *rate.Limiter
	n   *atomic.Int64
}

func (z *pacedZone) Create(ctx context.Context, name string) (backend.Writer, error) {
	w, err := z.Backend.Create(ctx, name)
	if err != nil {
		return nil, err
	}
	return &pacedWriter{Writer: w, z: z}, nil
}

type pacedWriter struct {
	backend.Writer
	z *pacedZone
}

func (w *pacedWriter) Write(p []byte) (int, error) {
	if err := w.z.wait(len(p)); err != nil {
		return 0, err
	}
	n, err := w.Writer.Write(p)
	w.z.n.Add(int64(n))
	return n, err
}

// wait takes n bytes' worth of tokens from the limiter, if any, a burst at
// a time.
func (z *pacedZone) wait(n int) error {
	lim := z.lim
	if lim == nil {
		return nil
	}
	for left := n; left > 0; {
		k := min(left, lim.Burst())
		if err := lim.WaitN(z.ctx, k); err != nil {
			if z.ctx.Err() != nil {
				return z.ctx.Err()
			}
			return err
		}
		left -= k
	}
	return nil
}

func (z *pacedZone) Open(ctx context.Context, name string) (backend.Reader, error) {
	r, err := z.Backend.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	return &pacedReader{Reader: r, z: z}, nil
}

type pacedReader struct {
	backend.Reader
	z *pacedZone
}

func (r *pacedReader) ReadAt(p []byte, off int64) (int, error) {
	if err := r.z.wait(len(p)); err != nil {
		return 0, err
	}
	n, err := r.Reader.ReadAt(p, off)
	r.z.n.Add(int64(n))
	return n, err
}

// The background scrubber keeps its progress in the index under
// scrubStateKey, so that a pass survives a restart and a store that is
// reopened more often than ScrubInterval is scrubbed all the same.
const spaceState = 'Z' // Z name → store-wide state: "scrub" → scrubState (JSON)

var scrubStateKey = []byte{spaceState, 's', 'c', 'r', 'u', 'b'}

// scrubState is the background scrubber's progress.
type scrubState struct {
	// Done is when the last full pass ended (or, before the first, when
	// the scrubber first ran).
	Done time.Time `json:"done"`
	// Running is set while a pass is under way; Cursor is the index key of
	// the last record it finished.
	Running bool      `json:"running,omitempty"`
	Started time.Time `json:"started,omitzero"`
	Cursor  []byte    `json:"cursor,omitempty"`
}

func (s *Store) loadScrubState(ctx context.Context) (scrubState, error) {
	var st scrubState
	v, err := s.idx.Get(ctx, scrubStateKey)
	if errors.Is(err, index.ErrNotFound) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(v, &st); err != nil {
		s.log.Error("cellar: corrupt scrub state; starting afresh", "err", err)
		return scrubState{}, nil
	}
	return st, nil
}

func (s *Store) saveScrubState(ctx context.Context, st scrubState) error {
	v, _ := json.Marshal(st)
	var b index.Batch
	b.Set(scrubStateKey, v)
	return s.idx.Apply(ctx, &b)
}

// scrubLoop runs a scrub pass every ScrubInterval, each at most
// ScrubBytesPerSecond, resuming an interrupted pass where it stopped.
func (s *Store) scrubLoop(ctx context.Context) {
	defer s.bg.Done()
	wait := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
	st, err := s.loadScrubState(ctx)
	for err != nil {
		s.log.Warn("cellar: scrub: cannot read progress; retrying", "err", err)
		if !wait(time.Minute) {
			return
		}
		st, err = s.loadScrubState(ctx)
	}
	if st.Done.IsZero() {
		st.Done = time.Now()
		if err := s.saveScrubState(ctx, st); err != nil && ctx.Err() == nil {
			s.log.Warn("cellar: scrub: cannot save progress", "err", err)
		}
	}
	for {
		if !st.Running {
			if !wait(time.Until(st.Done.Add(s.opts.ScrubInterval))) {
				return
			}
			st = scrubState{Done: st.Done, Running: true, Started: time.Now()}
		}
		sc := s.newScrubber(max(s.opts.ScrubBytesPerSecond, 0))
		lastSave := time.Now()
		err := sc.pass(ctx, st.Cursor, func(key []byte) {
			st.Cursor = key
			if time.Since(lastSave) >= 10*time.Second {
				lastSave = time.Now()
				if err := s.saveScrubState(ctx, st); err != nil && ctx.Err() == nil {
					s.log.Warn("cellar: scrub: cannot save progress", "err", err)
				}
			}
		})
		rep := sc.rep
		if rep.Bad > 0 {
			s.kickHeal()
		}
		if err != nil {
			if ctx.Err() != nil {
				// Closing: keep the cursor for the next Open.
				s.saveScrubState(context.WithoutCancel(ctx), st)
				return
			}
			s.log.Warn("cellar: scrub pass failed; resuming in a minute", "err", err)
			if !wait(time.Minute) {
				return
			}
			continue
		}
		st = scrubState{Done: time.Now()}
		if err := s.saveScrubState(ctx, st); err != nil && ctx.Err() == nil {
			s.log.Warn("cellar: scrub: cannot save progress", "err", err)
		}
		// Counted once the state is saved, so that a caller who sees the
		// pass in Stats also finds it in the index.
		s.dur.scrubPasses.Add(1)
		s.log.Info("cellar: scrub pass done", "datasets", rep.DataSets, "bytes", rep.Bytes, "bad", rep.Bad, "skipped", rep.Skipped, "lost", len(rep.Lost))
	}
}
