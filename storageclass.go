package cellar

import (
	"fmt"

	"github.com/cellarhq/cellar/erasure"
)

// Storage classes, with S3's names. StorageClassStandard is in object.go.
const (
	StorageClassReducedRedundancy  = "REDUCED_REDUNDANCY"
	StorageClassStandardIA         = "STANDARD_IA"
	StorageClassOnezoneIA          = "ONEZONE_IA"
	StorageClassIntelligentTiering = "INTELLIGENT_TIERING"
	StorageClassGlacierIR          = "GLACIER_IR"
	StorageClassGlacier            = "GLACIER"
	StorageClassDeepArchive        = "DEEP_ARCHIVE"
)

// storageClassOrder lists every storage class the store knows, in the fixed
// order Usage reports them: from the warmest to the coldest.
var storageClassOrder = []string{
	StorageClassStandard, StorageClassReducedRedundancy, StorageClassStandardIA,
	StorageClassIntelligentTiering, StorageClassOnezoneIA, StorageClassGlacierIR,
	StorageClassGlacier, StorageClassDeepArchive,
}

// classRank orders the classes as S3's lifecycle waterfall does: a
// transition goes only to a class of a higher rank. STANDARD and
// REDUCED_REDUNDANCY share the warmest rank.
var classRank = map[string]int{
	StorageClassStandard:           0,
	StorageClassReducedRedundancy:  0,
	StorageClassStandardIA:         1,
	StorageClassIntelligentTiering: 2,
	StorageClassOnezoneIA:          3,
	StorageClassGlacierIR:          4,
	StorageClassGlacier:            5,
	StorageClassDeepArchive:        6,
}

// Intelligent-Tiering access tiers, as Usage reports them.
const (
	TierFrequent   = "FREQUENT"
	TierInfrequent = "INFREQUENT"
)

// archived reports whether objects of the class are unreadable until
// restored (GLACIER and DEEP_ARCHIVE).
func archived(class string) bool {
	return class == StorageClassGlacier || class == StorageClassDeepArchive
}

// normalizeClass checks a storage class given by a caller; "" means
// STANDARD.
func normalizeClass(class string) (string, error) {
	if class == "" {
		return StorageClassStandard, nil
	}
	if _, ok := classRank[class]; !ok {
		return "", fmt.Errorf("%w: %q: the storage class you specified is not valid", ErrInvalidStorageClass, class)
	}
	return class, nil
}

// recordClass is a stored class: "" (records older than storage classes)
// is STANDARD.
func recordClass(class string) string {
	if class == "" {
		return StorageClassStandard
	}
	return class
}

// StorageClassOptions place the data of one storage class (see
// Options.StorageClasses).
type StorageClassOptions struct {
	// Zones are indices into Options.Zones; nil means all zones.
	Zones []int
	// DataShards and ParityShards are the class's Reed-Solomon k and m;
	// 0 means the store's.
	DataShards, ParityShards int
}

// classLayout is how a class places new data.
type classLayout struct {
	zones   []int // global zone indices
	p       erasure.Params
	quorum  int
	oneZone bool // every shard in one zone of zones, rotating per object

	// small is the layout of objects of at most SmallObjectSize bytes:
	// RS(1,m) over the same zones, nil when the class's k is already 1.
	small *classLayout
}

// SmallObjectSize is the largest object stored in its class's small layout,
// RS(1,m): one data shard and m parity shards, each a whole copy. Such an
// object survives the same m lost shards (and so the same zones) as in
// RS(k,m), in 1+m shard files instead of k+m. While a shard fits in one
// 4 KiB filesystem block this costs no more disk either: RS(k,m) would
// take a block for each of its k+m shards. See doc.go, "Small objects".
const SmallObjectSize = 4 << 10

// smallLayout returns l's small layout, or nil if l needs none. Its write
// quorum keeps l's share of the shards, rounded up, so that a small write
// needs as many zones as a large one: RS(4,2) with a quorum of 4 of 6
// becomes RS(1,2) with 2 of 3.
func (l *classLayout) smallLayout(allowWeak bool) *classLayout {
	if l.p.DataShards == 1 {
		return nil
	}
	s := &classLayout{zones: l.zones, oneZone: l.oneZone, p: erasure.Params{
		DataShards: 1, ParityShards: l.p.ParityShards, BlockSize: min(l.p.BlockSize, SmallObjectSize),
	}}
	n, sn := l.p.Shards(), s.p.Shards()
	s.quorum = max(1, (l.quorum*sn+n-1)/n)
	if s.p.Validate() != nil {
		return nil
	}
	if !s.oneZone {
		if _, err := erasure.Place(len(s.zones), s.p, 0, allowWeak); err != nil {
			return nil
		}
	}
	return s
}

