package cellar

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cellarhq/cellar/backend"
	"github.com/cellarhq/cellar/index"
)

// Store is an object store: buckets of versioned objects whose data is
// erasure-coded over zones and whose metadata lives in an index. A Store is
// safe for concurrent use. Open one with Open or OpenMemory and Close it
// when done.
type Store struct {
	opts     *Options
	idx      index.Index
	ownIndex bool
	zones    []backend.Backend
	log      *slog.Logger

	keys    keyLocks
	buckets sync.RWMutex // held shared by object commits, exclusively by bucket create/delete

	seqMu   sync.Mutex
	lastSeq uint64

	refMu    sync.Mutex
	readers  map[string]int      // data ID → open Objects reading it
	inflight map[string]struct{} // data IDs being written, not yet committed
	classes  map[string]*classLayout

	dur durability // zone health, heal and scrub state and counters (stats.go)

	closed atomic.Bool
	cancel context.CancelFunc
	bg     sync.WaitGroup
}

// Open opens or creates a store. With only Options.Dir set it is the
// embedded default: Pebble in Dir/index and three directory zones
// Dir/az1..az3 holding RS(4,2) in 1 MiB blocks.
func Open(ctx context.Context, opts *Options) (*Store, error) {
	o := opts.clone()
	var opened []func() error
	fail := func(err error) (*Store, error) {
		for i := len(opened) - 1; i >= 0; i-- {
			opened[i]()
		}
		return nil, err
	}
	if o.Zones == nil {
		if o.Dir == "" {
			return nil, fmt.Errorf("%w: Dir or Zones must be set", ErrInvalidOptions)
		}
		for i := 1; i <= DefaultZones; i++ {
			d, err := backend.NewDir(filepath.Join(o.Dir, "az"+strconv.Itoa(i)))
			if err != nil {
				return fail(fmt.Errorf("cellar: open zone az%d: %w", i, err))
			}
			o.Zones = append(o.Zones, d)
		}
	}
	ownIndex := false
	if o.Index == nil {
		if o.Dir == "" {
			return nil, fmt.Errorf("%w: Dir or Index must be set", ErrInvalidOptions)
		}
		p, err := index.OpenPebble(filepath.Join(o.Dir, "index"), &index.PebbleOptions{Logger: o.Logger})
		if err != nil {
			return fail(fmt.Errorf("cellar: open index: %w", err))
		}
		o.Index = p
		ownIndex = true
		opened = append(opened, p.Close)
	}
	return newStore(ctx, o, ownIndex, opened)
}

// OpenMemory opens a store held entirely in memory: memory zones and Pebble
// on an in-memory filesystem, unless opts gives Zones or an Index. It is the
// same store as Open in every other way, for tests.
func OpenMemory(ctx context.Context, opts *Options) (*Store, error) {
	o := opts.clone()
	if o.Zones == nil {
		for range DefaultZones {
			o.Zones = append(o.Zones, backend.NewMemory())
		}
	}
	var opened []func() error
	ownIndex := false
	if o.Index == nil {
		p, err := index.OpenPebbleMemory(&index.PebbleOptions{Logger: o.Logger})
		if err != nil {
			return nil, fmt.Errorf("cellar: open index: %w", err)
		}
		o.Index = p
		ownIndex = true
		opened = append(opened, p.Close)
	}
	return newStore(ctx, o, ownIndex, opened)
}

func newStore(ctx context.Context, o *Options, ownIndex bool, opened []func() error) (*Store, error) {
	o.ensureDefaults()
	err := o.validate()
	var classes map[string]*classLayout
	if err == nil {
		classes, err = o.classLayouts()
	}
	if err != nil {
		for _, c := range opened {
			c()
		}
		return nil, err
	}
	s := &Store{
		opts:     o,
		idx:      o.Index,
		ownIndex: ownIndex,
		zones:    o.Zones,
		log:      o.Logger,
		readers:  make(map[string]int),
		inflight: make(map[string]struct{}),
		classes:  classes,
	}
	s.keys.init()
	s.initZones()
	s.dur.healLim = newByteLimiter(o.HealBytesPerSecond)
	bgctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.dur.bgctx = bgctx
	if o.SweepInterval > 0 {
		s.bg.Add(1)
		go s.sweepLoop(bgctx, time.Now())
	}
	if o.ProbeInterval > 0 {
		s.bg.Add(1)
		go s.probeLoop(bgctx)
	}
	if o.ScrubInterval > 0 {
		s.bg.Add(1)
		go s.scrubLoop(bgctx)
	}
	if o.LifecycleInterval > 0 {
		s.bg.Add(1)
		go s.lifecycleLoop(bgctx)
	}
	return s, nil
}

