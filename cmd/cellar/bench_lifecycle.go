package main

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/cellarhq/cellar"
	"github.com/cellarhq/cellar/backend"
	"github.com/cellarhq/cellar/index"
)

// The lifecycle workload: expiring many objects by a rule against deleting
// them one by one, and a pass with nothing due against a scan of the
// bucket.
const (
	wLifecycle     = "lifecycle"
	wLifecycleIdle = "lifecycle-idle"
	subLifecycle   = "lifecycle" // Pebble indexes of the lifecycle workload
	lcPrefix       = "expire/"
	// lcIdlePasses is how many passes with nothing due are timed.
	lcIdlePasses = 100
)

// lcClock is a clock the bench moves forward.
type lcClock struct{ ns atomic.Int64 }

func (c *lcClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *lcClock) set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *lcClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// lcStore opens a store for the lifecycle workload: the index on disk
// under sub, where lifecycle does its work, and memory zones, since
// expiring an object reads and writes only the index (its data is
// deleted later, by Sweep, which the workload does not time).
func (b *bench) lcStore(ctx context.Context, sub string, clock *lcClock) (*cellar.Store, func() error, error) {
	idx, err := index.OpenPebble(b.path(subLifecycle, sub), nil)
	if err != nil {
		return nil, nil, err
	}
	zones := []backend.Backend{backend.NewMemory(), backend.NewMemory(), backend.NewMemory()}
	st, err := cellar.Open(ctx, &cellar.Options{
		Zones: zones, Index: idx, Clock: clock.now,
		LifecycleInterval: -1, SweepInterval: -1, ScrubInterval: -1, ProbeInterval: -1,
	})
	if err != nil {
		idx.Close()
		return nil, nil, err
	}
	if err := st.CreateBucket(ctx, benchBucket, nil); err != nil {
		st.Close()
		idx.Close()
		return nil, nil, err
	}
	closeAll := func() error {
		err := st.Close()
		if cerr := idx.Close(); err == nil {
			err = cerr
		}
		return err
	}
	return st, closeAll, nil
}

func lcKey(i int) string { return fmt.Sprintf("%s%07d", lcPrefix, i) }

// lcFill puts n empty objects under lcPrefix, conc at a time.
func (b *bench) lcFill(ctx context.Context, bk *cellar.Bucket, n int) error {
	return forEach(ctx, n, b.cfg.concurrency, func(ctx context.Context, i int) error {
		_, err := bk.Put(ctx, lcKey(i), nil, nil)
		return err
	})
}

