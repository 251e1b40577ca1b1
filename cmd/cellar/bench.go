package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/cellarhq/cellar"
	"github.com/cellarhq/cellar/backend"
	"github.com/cellarhq/cellar/backend/faulty"
	"github.com/cellarhq/cellar/erasure"
	"github.com/cellarhq/cellar/index"
)

// Workloads, in the order the table lists them.
const (
	wPutLarge    = "put-large"
	wGetLarge    = "get-large"
	wGetDegraded = "get-degraded"
	wPutSmall    = "put-small"
	wList        = "list"
	wPutLargeMem = "put-large-mem"
	wMultipart   = "multipart"
)

var workloads = []string{wPutLarge, wMultipart, wGetLarge, wGetDegraded, wPutSmall, wList, wPutLargeMem, wS3Put, wS3Get, wLifecycle, wHeal, wScrub, wHeal10k}

// Directories the bench makes under --dir, and removes unless --keep.
const (
	subStore    = "store"     // embedded default store holding the large object
	subRaw      = "raw"       // raw baseline of the large object
	subSmall    = "small"     // embedded default store of put-small
	subRawSmall = "raw-small" // raw baseline of put-small
	subList     = "list"      // Pebble index of the list workload
	subParts    = "parts"     // embedded default store of the multipart workload
)

var benchSubdirs = []string{subStore, subRaw, subSmall, subRawSmall, subList, subParts, subS3, subLifecycle, subHeal, subRawHeal, subHealMany, subRawMany}

const (
	benchBucket = "bench"
	largeKey    = "large/object"
	partsKey    = "large/multipart"
	listPrefix  = "logs/2026/"
	// rssEvery is how often RSS is sampled during put-large.
	rssEvery = 5 * time.Millisecond
	// rawChunk is the write size of the raw large-object baseline.
	rawChunk = 1 << 20
	// checkRanges is how many ranges of a large read are compared with
	// the generator after the timed read.
	checkRanges = 16
	// maxSmallSize bounds --small-size: put-small measures small objects.
	maxSmallSize = 4 << 20
)

// benchConfig is the bench's command line.
type benchConfig struct {
	dir         string
	size        byteSize
	smallCount  int
	smallSize   byteSize
	concurrency int
	listKeys    int
	lcObjects   int
	partSize    byteSize
	partConc    int
	s3Small     byteSize
	s3Large     byteSize
	s3Count     int
	reps        int
	only        string
	warm        bool
	keep        bool
	cpuprofile  string // hidden: prefix of per-workload CPU profiles
	heal        healConfig
	args        []string
}

// hiddenFlags are left out of the usage text: they are for developers.
var hiddenFlags = map[string]bool{"cpuprofile": true}

