package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/cellarhq/cellar"
	"github.com/cellarhq/cellar/backend"
	"github.com/cellarhq/cellar/backend/faulty"
	"github.com/cellarhq/cellar/index"
)

// The repair workloads: rebuilding a replaced zone, scrubbing, and the time
// from a zone's return to full redundancy for many degraded objects.
const (
	wHeal    = "heal"
	wScrub   = "scrub"
	wHeal10k = "heal-10k"

	subHeal     = "heal"      // embedded default store of heal and scrub
	subRawHeal  = "raw-heal"  // raw baseline of heal and scrub
	subHealMany = "heal-many" // store of heal-10k, az2 behind a faulty wrapper
	subRawMany  = "raw-many"  // raw baseline of heal-10k

	// healReaders is how many raw files the heal and scrub baselines read
	// at once: as many as the healer rebuilds data sets at once.
	healReaders = 4
	// healPoll is how often, at most, heal-10k looks at Stats for the
	// queue to empty.
	healPoll = 50 * time.Millisecond
	// healDeadline bounds heal-10k's wait for full redundancy.
	healDeadline = 30 * time.Minute
)

// optIn are the workloads that run only when --only names them: heal-10k's
// setup of 10,000 puts alone takes tens of seconds.
var optIn = map[string]bool{wHeal10k: true}

// healConfig is the command line of the repair workloads.
type healConfig struct {
	size   byteSize // the heal data set
	object byteSize // its objects' size
	count  int      // heal-10k's objects
}

func (c *healConfig) register(flags *flag.FlagSet) {
	c.size, c.object = 256<<20, 4<<20
	flags.Var(&c.size, "heal-size", "data set of heal and scrub, rebuilt after its zone az2 is replaced and then scrubbed")
	flags.Var(&c.object, "heal-object", "size of each object of the heal data set")
	flags.IntVar(&c.count, "heal-count", 10000, "objects of --small-size written with zone az2 offline, for heal-10k")
}

func (c *healConfig) check() error {
	switch {
	case c.object <= 0 || int64(c.object) > cellar.MaxPutSize:
		return &usageError{fmt.Sprintf("--heal-object %s: must be in (0, %s], a single put", c.object.String(), byteSize(cellar.MaxPutSize))}
	case c.size < c.object:
		return &usageError{fmt.Sprintf("--heal-size %s: must be at least --heal-object %s", c.size.String(), c.object.String())}
	case c.count < 1 || c.count > 1e7:
		return &usageError{"--heal-count must be in [1, 10000000]"}
	}
	return nil
}

// repair runs heal and scrub, which share a data set and its raw copy, and
// heal-10k.
func (b *bench) repair(ctx context.Context) error {
	if b.sel[wHeal] || b.sel[wScrub] {
		if err := b.healScrub(ctx); err != nil {
			return err
		}
	}
	if b.sel[wHeal10k] {
		if err := b.healMany(ctx); err != nil {
			return fmt.Errorf("%s: %w", wHeal10k, err)
		}
	}
	return nil
}

// healOptions opens the repair stores with no background work, so that
// only the timed calls heal and scrub, and the healer unpaced.
func healOptions(dir string) *cellar.Options {
	return &cellar.Options{Dir: dir, SweepInterval: -1, ProbeInterval: -1, ScrubInterval: -1, HealBytesPerSecond: -1}
}

func healKey(i int) string { return fmt.Sprintf("heal/%06d", i) }