// lcCount counts the objects left under lcPrefix.
func lcCount(ctx context.Context, bk *cellar.Bucket) (int, error) {
	n := 0
	for _, err := range bk.Objects(ctx, &cellar.ListOptions{Prefix: lcPrefix}) {
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// lifecycle measures expiration by a rule and the cost of a pass with
// nothing due.
func (b *bench) lifecycle(ctx context.Context) error {
	n := b.cfg.lcObjects
	clock := &lcClock{}
	clock.set(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	st, closeStore, err := b.lcStore(ctx, "rule", clock)
	if err != nil {
		return err
	}
	defer func() {
		if closeStore != nil {
			closeStore()
		}
	}()
	bk := st.Bucket(benchBucket)
	setup := time.Now()
	if err := b.lcFill(ctx, bk, n); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	cfg, err := cellar.ParseLifecycle([]byte(`{"Rules":[{"ID":"expire-all","Status":"Enabled","Filter":{"Prefix":"` + lcPrefix + `"},"Expiration":{"Days":1}}]}`))
	if err != nil {
		return err
	}
	planStart := time.Now()
	if err := bk.SetLifecycle(ctx, cfg); err != nil {
		return err
	}
	plan := time.Since(planStart)
	setupTime := time.Since(setup)

	// Nothing is due yet: a pass must not look at the objects.
	var idle []time.Duration
	for range lcIdlePasses {
		t0 := time.Now()
		rep, err := st.RunLifecycle(ctx)
		idle = append(idle, time.Since(t0))
		if err != nil {
			return err
		}
		if rep != (cellar.LifecycleReport{}) {
			return fmt.Errorf("a pass with nothing due did something: %+v", rep)
		}
	}
	// The baseline of an idle pass: the scan of the bucket it avoids.
	scan, err := b.measure(phase{w: wLifecycle, run: func() error {
		got, err := lcCount(ctx, bk)
		if err == nil && got != n {
			err = fmt.Errorf("listed %d objects, want %d", got, n)
		}
		return err
	}})
	if err != nil {
		return err
	}

	// Two days on, every object is due.
	clock.advance(48 * time.Hour)
	var rep cellar.LifecycleReport
	cs, err := b.measure(phase{w: wLifecycle, cellar: true, run: func() error {
		var err error
		rep, err = st.RunLifecycle(ctx)
		return err
	}})
	if err != nil {
		return err
	}
	if rep.Expired != n || rep.Failed != 0 {
		return fmt.Errorf("lifecycle expired %d objects (%d failed), want %d", rep.Expired, rep.Failed, n)
	}
	if left, err := lcCount(ctx, bk); err != nil || left != 0 {
		return fmt.Errorf("%d objects left after expiry (%v)", left, err)
	}
	err = closeStore()
	closeStore = nil
	if err != nil {
		return err
	}

	// Baseline: the same objects deleted by the caller, conc at a time.
	st2, close2, err := b.lcStore(ctx, "delete", clock)
	if err != nil {
		return err
	}
	defer close2()
	bk2 := st2.Bucket(benchBucket)
	if err := b.lcFill(ctx, bk2, n); err != nil {
		return fmt.Errorf("baseline setup: %w", err)
	}
	rs, err := b.measure(phase{w: wLifecycle, run: func() error {
		return forEach(ctx, n, b.cfg.concurrency, func(ctx context.Context, i int) error {
			_, err := bk2.Delete(ctx, lcKey(i), nil)
			return err
		})
	}})
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	if left, err := lcCount(ctx, bk2); err != nil || left != 0 {
		return fmt.Errorf("baseline: %d objects left after deletes (%v)", left, err)
	}

	b.rows[wLifecycle] = rateRow(n, cs.d, rs.d, "obj/s")
	slowest := idle[0]
	total := time.Duration(0)
	for _, d := range idle {
		slowest = max(slowest, d)
		total += d
	}
	mean := total / time.Duration(len(idle))
	b.rows[wLifecycleIdle] = row{
		fmt.Sprintf("%9.3f ms", float64(mean.Microseconds())/1000),
		fmt.Sprintf("%9.3f ms", float64(scan.d.Microseconds())/1000),
		strconv.FormatFloat(mean.Seconds()/scan.d.Seconds(), 'g', 2, 64),
	}
	b.note(wLifecycle, "cellar %s: one RunLifecycle expiring %d empty objects (rule Expiration Days 1 on %q, clock moved 2 days); the store has its Pebble index on disk and memory zones, since expiry changes only the index (Sweep frees the data later, untimed)",
		describe([]sample{cs}), n, lcPrefix)
	b.note(wLifecycle, "baseline %s: the same number of objects in a fresh store of the same kind deleted with Bucket.Delete, %d at a time", describe([]sample{rs}), b.cfg.concurrency)
	b.note(wLifecycle, "setup %s: %d puts and SetLifecycle, whose planning took %s", secs(setupTime), n, secs(plan))
	b.note(wLifecycle, "lifecycle-idle: mean of %d RunLifecycle passes over the bucket of %d objects with nothing due (slowest %.3f ms) beside one listing of the bucket, the scan a pass does not do",
		lcIdlePasses, n, float64(slowest.Microseconds())/1000)
	return nil
}