func parseBenchFlags(args []string, stderr io.Writer) (*benchConfig, error) {
	c := &benchConfig{size: 1 << 30, smallSize: 4 << 10, partSize: 8 << 20, s3Small: 1 << 20, s3Large: 64 << 20, args: args}
	flags := flag.NewFlagSet("bench", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.StringVar(&c.dir, "dir", "", "directory to measure in, on the disk under test (required; created if missing)")
	flags.Var(&c.size, "size", "size of the large object (suffixes KiB, MiB, GiB; KB, MB, GB)")
	flags.IntVar(&c.smallCount, "small-count", 10000, "number of small objects")
	flags.Var(&c.partSize, "part-size", "part size of the multipart workload (at least 5 MiB)")
	flags.IntVar(&c.partConc, "part-concurrency", 4, "parts uploaded at once by the multipart workload")
	flags.Var(&c.smallSize, "small-size", "size of each small object")
	flags.IntVar(&c.concurrency, "concurrency", 16, "small puts, list-setup puts, and s3-put and s3-get requests, in flight at once")
	flags.Var(&c.s3Small, "s3-small", "size of the small objects of s3-put and s3-get")
	flags.Var(&c.s3Large, "s3-large", "size of the large objects of s3-put and s3-get")
	flags.IntVar(&c.s3Count, "s3-count", 0, fmt.Sprintf("objects of each size that s3-put and s3-get move per run (0: %d of --s3-small, --concurrency of --s3-large)", s3SmallCount))
	flags.IntVar(&c.listKeys, "list-keys", 100000, "keys to list")
	flags.IntVar(&c.lcObjects, "lifecycle-objects", 100000, "objects the lifecycle workload expires")
	flags.IntVar(&c.reps, "reps", 3, "runs of each side of put-large, get-large, get-degraded and list, alternating which side goes first; the table shows each side's fastest")
	flags.StringVar(&c.only, "only", "", "comma-separated workloads to report (default all): "+strings.Join(workloads, ","))
	flags.BoolVar(&c.warm, "warm", false, "read through the page cache instead of evicting the files before each read")
	flags.BoolVar(&c.keep, "keep", false, "keep everything the bench wrote under --dir")
	flags.StringVar(&c.cpuprofile, "cpuprofile", "", "write a CPU profile of the cellar side of each workload to `prefix`-<workload>.pprof")
	c.heal.register(flags)
	flags.Usage = func() { benchUsage(flags) }
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, errUsageShown
	}
	switch {
	case flags.NArg() > 0:
		return nil, &usageError{fmt.Sprintf("unexpected argument %q", flags.Arg(0))}
	case c.dir == "":
		return nil, &usageError{"--dir is required"}
	case c.size <= 0 || int64(c.size) > cellar.MaxPutSize:
		return nil, &usageError{fmt.Sprintf("--size %s: must be in (0, %s], a single put", c.size.String(), byteSize(cellar.MaxPutSize))}
	case c.smallSize <= 0 || c.smallSize > maxSmallSize:
		return nil, &usageError{fmt.Sprintf("--small-size %s: must be in (0, %s]", c.smallSize.String(), byteSize(maxSmallSize))}
	case c.smallCount < 1:
		return nil, &usageError{"--small-count must be at least 1"}
	case c.reps < 1:
		return nil, &usageError{"--reps must be at least 1"}
	case c.concurrency < 1:
		return nil, &usageError{"--concurrency must be at least 1"}
	case c.partSize < cellar.MinPartSize || c.partSize > cellar.MaxPartSize:
		return nil, &usageError{fmt.Sprintf("--part-size %s: must be in [%s, %s]", c.partSize.String(), byteSize(cellar.MinPartSize), byteSize(cellar.MaxPartSize))}
	case c.s3Small <= 0 || int64(c.s3Small) > cellar.MaxPutSize || c.s3Large <= 0 || int64(c.s3Large) > cellar.MaxPutSize:
		return nil, &usageError{fmt.Sprintf("--s3-small %s, --s3-large %s: each must be in (0, %s], a single put", c.s3Small.String(), c.s3Large.String(), byteSize(cellar.MaxPutSize))}
	case c.s3Count < 0:
		return nil, &usageError{"--s3-count must not be negative"}
	case c.partConc < 1:
		return nil, &usageError{"--part-concurrency must be at least 1"}
	case c.lcObjects < 1 || c.lcObjects > 1e7-1:
		// lcKey has seven digits.
		return nil, &usageError{"--lifecycle-objects must be in [1, 9999999]"}
	case c.listKeys < 1 || c.listKeys > 1e7-1:
		// listKey has seven digits.
		return nil, &usageError{"--list-keys must be in [1, 9999999]"}
	}
	if err := c.heal.check(); err != nil {
		return nil, err
	}
	return c, nil
}

func benchUsage(flags *flag.FlagSet) {
	w := flags.Output()
	fmt.Fprint(w, `Usage: cellar bench --dir D [flags]

Bench measures cellar's embedded default store (Pebble index, three
directory zones, RS(4,2) in 1 MiB blocks) on the disk holding D against
raw-disk baselines that do the same logical work, and prints one table.
Workloads: put-large, multipart (the same object through Bucket.Upload,
against put-large's baseline), get-large, get-degraded (zone az2 offline),
put-small, list, put-large-mem (peak RSS during put-large), and s3-put and
s3-get (objects of --s3-small and --s3-large through cellar's S3 handler on
loopback with aws-sdk-go-v2, against the Go API on the same kind of store;
gofakes3 in memory as a peer, in the notes), heal (rebuilding a replaced zone
az2 of --heal-size), scrub (verifying that store) and heal-10k (zone az2
back after --heal-count objects missed it; only with --only, as its setup
is slow). Everything it writes under D is
removed at the end unless --keep.

Flags:
`)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	flags.VisitAll(func(f *flag.Flag) {
		if hiddenFlags[f.Name] {
			return
		}
		name, use := flag.UnquoteUsage(f)
		def := ""
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			def = " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(tw, "  --%s %s\t%s%s\n", f.Name, name, use, def)
	})
	tw.Flush()
}

// selection parses --only.
func (c *benchConfig) selection() (map[string]bool, error) {
	sel := make(map[string]bool)
	if c.only == "" {
		for _, w := range workloads {
			sel[w] = !optIn[w]
		}
		return sel, nil
	}
	for _, w := range strings.Split(c.only, ",") {
		w = strings.TrimSpace(w)
		if !slices.Contains(workloads, w) {
			return nil, &usageError{fmt.Sprintf("--only: unknown workload %q (have %s)", w, strings.Join(workloads, ","))}
		}
		sel[w] = true
	}
	return sel, nil
}