// healScrub writes the heal data set, replaces zone az2 with an empty
// directory, times Store.Heal, then times Store.Scrub of the whole store;
// each against reading the same objects raw, cold.
func (b *bench) healScrub(ctx context.Context) error {
	n := int(int64(b.cfg.heal.size) / int64(b.cfg.heal.object))
	osize := int64(b.cfg.heal.object)
	total := int64(n) * osize
	dir := b.path(subHeal)
	st, err := cellar.Open(ctx, healOptions(dir))
	if err != nil {
		return err
	}
	defer func() {
		if st != nil {
			st.Close()
		}
	}()
	if err := st.CreateBucket(ctx, benchBucket, nil); err != nil {
		return err
	}
	bk := st.Bucket(benchBucket)
	setup := time.Now()
	err = forEach(ctx, n, healReaders, func(ctx context.Context, i int) error {
		_, err := bk.Put(ctx, healKey(i), b.gen.reader(int64(i)*osize, int64(i+1)*osize), &cellar.PutOptions{Size: osize})
		return err
	})
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	raw := b.path(subRawHeal)
	if err := os.MkdirAll(raw, 0o755); err != nil {
		return err
	}
	err = forEach(ctx, n, healReaders, func(ctx context.Context, i int) error {
		return writeFileAtomic(filepath.Join(raw, fmt.Sprintf("obj-%06d", i)), func(f *os.File) error {
			return copyChunks(ctx, f, b.gen.reader(int64(i)*osize, int64(i+1)*osize))
		})
	})
	if err != nil {
		return fmt.Errorf("baseline setup: %w", err)
	}
	setupTime := time.Since(setup)

	// Zone az2 is lost and replaced by an empty directory.
	if err := st.Close(); err != nil {
		return err
	}
	st = nil
	if err := os.RemoveAll(filepath.Join(dir, "az2")); err != nil {
		return err
	}
	if st, err = cellar.Open(ctx, healOptions(dir)); err != nil {
		return err
	}
	// Finding the missing shards is a scrub pass, as cellar heal does
	// first; untimed here, since the scrub workload times a pass.
	found, err := st.Scrub(ctx, nil)
	if err != nil {
		return err
	}
	missed := zoneShards(n, osize)
	if found.Bad != missed || len(found.Lost) > 0 {
		return fmt.Errorf("the scrub after replacing az2 found %d bad shards and %d data sets lost; want %d and none", found.Bad, len(found.Lost), missed)
	}
	rawSide := func(w string) (sample, error) {
		return b.measure(phase{w: w, prep: b.evict(raw), run: func() error {
			return forEach(ctx, n, healReaders, func(ctx context.Context, i int) error {
				f, err := os.Open(filepath.Join(raw, fmt.Sprintf("obj-%06d", i)))
				if err != nil {
					return err
				}
				defer f.Close()
				m, err := io.Copy(io.Discard, f)
				if err == nil && m != osize {
					err = fmt.Errorf("raw object %d: read %d bytes, want %d", i, m, osize)
				}
				return err
			})
		}})
	}

	var hrep cellar.HealReport
	hs, err := b.measure(phase{w: wHeal, cellar: true, prep: b.evict(dir), run: func() error {
		var err error
		hrep, err = st.Heal(ctx)
		return err
	}})
	if err != nil {
		return fmt.Errorf("%s: %w", wHeal, err)
	}
	if stats := st.Stats(); hrep.Healed != missed || hrep.Pending != 0 || stats.HealQueue != 0 || stats.Err != nil {
		return fmt.Errorf("%s: healed %d shards, %d pending, %d still queued (%v); want %d, none, none", wHeal, hrep.Healed, hrep.Pending, stats.HealQueue, stats.Err, missed)
	}
	// Untimed: the objects read back from the rebuilt zone and one other
	// alone (az1 held out), so the rebuilt shards are what is read.
	err = st.Close()
	st = nil
	if err == nil {
		err = b.checkHealed(ctx, dir, n, osize)
	}
	if err == nil {
		st, err = cellar.Open(ctx, healOptions(dir))
	}
	if err != nil {
		return fmt.Errorf("%s: check: %w", wHeal, err)
	}
	hb, err := rawSide(wHeal)
	if err != nil {
		return fmt.Errorf("%s: baseline: %w", wHeal, err)
	}
	if b.sel[wHeal] {
		b.rows[wHeal] = repairRow(float64(total)/1e6/hs.d.Seconds(), float64(total)/1e6/hb.d.Seconds(), "%9.1f MB/s")
		b.note(wHeal, "%d objects of %s (%s) put %d at a time (untimed, with the raw copy %s); zone az2 then deleted and reopened empty; an untimed Store.Scrub queued its %d shards; one run a side, cold",
			n, byteSize(osize), byteSize(total), healReaders, secs(setupTime), missed)
		b.note(wHeal, "cellar %s: Store.Heal, unpaced (HealBytesPerSecond -1), rebuilt %d shards, %s written (%.1f MB/s of shard bytes); MB/s counts the object bytes brought back to full redundancy",
			describe([]sample{hs}), hrep.Healed, byteSize(hrep.Bytes), float64(hrep.Bytes)/1e6/hs.d.Seconds())
		b.note(wHeal, "baseline %s: the same objects as plain files, read %d at a time with io.Copy(io.Discard), as rebuilding must read them; afterwards every object read back from az2 and az3 alone", describe([]sample{hb}), healReaders)
	}

	if b.sel[wScrub] {
		var srep cellar.ScrubReport
		ss, err := b.measure(phase{w: wScrub, cellar: true, prep: b.evict(dir), run: func() error {
			var err error
			srep, err = st.Scrub(ctx, &cellar.ScrubOptions{})
			return err
		}})
		if err == nil && (srep.Bad != 0 || srep.Shards != 6*n) {
			err = fmt.Errorf("scrub verified %d shards and found %d bad; want %d and none", srep.Shards, srep.Bad, 6*n)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", wScrub, err)
		}
		sb, err := rawSide(wScrub)
		if err != nil {
			return fmt.Errorf("%s: baseline: %w", wScrub, err)
		}
		b.rows[wScrub] = repairRow(float64(srep.Bytes)/1e6/ss.d.Seconds(), float64(total)/1e6/sb.d.Seconds(), "%9.1f MB/s")
		b.note(wScrub, "cellar %s: Store.Scrub unpaced (ScrubOptions.BytesPerSecond 0) of the healed store: %d shards of %d data sets, parity included, %s read and every block's BLAKE3 checked; MB/s counts the shard bytes read",
			describe([]sample{ss}), srep.Shards, srep.DataSets, byteSize(srep.Bytes))
		b.note(wScrub, "baseline %s: the raw read of heal's baseline again, %s", describe([]sample{sb}), byteSize(total))
	}
	return nil
}