// Close stops background work and closes the index if the store opened
// it. Objects still open keep their zones but should be closed first.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return ErrClosed
	}
	if s.cancel != nil {
		s.cancel()
	}
	s.bg.Wait()
	if s.ownIndex {
		return s.idx.Close()
	}
	return nil
}

func (s *Store) now() time.Time { return s.opts.Clock().UTC() }

func (s *Store) check() error {
	if s.closed.Load() {
		return ErrClosed
	}
	return nil
}

// nextSeq returns a commit sequence number larger than every one handed out
// by this process and than after. It follows the clock in nanoseconds when
// it can, so sequence numbers are also roughly times.
func (s *Store) nextSeq(after uint64) uint64 {
	s.seqMu.Lock()
	defer s.seqMu.Unlock()
	seq := uint64(time.Now().UnixNano())
	if seq <= s.lastSeq {
		seq = s.lastSeq + 1
	}
	if seq <= after {
		seq = after + 1
	}
	s.lastSeq = seq
	return seq
}

func newDataID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// hold and release count open readers of data, so that the sweeper keeps
// data that a reader still streams past its grace period.
func (s *Store) hold(ids []string) {
	s.refMu.Lock()
	for _, id := range ids {
		s.readers[id]++
	}
	s.refMu.Unlock()
}

func (s *Store) release(ids []string) {
	s.refMu.Lock()
	for _, id := range ids {
		if s.readers[id]--; s.readers[id] <= 0 {
			delete(s.readers, id)
		}
	}
	s.refMu.Unlock()
}

func (s *Store) setInflight(id string, on bool) {
	s.refMu.Lock()
	if on {
		s.inflight[id] = struct{}{}
	} else {
		delete(s.inflight, id)
	}
	s.refMu.Unlock()
}

// VersioningState is a bucket's versioning state.
type VersioningState string

const (
	VersioningUnversioned VersioningState = ""
	VersioningEnabled     VersioningState = "Enabled"
	VersioningSuspended   VersioningState = "Suspended"
)

// bucketRecord is what the index keeps for a bucket, as JSON.
type bucketRecord struct {
	Created    time.Time       `json:"created"`
	Versioning VersioningState `json:"versioning,omitempty"`
	Region     string          `json:"region,omitempty"`
	// Lifecycle is the bucket's lifecycle configuration in the aws CLI's
	// JSON form (LifecycleConfig.MarshalJSON); absent if none.
	Lifecycle json.RawMessage `json:"lifecycle,omitempty"`
}

// BucketOptions configure CreateBucket.
type BucketOptions struct {
	// Region is recorded as the bucket's location constraint.
	Region string
	// Versioning, if Enabled, creates the bucket with versioning on.
	Versioning VersioningState
}

// BucketInfo describes a bucket.
type BucketInfo struct {
	Name       string
	Created    time.Time
	Region     string
	Versioning VersioningState
}

// CreateBucket creates a bucket. It fails with ErrBucketAlreadyExists if
// the name is taken and ErrInvalidBucketName if the name breaks S3's rules.
func (s *Store) CreateBucket(ctx context.Context, name string, opts *BucketOptions) error {
	if err := s.check(); err != nil {
		return err
	}
	if err := ValidBucketName(name); err != nil {
		return err
	}
	rec := bucketRecord{Created: s.now()}
	if opts != nil {
		rec.Region = opts.Region
		switch opts.Versioning {
		case VersioningUnversioned, VersioningEnabled:
			rec.Versioning = opts.Versioning
		default:
			return fmt.Errorf("%w: BucketOptions.Versioning %q: a new bucket is unversioned or Enabled", ErrInvalidArgument, opts.Versioning)
		}
	}
	s.buckets.Lock()
	defer s.buckets.Unlock()
	if _, err := s.idx.Get(ctx, bucketKey(name)); err == nil {
		return fmt.Errorf("%w: %s", ErrBucketAlreadyExists, name)
	} else if !errors.Is(err, index.ErrNotFound) {
		return err
	}
	v, _ := json.Marshal(rec)
	var b index.Batch
	b.Set(bucketKey(name), v)
	return s.apply(ctx, &b)
}