// runBench is the bench command.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseBenchFlags(args, stderr)
	if err != nil {
		return err
	}
	sel, err := cfg.selection()
	if err != nil {
		return err
	}
	made := false
	if _, err := os.Stat(cfg.dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(cfg.dir, 0o755); err != nil {
			return err
		}
		made = true
	} else if err != nil {
		return err
	}
	for _, sub := range benchSubdirs {
		p := filepath.Join(cfg.dir, sub)
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%s exists (left by a run with --keep?): remove it or choose another --dir", p)
		}
	}
	b := &bench{
		cfg:     cfg,
		sel:     sel,
		k:       cellar.DefaultDataShards,
		m:       cellar.DefaultParityShards,
		block:   cellar.DefaultBlockSize,
		rows:    make(map[string]row),
		notes:   make(map[string][]string),
		gen:     newGenerator(),
		checkRg: rand.New(rand.NewPCG(1, 2)),
	}
	b.fs, b.evictable = fsName(cfg.dir)
	b.cold = !cfg.warm
	var runErr error
	if b.cold && !b.evictable {
		runErr = fmt.Errorf("%s is on %s, where the page cache is the storage and cannot be evicted: use a disk-backed directory, or pass --warm", cfg.dir, b.fs)
	} else {
		runErr = b.run(ctx)
	}
	if !cfg.keep {
		var errs []error
		for _, sub := range benchSubdirs {
			errs = append(errs, os.RemoveAll(filepath.Join(cfg.dir, sub)))
		}
		if made {
			errs = append(errs, os.Remove(cfg.dir))
		}
		if err := errors.Join(errs...); err != nil {
			fmt.Fprintf(stderr, "cellar bench: cleaning up %s: %v\n", cfg.dir, err)
		}
	}
	if runErr != nil {
		return runErr
	}
	b.print(stdout)
	return nil
}

// row is one line of the table.
type row struct{ cellar, base, ratio string }

// bench is one run of the bench command.
type bench struct {
	cfg      *benchConfig
	sel      map[string]bool
	k, m     int
	block    int
	gen      *generator
	checkRg  *rand.Rand // picks the ranges checked after large reads
	rows     map[string]row
	notes    map[string][]string
	profiles []string

	fs        string
	evictable bool
	cold      bool
}

func (b *bench) note(w, format string, args ...any) {
	b.notes[w] = append(b.notes[w], fmt.Sprintf(format, args...))
}

func (b *bench) path(sub ...string) string {
	return filepath.Join(append([]string{b.cfg.dir}, sub...)...)
}

func (b *bench) run(ctx context.Context) error {
	if b.sel[wPutLarge] || b.sel[wMultipart] || b.sel[wGetLarge] || b.sel[wGetDegraded] || b.sel[wPutLargeMem] {
		if err := b.large(ctx); err != nil {
			return err
		}
	}
	if b.sel[wPutSmall] {
		if err := b.putSmall(ctx); err != nil {
			return fmt.Errorf("%s: %w", wPutSmall, err)
		}
	}
	if b.sel[wList] {
		if err := b.list(ctx); err != nil {
			return fmt.Errorf("%s: %w", wList, err)
		}
	}
	if b.sel[wS3Put] || b.sel[wS3Get] {
		if err := b.s3(ctx); err != nil {
			return err
		}
	}
	if b.sel[wLifecycle] {
		if err := b.lifecycle(ctx); err != nil {
			return fmt.Errorf("%s: %w", wLifecycle, err)
		}
	}
	if b.sel[wHeal] || b.sel[wScrub] || b.sel[wHeal10k] {
		if err := b.repair(ctx); err != nil {
			return err
		}
	}
	return nil
}

