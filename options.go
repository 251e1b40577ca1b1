package cellar

import (
	"fmt"
	"log/slog"
	"maps"
	"time"

	"github.com/cellarhq/cellar/backend"
	"github.com/cellarhq/cellar/erasure"
	"github.com/cellarhq/cellar/index"
)

// Defaults of the embedded layout (see DESIGN.md): RS(4,2) in 1 MiB blocks
// over three zones, two shards a zone.
const (
	DefaultDataShards   = 4
	DefaultParityShards = 2
	DefaultBlockSize    = 1 << 20
	DefaultZones        = 3
)

// Defaults of zone probing and background scrubbing (see Options).
const (
	DefaultProbeInterval       = 10 * time.Second
	DefaultProbeTimeout        = 5 * time.Second
	DefaultScrubInterval       = 24 * time.Hour
	DefaultScrubBytesPerSecond = 32 << 20
	DefaultHealBytesPerSecond  = 256 << 20
)

// DefaultLifecycleInterval is how often the background lifecycle runner
// runs (see Options.LifecycleInterval).
const DefaultLifecycleInterval = time.Hour

// Options configure Open and OpenMemory. The zero value plus Dir is the
// embedded default. Open clones the Options; the caller may reuse them.
type Options struct {
	// Dir is the store's directory: Dir/index holds the index and
	// Dir/az1, Dir/az2, Dir/az3 the zones, unless Index or Zones are given.
	Dir string

	// Zones are the backends, one per simulated availability zone. If nil,
	// Open makes DefaultZones directory backends under Dir (OpenMemory:
	// memory backends).
	Zones []backend.Backend

	// Index holds the metadata. If nil, Open opens Pebble in Dir/index
	// (OpenMemory: Pebble on an in-memory filesystem). A caller-supplied
	// Index is not closed by Store.Close.
	Index index.Index

	// DataShards and ParityShards are the Reed-Solomon k and m for new
	// objects; BlockSize is the bytes of object data per stripe. Each
	// object records its own, so a store reopened with other settings keeps
	// reading old objects.
	DataShards   int
	ParityShards int
	BlockSize    int

	// WriteQuorum is how many shards must commit for a write to succeed.
	// Zero means k, plus one when k == m.
	WriteQuorum int

	// AllowWeakPlacement lets a zone hold more than ParityShards shards of
	// an object, so that losing that zone loses data. Without it Open
	// refuses such a layout (for example RS(4,2) on one zone).
	AllowWeakPlacement bool

	// DeleteGrace is how long replaced or deleted object data is kept
	// before it is removed, so that readers already streaming it finish.
	// Data an open Object still reads is kept past the grace period until
	// the Object is closed. Zero means one minute; negative means remove at
	// the next sweep.
	DeleteGrace time.Duration

	// SweepInterval is how often the background sweeper removes replaced
	// data whose grace period is over and, once per Open, shard blobs that
	// no index record references (left by a crash mid-write). Zero means
	// 30 seconds; negative disables the background sweeper (call
	// Store.Sweep).
	SweepInterval time.Duration

	// ProbeInterval is how often every zone is probed (Backend.Probe). A
	// zone whose probe fails, or takes longer than ProbeTimeout, is marked
	// offline: reads and writes skip it at once instead of waiting on it,
	// operations in flight on it are cancelled, and writes record its
	// shards as missed, for healing. A zone marked offline is probed every
	// second (or every ProbeInterval, if shorter) and comes back when a
	// probe succeeds; a heal pass then starts. Zero means 10 seconds;
	// negative disables probing (no zone is ever marked offline).
	ProbeInterval time.Duration
	// ProbeTimeout is how long a probe may take. Zero or negative means 5
	// seconds.
	ProbeTimeout time.Duration

	// ScrubInterval is the time from the end of one background scrub pass
	// to the start of the next. A pass verifies every shard of every data
	// set (see Store.Scrub) and queues the bad ones for healing; its
	// progress is kept in the index, so a restart resumes it and a store
	// reopened more often than ScrubInterval is still scrubbed. Zero means
	// 24 hours; negative disables the background scrubber (call
	// Store.Scrub).
	ScrubInterval time.Duration
	// ScrubBytesPerSecond caps the background scrubber's reads, over all
	// zones. Zero means 32 MiB a second; negative means unlimited.
	ScrubBytesPerSecond int64

	// HealBytesPerSecond caps the bytes the healer reads and writes, over
	// all zones and all Heal passes at once (the background healer's and
	// Store.Heal's): the shards it verifies, those it reads to rebuild from
	// and those it writes back. Zero means 256 MiB a second; negative means
	// unlimited.
	HealBytesPerSecond int64

	// LifecycleInterval is how often the background lifecycle runner
	// takes the lifecycle actions that are due (see Store.RunLifecycle).
	// Zero means DefaultLifecycleInterval (one hour); negative disables
	// the runner (call Store.RunLifecycle).
	LifecycleInterval time.Duration

	// StorageClasses place each storage class's data: its zones and its
	// Reed-Solomon shard counts. A class not named here takes its default
	// (see doc.go): the store's RS(k,m) over all zones, except
	// REDUCED_REDUNDANCY (RS(z-1,1) over z >= 3 zones) and ONEZONE_IA
	// (every shard of an object in one zone). Open refuses a class whose
	// placement lets a zone hold more shards than its parity, unless
	// AllowWeakPlacement; ONEZONE_IA is weak by design and never refused.
	StorageClasses map[string]StorageClassOptions

	// RestoreTimes is how long a restore of an archived object takes, by
	// storage class (GLACIER, DEEP_ARCHIVE) then tier (Expedited,
	// Standard, Bulk), by the store's clock. Entries not given take
	// S3's typical times (see DefaultRestoreTimes).
	RestoreTimes map[string]map[string]time.Duration

	// Prices are USD per GB-month (GB = 2^30 bytes) of each storage
	// class, for Usage's cost estimate. Entries not given take
	// DefaultPrices (S3's us-east-1 prices). INTELLIGENT_TIERING's
	// infrequent tier is priced by the key "INTELLIGENT_TIERING/INFREQUENT".
	Prices map[string]float64

	// Clock gives the time for LastModified, grace periods and lifecycle.
	// Nil means time.Now.
	Clock func() time.Time

	// Logger receives the store's logs. Nil discards them.
	Logger *slog.Logger
}