// DeleteBucket deletes an empty bucket: one with no objects, no versions,
// no delete markers and no multipart uploads in progress, as S3 requires.
// Otherwise it fails with ErrBucketNotEmpty.
func (s *Store) DeleteBucket(ctx context.Context, name string) error {
	if err := s.check(); err != nil {
		return err
	}
	s.buckets.Lock()
	defer s.buckets.Unlock()
	if _, err := s.bucketRecord(ctx, name); err != nil {
		return err
	}
	for _, space := range []byte{spaceLatest, spaceVersions, spaceUpload} {
		p := objectPrefix(space, name)
		empty, err := s.emptyRange(ctx, p, index.PrefixEnd(p))
		if err != nil {
			return err
		}
		if !empty {
			return fmt.Errorf("%w: %s", ErrBucketNotEmpty, name)
		}
	}
	var b index.Batch
	b.Delete(bucketKey(name))
	return s.apply(ctx, &b)
}

func (s *Store) emptyRange(ctx context.Context, lower, upper []byte) (bool, error) {
	it, err := s.idx.NewIter(ctx, lower, upper)
	if err != nil {
		return false, err
	}
	defer it.Close()
	if it.First() {
		return false, nil
	}
	return true, it.Error()
}

// ListBuckets lists every bucket, sorted by name.
func (s *Store) ListBuckets(ctx context.Context) ([]BucketInfo, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	lower := []byte{spaceBucket}
	it, err := s.idx.NewIter(ctx, lower, index.PrefixEnd(lower))
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []BucketInfo
	for ok := it.First(); ok; ok = it.Next() {
		name, _, err := index.DecodeEscaped(it.Key()[1:])
		if err != nil {
			return nil, err
		}
		var rec bucketRecord
		if err := json.Unmarshal(it.Value(), &rec); err != nil {
			return nil, fmt.Errorf("cellar: corrupt bucket record %q: %w", name, err)
		}
		out = append(out, BucketInfo{Name: string(name), Created: rec.Created, Region: rec.Region, Versioning: rec.Versioning})
	}
	if err := it.Error(); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Bucket returns a handle on the named bucket. It does not check that the
// bucket exists; operations on a missing bucket fail with ErrNoSuchBucket.
func (s *Store) Bucket(name string) *Bucket {
	return &Bucket{s: s, name: name}
}

func (s *Store) bucketRecord(ctx context.Context, name string) (*bucketRecord, error) {
	if err := ValidBucketName(name); err != nil {
		return nil, err
	}
	v, err := s.idx.Get(ctx, bucketKey(name))
	if errors.Is(err, index.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchBucket, name)
	}
	if err != nil {
		return nil, err
	}
	var rec bucketRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, fmt.Errorf("cellar: corrupt bucket record %q: %w", name, err)
	}
	return &rec, nil
}

// lockKey takes the key's lock, then the bucket lock shared, as every
// change to a key does, and returns what releases both.
// INVARIANT: a key's lock is taken before the bucket lock, never after.
func (s *Store) lockKey(bucket, key string) (unlock func()) {
	unlockKey := s.keys.lock(bucket, key)
	s.buckets.RLock()
	return func() {
		s.buckets.RUnlock()
		unlockKey()
	}
}

// keyLocks serializes commits to one object key. Writers stream data
// without a lock and take the key's lock only to check conditions, write
// the shard trailers and commit the index batch.
type keyLocks struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	sync.Mutex
	refs int
}

func (l *keyLocks) init() { l.m = make(map[string]*keyLock) }

func (l *keyLocks) lock(bucket, key string) func() {
	id := bucket + "\x00" + key
	l.mu.Lock()
	kl := l.m[id]
	if kl == nil {
		kl = &keyLock{}
		l.m[id] = kl
	}
	kl.refs++
	l.mu.Unlock()
	kl.Lock()
	return func() {
		kl.Unlock()
		l.mu.Lock()
		if kl.refs--; kl.refs == 0 {
			delete(l.m, id)
		}
		l.mu.Unlock()
	}
}