// large runs put-large, put-large-mem, get-large and get-degraded, which
// share one object and its raw copy.
func (b *bench) large(ctx context.Context) error {
	size := int64(b.cfg.size)
	var st *cellar.Store
	defer func() {
		if st != nil {
			st.Close()
		}
	}()
	// Each run of either side starts afresh: the last run's store, or
	// raw files, are removed untimed first.
	var putMems, rawMems []memResult
	putRun := func() (sample, error) {
		if st != nil {
			err := st.Close()
			st = nil
			if err != nil {
				return sample{}, err
			}
		}
		if err := os.RemoveAll(b.path(subStore)); err != nil {
			return sample{}, err
		}
		var err error
		if st, err = cellar.Open(ctx, &cellar.Options{Dir: b.path(subStore)}); err != nil {
			return sample{}, err
		}
		if err := st.CreateBucket(ctx, benchBucket, nil); err != nil {
			return sample{}, err
		}
		var info cellar.ObjectInfo
		var mem memResult
		s, err := b.measure(phase{w: wPutLarge, cellar: true, mem: &mem, run: func() error {
			var err error
			info, err = st.Bucket(benchBucket).Put(ctx, largeKey, b.gen.reader(0, size), &cellar.PutOptions{Size: size})
			return err
		}})
		if err == nil && (info.Size != size || info.ETag == "") {
			err = fmt.Errorf("put returned size %d, ETag %q; want size %d", info.Size, info.ETag, size)
		}
		putMems = append(putMems, mem)
		return s, err
	}
	rawRun := func() (sample, error) {
		if err := os.RemoveAll(b.path(subRaw)); err != nil {
			return sample{}, err
		}
		var mem memResult
		s, err := b.measure(phase{w: wPutLarge, mem: &mem, run: func() error { return b.rawWrite(ctx) }})
		rawMems = append(rawMems, mem)
		return s, err
	}
	cs, rs, err := b.pair(b.cfg.reps, putRun, rawRun)
	if err != nil {
		return fmt.Errorf("%s: %w", wPutLarge, err)
	}
	shardLen := (size + int64(b.k) - 1) / int64(b.k)
	b.rows[wPutLarge] = throughputRow(size, best(cs).d, best(rs).d, "MB/s")
	b.note(wPutLarge, "%d runs a side, alternating which side goes first, each from scratch; the table shows each side's fastest", b.cfg.reps)
	b.note(wPutLarge, "cellar %s: one Bucket.Put of %s (size given) into a fresh embedded-default store",
		describe(cs), byteSize(size))
	b.note(wPutLarge, "baseline %s: %d files of %s (%s in all) written at once in %s writes from the same generator, each fsynced, temp name + rename; MB/s counts object bytes on both sides",
		describe(rs), b.k+b.m, byteSize(shardLen), byteSize(shardLen*int64(b.k+b.m)), byteSize(rawChunk))
	putMem, rawMem := worst(putMems), worst(rawMems)
	b.rows[wPutLargeMem] = memRow(putMem, rawMem)
	if putMem.ok && rawMem.ok {
		b.note(wPutLargeMem, "peak VmRSS above idle during a run of put-large, sampled every %v, the largest of the %d runs a side; idle was %s (cellar) and %s (baseline), after runtime.GC and debug.FreeOSMemory",
			rssEvery, b.cfg.reps, mib(putMem.idle), mib(rawMem.idle))
	} else {
		b.note(wPutLargeMem, "VmRSS is unavailable on this system")
	}

	if b.sel[wMultipart] {
		if err := b.multipart(ctx, size, best(rs).d); err != nil {
			return fmt.Errorf("%s: %w", wMultipart, err)
		}
	}

	if b.sel[wGetLarge] {
		cs, rs, err := b.pair(b.cfg.reps,
			func() (sample, error) { return b.readObject(ctx, wGetLarge, st, size) },
			func() (sample, error) { return b.rawRead(wGetLarge, size) })
		if err == nil {
			err = b.checkObject(ctx, st, size)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", wGetLarge, err)
		}
		b.rows[wGetLarge] = throughputRow(size, best(cs).d, best(rs).d, "MB/s")
		b.note(wGetLarge, "%s", b.readMode())
		b.note(wGetLarge, "cellar %s: Get + io.Copy(io.Discard), length checked; then, untimed, %d ranges compared with the generator", describe(cs), checkRanges)
		b.note(wGetLarge, "baseline %s: the %d raw data files, which together are the object, read in turn with io.Copy(io.Discard)", describe(rs), b.k)
	}
	err = st.Close()
	st = nil
	if err != nil {
		return err
	}
	if b.sel[wGetDegraded] {
		if err := b.getDegraded(ctx, size); err != nil {
			return fmt.Errorf("%s: %w", wGetDegraded, err)
		}
	}
	return nil
}

// multipart uploads the large object again with Bucket.Upload, in parts
// uploaded several at a time, and compares it with put-large's baseline.
func (b *bench) multipart(ctx context.Context, size int64, base time.Duration) error {
	// A store of its own, so that get-degraded's store holds one object.
	st, err := cellar.Open(ctx, &cellar.Options{Dir: b.path(subParts)})
	if err != nil {
		return err
	}
	defer func() {
		st.Close()
		os.RemoveAll(b.path(subParts))
	}()
	if err := st.CreateBucket(ctx, benchBucket, nil); err != nil {
		return err
	}
	bk := st.Bucket(benchBucket)
	var times []sample
	var mems []memResult
	parts := 0
	for range b.cfg.reps {
		var mem memResult
		var info cellar.ObjectInfo
		s, err := b.measure(phase{w: wMultipart, cellar: true, mem: &mem, run: func() error {
			var err error
			info, err = bk.Upload(ctx, partsKey, b.gen.reader(0, size), &cellar.UploadOptions{
				PartSize: int64(b.cfg.partSize), Concurrency: b.cfg.partConc,
			})
			return err
		}})
		if err != nil {
			return err
		}
		if info.Size != size {
			return fmt.Errorf("upload returned size %d, want %d", info.Size, size)
		}
		parts = info.PartsCount
		times = append(times, s)
		mems = append(mems, mem)
	}
	b.rows[wMultipart] = throughputRow(size, best(times).d, base, "MB/s")
	b.note(wMultipart, "cellar %s: Bucket.Upload of %s in %d parts of %s, %d at a time, into a fresh embedded-default store; baseline is put-large's", describe(times), byteSize(size), parts, b.cfg.partSize, b.cfg.partConc)
	if m := worst(mems); m.ok {
		b.note(wMultipart, "peak VmRSS above idle %s (part buffers are at most part size x concurrency = %s)", mib(m.peak-m.idle), byteSize(int64(b.cfg.partSize)*int64(b.cfg.partConc)))
	}
	return nil
}