// checkHealed reads the first and last 64 KiB of every heal object through
// a store whose zone az1 is offline, so that the shards read are az3's and
// the ones Heal rebuilt in az2, and compares them with the generator. The
// store in dir must be closed.
func (b *bench) checkHealed(ctx context.Context, dir string, n int, osize int64) error {
	idx, err := index.OpenPebble(filepath.Join(dir, "index"), nil)
	if err != nil {
		return err
	}
	defer idx.Close()
	var zones []backend.Backend
	for _, name := range []string{"az1", "az2", "az3"} {
		d, err := backend.NewDir(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if name == "az1" {
			zones = append(zones, faulty.Wrap(d, faulty.Offline()))
		} else {
			zones = append(zones, d)
		}
	}
	o := healOptions("")
	o.Dir, o.Zones, o.Index = "", zones, idx
	st, err := cellar.Open(ctx, o)
	if err != nil {
		return err
	}
	defer st.Close()
	bk := st.Bucket(benchBucket)
	span := min(osize, 64<<10)
	got, want := make([]byte, span), make([]byte, span)
	for i := range n {
		obj, err := bk.Get(ctx, healKey(i), nil)
		if err != nil {
			return err
		}
		for _, off := range []int64{0, osize - span} {
			m, err := obj.ReadAt(got, off)
			b.gen.fill(want, int64(i)*osize+off)
			if m != len(got) || !bytes.Equal(got, want) {
				obj.Close()
				return fmt.Errorf("%s with az1 offline: bytes %d..%d read %d, %v, or differ from what was put", healKey(i), off, off+span, m, err)
			}
		}
		obj.Close()
	}
	return nil
}

func manyKey(i int) string { return fmt.Sprintf("many/%07d", i) }

// healMany writes --heal-count objects of --small-size with zone az2
// offline, brings the zone back and times how long the store takes, on
// its own (prober and background healer), to have every object at full
// redundancy again; against writing the missed shard files raw.
func (b *bench) healMany(ctx context.Context) error {
	n, size := b.cfg.heal.count, int(b.cfg.smallSize)
	dir := b.path(subHealMany)
	idx, err := index.OpenPebble(filepath.Join(dir, "index"), nil)
	if err != nil {
		return err
	}
	defer idx.Close()
	var zones []backend.Backend
	var az2 *faulty.Backend
	for _, name := range []string{"az1", "az2", "az3"} {
		d, err := backend.NewDir(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if name == "az2" {
			az2 = faulty.Wrap(d, faulty.Offline())
			zones = append(zones, az2)
			continue
		}
		zones = append(zones, d)
	}
	// The prober at a second, so that az2 is marked offline before the
	// writes; a zone marked offline is probed every second whatever
	// ProbeInterval says, so its return is seen as soon either way.
	st, err := cellar.Open(ctx, &cellar.Options{Zones: zones, Index: idx, ProbeInterval: time.Second, ScrubInterval: -1})
	if err != nil {
		return err
	}
	defer st.Close()
	// Stats counts the heal queue by a scan: poll it no more than keeps
	// its cost to a twentieth of the time, as cellar heal does, so that
	// watching does not slow the healer down.
	wait := func(what string, limit time.Duration, done func(cellar.Stats) bool) error {
		deadline := time.Now().Add(limit)
		for {
			t0 := time.Now()
			stats := st.Stats()
			every := max(healPoll, 20*time.Since(t0))
			if stats.Err != nil {
				return stats.Err
			}
			if done(stats) {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s: not after %v (heal queue %d, zones %+v)", what, limit, stats.HealQueue, stats.Zones)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(every):
			}
		}
	}
	if err := wait("az2 marked offline", time.Minute, func(s cellar.Stats) bool { return !s.Zones[1].Online }); err != nil {
		return err
	}
	if err := st.CreateBucket(ctx, benchBucket, nil); err != nil {
		return err
	}
	bk := st.Bucket(benchBucket)
	setup := time.Now()
	err = forEach(ctx, n, b.cfg.concurrency, func(ctx context.Context, i int) error {
		_, err := bk.Put(ctx, manyKey(i), bytes.NewReader(b.gen.small(i, size)), &cellar.PutOptions{Size: int64(size)})
		return err
	})
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	setupTime := time.Since(setup)
	missed := zoneShards(n, int64(size))
	before := st.Stats()
	if before.HealQueueSets != n || before.HealQueue != missed {
		return fmt.Errorf("with az2 offline, %d objects left %d shards of %d data sets queued; want %d of %d", n, before.HealQueue, before.HealQueueSets, missed, n)
	}

	cs, err := b.measure(phase{w: wHeal10k, cellar: true, run: func() error {
		az2.SetOffline(false)
		return wait("full redundancy", healDeadline, func(s cellar.Stats) bool { return s.Zones[1].Online && s.HealQueue == 0 })
	}})
	if err != nil {
		return err
	}
	after := st.Stats()
	healed := after.ShardsHealed - before.ShardsHealed
	if healed != int64(missed) {
		return fmt.Errorf("the heal queue emptied with %d shards healed, want %d", healed, missed)
	}
	blob := (after.BytesHealed - before.BytesHealed) / healed
	for _, i := range []int{0, n / 2, n - 1} {
		if err := checkSmall(ctx, bk, manyKey(i), b.gen.small(i, size)); err != nil {
			return err
		}
	}

	raw := b.path(subRawMany)
	if err := os.MkdirAll(raw, 0o755); err != nil {
		return err
	}
	shard := make([]byte, blob)
	rs, err := b.measure(phase{w: wHeal10k, run: func() error {
		return forEach(ctx, missed, healReaders, func(ctx context.Context, i int) error {
			return writeFileAtomic(filepath.Join(raw, fmt.Sprintf("shard-%07d", i)), func(f *os.File) error {
				_, err := f.Write(shard)
				return err
			})
		})
	}})
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	b.rows[wHeal10k] = repairRow(float64(n)/cs.d.Seconds(), float64(n)/rs.d.Seconds(), "%9.0f obj/s")
	b.note(wHeal10k, "%d objects of %s put %d at a time with az2 offline (faulty.Offline, marked so by the prober; untimed, %s), leaving %d shards queued",
		n, byteSize(size), b.cfg.concurrency, secs(setupTime), missed)
	b.note(wHeal10k, "cellar %s: az2 back online, until Stats showed it online and the heal queue empty: the prober's next probe (within a second), then the background healer; Stats polled every %v or more, keeping its scans to a twentieth of the time; obj/s is objects back at full redundancy a second",
		describe([]sample{cs}), healPoll)
	b.note(wHeal10k, "baseline %s: writing the %d missed shard blobs (%s each, the healed blobs' mean) as files, each fsynced and renamed, %d at a time", describe([]sample{rs}), missed, byteSize(blob), healReaders)
	return nil
}

// zoneShards is how many shards one zone of the embedded default holds
// of n objects of size bytes each: two of RS(4,2), one of the small layout
// RS(1,2).
func zoneShards(n int, size int64) int {
	if size <= cellar.SmallObjectSize {
		return n
	}
	return 2 * n
}

// repairRow is a row of rates c and r printed with format, and their ratio
// with two significant digits however small: rebuilding a few MiB against
// a raw read of the same can be far below 0.01.
func repairRow(c, r float64, format string) row {
	ratio := fmt.Sprintf("%.2f", c/r)
	if c/r < 0.1 {
		ratio = strconv.FormatFloat(c/r, 'g', 2, 64)
	}
	return row{fmt.Sprintf(format, c), fmt.Sprintf(format, r), ratio}
}
