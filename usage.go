package cellar

import (
	"context"
	"fmt"
	"sort"

	"github.com/cellarhq/cellar/index"
)

// priceKeyInfrequent is the Options.Prices key of INTELLIGENT_TIERING's
// infrequent access tier.
const priceKeyInfrequent = StorageClassIntelligentTiering + "/" + TierInfrequent

// DefaultPrices are S3's public us-east-1 storage prices in USD per
// GB-month (GB = 2^30 bytes), by storage class; INTELLIGENT_TIERING's
// frequent tier is priced as STANDARD, its infrequent tier as STANDARD_IA
// (key "INTELLIGENT_TIERING/INFREQUENT").
var DefaultPrices = map[string]float64{
	StorageClassStandard:           0.023,
	StorageClassReducedRedundancy:  0.024,
	StorageClassStandardIA:         0.0125,
	StorageClassOnezoneIA:          0.01,
	StorageClassIntelligentTiering: 0.023,
	priceKeyInfrequent:             0.0125,
	StorageClassGlacierIR:          0.004,
	StorageClassGlacier:            0.0036,
	StorageClassDeepArchive:        0.00099,
}

// Usage is what a store holds, by bucket and storage class.
type Usage struct {
	// Buckets are in name order.
	Buckets []BucketUsage
	// Total adds up every bucket, class by class.
	Total []ClassUsage
}

// BucketUsage is one bucket's usage.
type BucketUsage struct {
	Bucket string
	// Classes are in the order of the classes from warmest to coldest
	// (STANDARD, REDUCED_REDUNDANCY, STANDARD_IA, INTELLIGENT_TIERING
	// FREQUENT then INFREQUENT, ONEZONE_IA, GLACIER_IR, GLACIER,
	// DEEP_ARCHIVE); only classes with objects are listed.
	Classes []ClassUsage
}

// ClassUsage is the usage of one storage class (and, for
// INTELLIGENT_TIERING, one access tier).
type ClassUsage struct {
	StorageClass string
	// Tier is TierFrequent or TierInfrequent for INTELLIGENT_TIERING,
	// empty for other classes.
	Tier string
	// Objects counts versions, current and noncurrent; delete markers are
	// not counted.
	Objects int64
	// LogicalBytes is the sum of the versions' sizes.
	LogicalBytes int64
	// StoredBytes is what the zones hold, with parity: over every
	// segment, its shards times its shard size (block hashes and headers
	// left out).
	StoredBytes int64
	// MonthlyCost estimates a month's storage in USD: LogicalBytes, as S3
	// bills, at Options.Prices per GB-month (GB = 2^30 bytes).
	MonthlyCost float64
}

// usageSlot orders the classes and tiers of a usage report.
func usageSlot(class, tier string) int {
	for i, c := range storageClassOrder {
		if c == class {
			n := i * 2
			if tier == TierInfrequent {
				n++
			}
			return n
		}
	}
	return len(storageClassOrder) * 2
}

// Usage reports every bucket's objects, logical bytes, stored bytes and
// estimated monthly cost per storage class, counting every version
// (current and noncurrent; not delete markers). It reads the versions
// space of the index once, a few records at a time, from a snapshot, so
// the report is consistent; it costs O(versions), which is fine for a
// report made now and then.
func (s *Store) Usage(ctx context.Context) (Usage, error) {
	var u Usage
	if err := s.check(); err != nil {
		return u, err
	}
	snap, err := s.idx.Snapshot(ctx)
	if err != nil {
		return u, err
	}
	defer snap.Close()
	now := s.now()
	type slotKey struct {
		bucket string
		slot   int
	}
	acc := map[slotKey]*ClassUsage{}
	total := map[int]*ClassUsage{}
	var buckets []string
	seen := map[string]bool{}
	p := []byte{spaceVersions}
	it, err := snap.NewIter(ctx, p, index.PrefixEnd(p))
	if err != nil {
		return u, err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		rec, err := unmarshalRecord(it.Value())
		if err != nil {
			return u, fmt.Errorf("cellar: usage: %x: %w", it.Key(), err)
		}
		if rec.DeleteMarker {
			continue
		}
		class := recordClass(rec.StorageClass)
		tier := accessTier(rec, now)
		slot := usageSlot(class, tier)
		if !seen[rec.Bucket] {
			seen[rec.Bucket] = true
			buckets = append(buckets, rec.Bucket)
		}
		var stored int64
		for _, seg := range rec.Segments {
			stored += int64(seg.K+seg.M) * shardSize(seg)
		}
		for _, c := range []*ClassUsage{
			getSlot(acc, slotKey{rec.Bucket, slot}, class, tier),
			getSlot(total, slot, class, tier),
		} {
			c.Objects++
			c.LogicalBytes += rec.Size
			c.StoredBytes += stored
		}
		if err := ctx.Err(); err != nil {
			return u, err
		}
	}
	if err := it.Error(); err != nil {
		return u, err
	}
	sort.Strings(buckets)
	for _, b := range buckets {
		bu := BucketUsage{Bucket: b}
		for slot := 0; slot <= len(storageClassOrder)*2; slot++ {
			if c := acc[slotKey{b, slot}]; c != nil {
				c.MonthlyCost = s.cost(c)
				bu.Classes = append(bu.Classes, *c)
			}
		}
		u.Buckets = append(u.Buckets, bu)
	}
	for slot := 0; slot <= len(storageClassOrder)*2; slot++ {
		if c := total[slot]; c != nil {
			c.MonthlyCost = s.cost(c)
			u.Total = append(u.Total, *c)
		}
	}
	return u, nil
}

func getSlot[K comparable](m map[K]*ClassUsage, k K, class, tier string) *ClassUsage {
	c := m[k]
	if c == nil {
		c = &ClassUsage{StorageClass: class, Tier: tier}
		m[k] = c
	}
	return c
}

// shardSize is the bytes of object data one shard of seg holds: a k-th
// of each stripe, rounded up (the last stripe is shorter).
func shardSize(seg segment) int64 {
	if seg.K < 1 || seg.BlockSize < 1 {
		return 0
	}
	k, bs := int64(seg.K), int64(seg.BlockSize)
	full := seg.Size / bs
	n := full * ((bs + k - 1) / k)
	if rest := seg.Size % bs; rest > 0 {
		n += (rest + k - 1) / k
	}
	return n
}

func (s *Store) cost(c *ClassUsage) float64 {
	key := c.StorageClass
	if c.Tier == TierInfrequent {
		key = priceKeyInfrequent
	}
	return float64(c.LogicalBytes) / (1 << 30) * s.opts.Prices[key]
}