// rawWrite writes the raw baseline of the large object: k+m files of
// ceil(size/k) bytes, as the shards are, each by its own goroutine. Data
// file i holds object bytes [i*len, (i+1)*len), so the data files
// concatenated are the object.
func (b *bench) rawWrite(ctx context.Context) error {
	dir := b.path(subRaw)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	size := int64(b.cfg.size)
	shardLen := (size + int64(b.k) - 1) / int64(b.k)
	n := b.k + b.m
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		off := int64(i) * shardLen
		end := off + shardLen
		if i < b.k {
			end = min(end, size)
			off = min(off, end)
		}
		wg.Go(func() {
			errs[i] = writeFileAtomic(filepath.Join(dir, rawShardName(i)), func(f *os.File) error {
				return copyChunks(ctx, f, b.gen.reader(off, end))
			})
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func rawShardName(i int) string { return fmt.Sprintf("shard-%d", i) }

// copyChunks copies r to f in rawChunk writes.
func copyChunks(ctx context.Context, f *os.File, r io.Reader) error {
	buf := make([]byte, rawChunk)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			if _, werr := f.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// writeFileAtomic creates a temporary file beside path, lets fill write
// it, fsyncs and closes it and renames it to path.
func writeFileAtomic(path string, fill func(*os.File) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	err = fill(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// evict returns the prep step of a cold read of everything under root:
// nothing with --warm.
func (b *bench) evict(root string) func() error {
	if !b.cold {
		return nil
	}
	return func() error {
		_, err := evictDir(root)
		return err
	}
}

func (b *bench) readMode() string {
	if b.cold {
		return fmt.Sprintf("cold reads: before each run, every file of the side's directory is fsynced and evicted with fadvise(DONTNEED); %d runs a side, alternating which side goes first; the table shows each side's fastest", b.cfg.reps)
	}
	return fmt.Sprintf("warm reads (--warm), through the page cache; %d runs a side, alternating which side goes first; the table shows each side's fastest", b.cfg.reps)
}

// readObject times Get and io.Copy to io.Discard of the large object from
// st, whose files are all under D/store.
func (b *bench) readObject(ctx context.Context, w string, st *cellar.Store, size int64) (sample, error) {
	var n int64
	s, err := b.measure(phase{w: w, cellar: true, prep: b.evict(b.path(subStore)), run: func() error {
		obj, err := st.Bucket(benchBucket).Get(ctx, largeKey, nil)
		if err != nil {
			return err
		}
		n, err = io.Copy(io.Discard, obj)
		if cerr := obj.Close(); err == nil {
			err = cerr
		}
		return err
	}})
	if err == nil && n != size {
		err = fmt.Errorf("read %d bytes, want %d", n, size)
	}
	return s, err
}

// rawRead times a sequential read of the raw data files, which together
// are the object, with io.Copy to io.Discard as the cellar side does.
func (b *bench) rawRead(w string, size int64) (sample, error) {
	var n int64
	s, err := b.measure(phase{w: w, prep: b.evict(b.path(subRaw)), run: func() error {
		for i := range b.k {
			f, err := os.Open(b.path(subRaw, rawShardName(i)))
			if err != nil {
				return err
			}
			m, err := io.Copy(io.Discard, f)
			f.Close()
			n += m
			if err != nil {
				return err
			}
		}
		return nil
	}})
	if err == nil && n != size {
		err = fmt.Errorf("read %d bytes, want %d", n, size)
	}
	return s, err
}

// checkObject compares checkRanges ranges of the large object (its first
// and last bytes and random ones, up to 1 MiB each) with the generator.
func (b *bench) checkObject(ctx context.Context, st *cellar.Store, size int64) error {
	obj, err := st.Bucket(benchBucket).Get(ctx, largeKey, nil)
	if err != nil {
		return err
	}
	defer obj.Close()
	for i := range checkRanges {
		var off, n int64
		switch i {
		case 0:
			n = min(size, 64<<10)
		case 1:
			n = min(size, 64<<10)
			off = size - n
		default:
			off = b.checkRg.Int64N(size)
			n = min(1+b.checkRg.Int64N(1<<20), size-off)
		}
		got := make([]byte, n)
		m, err := obj.ReadAt(got, off)
		if m < len(got) {
			return fmt.Errorf("check: ReadAt(%d bytes at %d) = %d, %v", n, off, m, err)
		}
		want := make([]byte, n)
		b.gen.fill(want, off)
		if !bytes.Equal(got, want) {
			return fmt.Errorf("check: bytes %d..%d differ from what was put", off, off+n)
		}
	}
	return nil
}

// getDegraded reopens the store with zone az2 offline and reads the large
// object again.
func (b *bench) getDegraded(ctx context.Context, size int64) error {
	root := b.path(subStore)
	idx, err := index.OpenPebble(filepath.Join(root, "index"), nil)
	if err != nil {
		return err
	}
	defer idx.Close()
	var zones []backend.Backend
	var lost []int
	for _, name := range []string{"az1", "az2", "az3"} {
		d, err := backend.NewDir(filepath.Join(root, name))
		if err != nil {
			return err
		}
		if name != "az2" {
			zones = append(zones, d)
			continue
		}
		// The store holds one object: every blob of az2 is one of its shards.
		err = d.List(ctx, "", func(info backend.Info) error {
			if _, shard, ok := erasure.ParseBlobName(info.Name); ok {
				lost = append(lost, shard)
			}
			return nil
		})
		if err != nil {
			return err
		}
		zones = append(zones, faulty.Wrap(d, faulty.Offline()))
	}
	slices.Sort(lost)
	st, err := cellar.Open(ctx, &cellar.Options{Zones: zones, Index: idx})
	if err != nil {
		return err
	}
	defer st.Close()
	cs, rs, err := b.pair(b.cfg.reps,
		func() (sample, error) { return b.readObject(ctx, wGetDegraded, st, size) },
		func() (sample, error) { return b.rawRead(wGetDegraded, size) })
	if err == nil {
		err = b.checkObject(ctx, st, size)
	}
	if err != nil {
		return err
	}
	dataLost := 0
	for _, s := range lost {
		if s < b.k {
			dataLost++
		}
	}
	b.rows[wGetDegraded] = throughputRow(size, best(cs).d, best(rs).d, "MB/s")
	if !b.sel[wGetLarge] {
		b.note(wGetDegraded, "%s", b.readMode())
	}
	b.note(wGetDegraded, "zone az2 offline (faulty.Offline) held shards %v: every block decodes %d of its %d data shards from parity; ranges checked as for get-large",
		lost, dataLost, b.k)
	b.note(wGetDegraded, "cellar %s", describe(cs))
	b.note(wGetDegraded, "baseline %s: the same raw read as get-large, measured again", describe(rs))
	return nil
}

// putSmall measures many small puts against small atomic file writes.
func (b *bench) putSmall(ctx context.Context) error {
	n, size, conc := b.cfg.smallCount, int(b.cfg.smallSize), b.cfg.concurrency
	st, err := cellar.Open(ctx, &cellar.Options{Dir: b.path(subSmall)})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.CreateBucket(ctx, benchBucket, nil); err != nil {
		return err
	}
	bk := st.Bucket(benchBucket)
	cs, err := b.measure(phase{w: wPutSmall, cellar: true, run: func() error {
		return forEach(ctx, n, conc, func(ctx context.Context, i int) error {
			info, err := bk.Put(ctx, smallKey(i), bytes.NewReader(b.gen.small(i, size)), &cellar.PutOptions{Size: int64(size)})
			if err == nil && info.Size != int64(size) {
				err = fmt.Errorf("put %s: size %d, want %d", smallKey(i), info.Size, size)
			}
			return err
		})
	}})
	if err != nil {
		return err
	}
	// Untimed checks: every key is listed, and a few read back intact.
	listed := 0
	for _, err := range bk.Objects(ctx, &cellar.ListOptions{Prefix: "small/"}) {
		if err != nil {
			return err
		}
		listed++
	}
	if listed != n {
		return fmt.Errorf("listed %d small objects, want %d", listed, n)
	}
	for _, i := range []int{0, n / 2, n - 1} {
		if err := checkSmall(ctx, bk, smallKey(i), b.gen.small(i, size)); err != nil {
			return err
		}
	}

	dir := b.path(subRawSmall)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	rs, err := b.measure(phase{w: wPutSmall, run: func() error {
		return forEach(ctx, n, conc, func(ctx context.Context, i int) error {
			return writeFileAtomic(filepath.Join(dir, fmt.Sprintf("obj-%07d", i)), func(f *os.File) error {
				_, err := f.Write(b.gen.small(i, size))
				return err
			})
		})
	}})
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != n {
		return fmt.Errorf("baseline: %d files in %s, want %d (%v)", len(ents), dir, n, err)
	}
	b.rows[wPutSmall] = rateRow(n, cs.d, rs.d, "obj/s")
	b.note(wPutSmall, "cellar %s: %d puts of %s, %d at a time, into a fresh embedded-default store; afterwards all listed and 3 read back",
		describe([]sample{cs}), n, byteSize(size), conc)
	b.note(wPutSmall, "baseline %s: per object create temp file, write, fsync, rename, %d at a time, in one directory, which is not fsynced; a cellar put commits %d shard files (each fsynced, renamed into one of 256 fan-out directories, which is then fsynced) and one synced index batch",
		describe([]sample{rs}), conc, smallShards(size, b.k, b.m))
	return nil
}

// smallShards is how many shard files a put of size bytes commits: k+m,
// or 1+m in the small layout.
func smallShards(size, k, m int) int {
	if size <= cellar.SmallObjectSize {
		return 1 + m
	}
	return k + m
}

func smallKey(i int) string { return fmt.Sprintf("small/%07d", i) }

func checkSmall(ctx context.Context, bk *cellar.Bucket, key string, want []byte) error {
	obj, err := bk.Get(ctx, key, nil)
	if err != nil {
		return err
	}
	defer obj.Close()
	got, err := io.ReadAll(obj)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("%s reads back %d bytes that differ from the %d put", key, len(got), len(want))
	}
	return nil
}

// list measures listing a prefix page by page against a raw iteration of
// the index over the same keys.
func (b *bench) list(ctx context.Context) error {
	n, conc := b.cfg.listKeys, b.cfg.concurrency
	idx, err := index.OpenPebble(b.path(subList, "index"), nil)
	if err != nil {
		return err
	}
	defer idx.Close()
	// Listing reads only the index, never object data, so the zones are
	// memory backends: that keeps the setup fast and the data irrelevant.
	zones := []backend.Backend{backend.NewMemory(), backend.NewMemory(), backend.NewMemory()}
	st, err := cellar.Open(ctx, &cellar.Options{Zones: zones, Index: idx})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.CreateBucket(ctx, benchBucket, nil); err != nil {
		return err
	}
	bk := st.Bucket(benchBucket)
	setup := time.Now()
	err = forEach(ctx, n, conc, func(ctx context.Context, i int) error {
		_, err := bk.Put(ctx, listKey(i), nil, nil)
		return err
	})
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	setupTime := time.Since(setup)

	// The keys of the listing, in the index layout that the cellar package
	// documents: 'L', the escaped bucket, the escaped key. The scan checks
	// that it finds exactly n of them.
	lower := index.AppendEscapedPrefixString(index.AppendEscapedString([]byte{'L'}, benchBucket), listPrefix)
	upper := index.PrefixEnd(lower)
	// Warm both sides alike: one untimed pass over the range.
	if _, err := scanRange(ctx, idx, lower, upper); err != nil {
		return err
	}

	pages := 0
	listing := func() (sample, error) {
		got := 0
		pages = 0
		s, err := b.measure(phase{w: wList, cellar: true, run: func() error {
			opts := &cellar.ListOptions{Prefix: listPrefix, Delimiter: "/", MaxKeys: cellar.MaxListKeys}
			for {
				page, err := bk.List(ctx, opts)
				if err != nil {
					return err
				}
				pages++
				if len(page.CommonPrefixes) > 0 {
					return fmt.Errorf("page %d has common prefixes %q; the keys have no delimiter after the prefix", pages, page.CommonPrefixes)
				}
				if len(page.Objects) > 0 && page.Objects[0].Key != listKey(got) {
					return fmt.Errorf("page %d starts at %q, want %q", pages, page.Objects[0].Key, listKey(got))
				}
				got += len(page.Objects)
				if !page.IsTruncated {
					return nil
				}
				opts.ContinuationToken = page.NextContinuationToken
			}
		}})
		if err == nil && got != n {
			err = fmt.Errorf("listed %d keys in %d pages, want %d", got, pages, n)
		}
		return s, err
	}
	scan := func() (sample, error) {
		var got int
		s, err := b.measure(phase{w: wList, run: func() error {
			var err error
			got, err = scanRange(ctx, idx, lower, upper)
			return err
		}})
		if err == nil && got != n {
			err = fmt.Errorf("the raw scan found %d keys, want %d: has the index layout changed?", got, n)
		}
		return s, err
	}
	cs, rs, err := b.pair(b.cfg.reps, listing, scan)
	if err != nil {
		return err
	}
	b.rows[wList] = rateRow(n, best(cs).d, best(rs).d, "keys/s")
	b.note(wList, "%d empty objects %q..%q put %d at a time (untimed, %s) into Pebble on disk with memory zones; both sides warm after one untimed pass; %d runs a side, alternating, fastest shown",
		n, listKey(0), listKey(n-1), conc, secs(setupTime), b.cfg.reps)
	b.note(wList, "cellar %s: Bucket.List with Prefix %q, Delimiter \"/\", %d pages of up to %d; key count and page order checked",
		describe(cs), listPrefix, pages, cellar.MaxListKeys)
	b.note(wList, "baseline %s: index.Pebble NewIter over the same latest-version key range, First/Next, touching each key and value; count checked", describe(rs))
	return nil
}

func listKey(i int) string { return fmt.Sprintf("%s%07d", listPrefix, i) }

// scanRange iterates [lower, upper) of idx and returns the number of keys.
func scanRange(ctx context.Context, idx index.Index, lower, upper []byte) (int, error) {
	it, err := idx.NewIter(ctx, lower, upper)
	if err != nil {
		return 0, err
	}
	n, nbytes := 0, 0
	for ok := it.First(); ok; ok = it.Next() {
		n++
		nbytes += len(it.Key()) + len(it.Value())
	}
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > 0 && nbytes == 0 {
		err = errors.New("scan returned only empty keys")
	}
	return n, err
}

// forEach calls f(ctx, i) for i in [0, n), conc calls at a time. It stops
// at the first error and returns it.
func forEach(ctx context.Context, n, conc int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(conc, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := f(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// print writes the header, the table, the notes and the command.
func (b *bench) print(w io.Writer) {
	reads := "cold"
	if !b.cold {
		reads = "warm"
	}
	reads += fmt.Sprintf(", best of %d", b.cfg.reps)
	fmt.Fprintf(w, "cellar bench: %s %s/%s GOMAXPROCS=%d; RS(%d,%d), %s blocks, 3 directory zones + Pebble; large %s; small %d x %s, %d at a time; list %d keys; reads %s; %s (%s)\n\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0),
		b.k, b.m, byteSize(b.block), byteSize(b.cfg.size), b.cfg.smallCount, b.cfg.smallSize, b.cfg.concurrency,
		b.cfg.listKeys, reads, b.cfg.dir, b.fs)
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "workload\tcellar\tbaseline\tcellar/baseline")
	for _, name := range workloads {
		if !b.sel[name] {
			continue
		}
		for _, label := range b.rowLabels(name) {
			if r, ok := b.rows[label]; ok {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", label, r.cellar, r.base, r.ratio)
			}
		}
	}
	tw.Flush()
	fmt.Fprintln(w, "\nnotes:")
	for _, name := range workloads {
		if !b.sel[name] {
			continue
		}
		for _, n := range b.notes[name] {
			fmt.Fprintf(w, "  %s: %s\n", name, n)
		}
	}
	if len(b.profiles) > 0 {
		fmt.Fprintf(w, "  cpu profiles of the cellar side (figures above include profiling overhead): %s\n", strings.Join(b.profiles, " "))
	}
	if b.cfg.keep {
		fmt.Fprintf(w, "  kept under %s: %s\n", b.cfg.dir, strings.Join(benchSubdirs, " "))
	}
	fmt.Fprintf(w, "\ncommand: %s\n", shellJoin(append([]string{"cellar", "bench"}, b.cfg.args...)))
}

func throughputRow(bytes int64, cellarTime, baseTime time.Duration, unit string) row {
	c := float64(bytes) / 1e6 / cellarTime.Seconds()
	r := float64(bytes) / 1e6 / baseTime.Seconds()
	return row{fmt.Sprintf("%9.1f %s", c, unit), fmt.Sprintf("%9.1f %s", r, unit), fmt.Sprintf("%.2f", c/r)}
}

func rateRow(n int, cellarTime, baseTime time.Duration, unit string) row {
	c := float64(n) / cellarTime.Seconds()
	r := float64(n) / baseTime.Seconds()
	return row{fmt.Sprintf("%9.0f %s", c, unit), fmt.Sprintf("%9.0f %s", r, unit), fmt.Sprintf("%.2f", c/r)}
}

// worst is the memResult that grew most above its idle RSS.
func worst(ms []memResult) memResult {
	var w memResult
	for _, m := range ms {
		if !m.ok {
			return memResult{}
		}
		if !w.ok || m.peak-m.idle > w.peak-w.idle {
			w = m
		}
	}
	return w
}

func memRow(c, r memResult) row {
	f := func(m memResult) string {
		if !m.ok {
			return "n/a"
		}
		return fmt.Sprintf("%9.1f MiB", float64(m.peak-m.idle)/(1<<20))
	}
	return row{f(c), f(r), "-"}
}

func secs(d time.Duration) string { return fmt.Sprintf("%.3f s", d.Seconds()) }

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// shellJoin quotes args for a POSIX shell where they need it.
func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		safe := a != ""
		for _, r := range a {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=,+@%", r)) {
				safe = false
				break
			}
		}
		if safe {
			out[i] = a
		} else {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}

// byteSize is a flag value in bytes that takes binary (KiB, MiB, GiB, TiB,
// or K, M, G, T) and decimal (KB, MB, GB, TB) suffixes.
type byteSize int64

var sizeUnits = []struct {
	suffix string
	mult   float64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40},
	{"b", 1},
}

func (s *byteSize) Set(v string) error {
	n, err := parseByteSize(v)
	if err != nil {
		return err
	}
	*s = byteSize(n)
	return nil
}

func (s byteSize) String() string {
	n := int64(s)
	for _, u := range []struct {
		name string
		size int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size {
			if n%u.size == 0 {
				return fmt.Sprintf("%d %s", n/u.size, u.name)
			}
			return fmt.Sprintf("%.2f %s", float64(n)/float64(u.size), u.name)
		}
	}
	return fmt.Sprintf("%d B", n)
}

func parseByteSize(v string) (int64, error) {
	s := strings.ToLower(strings.TrimSpace(v))
	mult := 1.0
	for _, u := range sizeUnits {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !(f >= 0) || math.IsInf(f, 0) || f*mult > math.MaxInt64/2 {
		return 0, fmt.Errorf("bad size %q: want a number of bytes with an optional suffix such as KiB, MiB, GiB", v)
	}
	return int64(math.Round(f * mult)), nil
}