func (o *Options) clone() *Options {
	if o == nil {
		o = &Options{}
	}
	c := *o
	c.Zones = append([]backend.Backend(nil), o.Zones...)
	c.StorageClasses = maps.Clone(o.StorageClasses)
	c.RestoreTimes = make(map[string]map[string]time.Duration)
	for class, tiers := range DefaultRestoreTimes {
		c.RestoreTimes[class] = maps.Clone(tiers)
	}
	for class, tiers := range o.RestoreTimes {
		if c.RestoreTimes[class] == nil {
			c.RestoreTimes[class] = make(map[string]time.Duration)
		}
		maps.Copy(c.RestoreTimes[class], tiers)
	}
	c.Prices = maps.Clone(DefaultPrices)
	maps.Copy(c.Prices, o.Prices)
	if len(o.Zones) == 0 {
		c.Zones = nil
	}
	return &c
}

// ensureDefaults fills in every zero field but Zones and Index.
func (o *Options) ensureDefaults() {
	if o.DataShards == 0 && o.ParityShards == 0 {
		o.DataShards, o.ParityShards = DefaultDataShards, DefaultParityShards
	}
	if o.BlockSize == 0 {
		o.BlockSize = DefaultBlockSize
	}
	if o.WriteQuorum == 0 {
		o.WriteQuorum = o.DataShards
		if o.DataShards == o.ParityShards {
			o.WriteQuorum++
		}
	}
	if o.DeleteGrace == 0 {
		o.DeleteGrace = time.Minute
	}
	if o.SweepInterval == 0 {
		o.SweepInterval = 30 * time.Second
	}
	if o.ProbeInterval == 0 {
		o.ProbeInterval = DefaultProbeInterval
	}
	if o.ProbeTimeout <= 0 {
		o.ProbeTimeout = DefaultProbeTimeout
	}
	if o.ScrubInterval == 0 {
		o.ScrubInterval = DefaultScrubInterval
	}
	if o.ScrubBytesPerSecond == 0 {
		o.ScrubBytesPerSecond = DefaultScrubBytesPerSecond
	}
	if o.HealBytesPerSecond == 0 {
		o.HealBytesPerSecond = DefaultHealBytesPerSecond
	}
	if o.LifecycleInterval == 0 {
		o.LifecycleInterval = DefaultLifecycleInterval
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

func (o *Options) params() erasure.Params {
	return erasure.Params{DataShards: o.DataShards, ParityShards: o.ParityShards, BlockSize: o.BlockSize}
}

// validate checks the filled-in options, naming the bad field.
func (o *Options) validate() error {
	p := o.params()
	if err := p.Validate(); err != nil {
		return fmt.Errorf("%w: DataShards/ParityShards/BlockSize: %v", ErrInvalidOptions, err)
	}
	n := p.DataShards + p.ParityShards
	if o.WriteQuorum < p.DataShards || o.WriteQuorum > n {
		return fmt.Errorf("%w: WriteQuorum %d not in [%d, %d]", ErrInvalidOptions, o.WriteQuorum, p.DataShards, n)
	}
	if len(o.Zones) == 0 {
		return fmt.Errorf("%w: Zones is empty", ErrInvalidOptions)
	}
	for i, z := range o.Zones {
		if z == nil {
			return fmt.Errorf("%w: Zones[%d] is nil", ErrInvalidOptions, i)
		}
	}
	if _, err := erasure.Place(len(o.Zones), p, 0, o.AllowWeakPlacement); err != nil {
		return fmt.Errorf("%w: Zones: %d zones cannot hold RS(%d,%d) without a zone holding more than %d shards (set AllowWeakPlacement to accept): %v",
			ErrInvalidOptions, len(o.Zones), p.DataShards, p.ParityShards, p.ParityShards, err)
	}
	for class, tiers := range o.RestoreTimes {
		if !archived(class) {
			return fmt.Errorf("%w: RestoreTimes[%q]: only %s and %s are restored", ErrInvalidOptions, class, StorageClassGlacier, StorageClassDeepArchive)
		}
		for tier, d := range tiers {
			if !validTier(tier) || d < 0 {
				return fmt.Errorf("%w: RestoreTimes[%q][%q] = %v: want a tier Expedited, Standard or Bulk and a duration >= 0", ErrInvalidOptions, class, tier, d)
			}
		}
	}
	for class, price := range o.Prices {
		if _, ok := classRank[class]; !ok && class != priceKeyInfrequent {
			return fmt.Errorf("%w: Prices[%q]: not a storage class", ErrInvalidOptions, class)
		}
		if price < 0 || price != price {
			return fmt.Errorf("%w: Prices[%q] = %v is negative", ErrInvalidOptions, class, price)
		}
	}
	return nil
}