// place gives the placement (global zone indices) of new data.
func (l *classLayout) place(seed uint64, allowWeak bool) ([]int, error) {
	n := l.p.DataShards + l.p.ParityShards
	if l.oneZone {
		z := l.zones[seed%uint64(len(l.zones))]
		pl := make([]int, n)
		for i := range pl {
			pl[i] = z
		}
		return pl, nil
	}
	pl, err := erasure.Place(len(l.zones), l.p, seed, allowWeak)
	if err != nil {
		return nil, err
	}
	for i, z := range pl {
		pl[i] = l.zones[z]
	}
	return pl, nil
}

// classLayouts fills in each class's layout from Options.StorageClasses
// and the defaults, and validates them, naming the bad class.
//
// Defaults: every class uses the store's RS(k,m) over all zones, except
// REDUCED_REDUNDANCY, which uses RS(z-1,1) over z >= 3 zones (every zone
// holds at most one shard, so the loss of any one zone or shard is still
// survived, with less parity than STANDARD), and ONEZONE_IA, which puts
// every shard of an object in one zone, rotating the zone per object:
// losing that zone loses the object, which is the point of the class.
func (o *Options) classLayouts() (map[string]*classLayout, error) {
	for class := range o.StorageClasses {
		if _, ok := classRank[class]; !ok {
			return nil, fmt.Errorf("%w: StorageClasses[%q]: not a storage class", ErrInvalidOptions, class)
		}
	}
	all := make([]int, len(o.Zones))
	for i := range all {
		all[i] = i
	}
	out := make(map[string]*classLayout, len(storageClassOrder))
	for _, class := range storageClassOrder {
		l := &classLayout{zones: all, p: o.params(), quorum: o.WriteQuorum}
		switch {
		case class == StorageClassOnezoneIA:
			l.oneZone = true
		case class == StorageClassReducedRedundancy && len(o.Zones) >= 3:
			l.p.DataShards, l.p.ParityShards = len(o.Zones)-1, 1
		}
		if co, ok := o.StorageClasses[class]; ok {
			if co.Zones != nil {
				if len(co.Zones) == 0 {
					return nil, fmt.Errorf("%w: StorageClasses[%q].Zones is empty", ErrInvalidOptions, class)
				}
				seen := map[int]bool{}
				for _, z := range co.Zones {
					if z < 0 || z >= len(o.Zones) || seen[z] {
						return nil, fmt.Errorf("%w: StorageClasses[%q].Zones: %d is not a zone index in [0, %d) given once", ErrInvalidOptions, class, z, len(o.Zones))
					}
					seen[z] = true
				}
				l.zones = append([]int(nil), co.Zones...)
			}
			if co.DataShards != 0 || co.ParityShards != 0 {
				l.p.DataShards, l.p.ParityShards = o.DataShards, o.ParityShards
				if co.DataShards != 0 {
					l.p.DataShards = co.DataShards
				}
				if co.ParityShards != 0 {
					l.p.ParityShards = co.ParityShards
				}
			}
		}
		if err := l.p.Validate(); err != nil {
			return nil, fmt.Errorf("%w: StorageClasses[%q]: %v", ErrInvalidOptions, class, err)
		}
		if l.p != o.params() {
			l.quorum = l.p.DataShards
			if l.p.DataShards == l.p.ParityShards {
				l.quorum++
			}
		}
		if !l.oneZone {
			if _, err := erasure.Place(len(l.zones), l.p, 0, o.AllowWeakPlacement); err != nil {
				return nil, fmt.Errorf("%w: StorageClasses[%q]: %d zones cannot hold RS(%d,%d) without a zone holding more than %d shards (set AllowWeakPlacement to accept): %v",
					ErrInvalidOptions, class, len(l.zones), l.p.DataShards, l.p.ParityShards, l.p.ParityShards, err)
			}
		}
		l.small = l.smallLayout(o.AllowWeakPlacement)
		out[class] = l
	}
	return out, nil
}
