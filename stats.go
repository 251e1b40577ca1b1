package cellar

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// durability is the Store's state for keeping data whole: zone health,
// the heal pass lock and the counters that Stats reports.
type durability struct {
	zones    []*zoneHealth
	bgctx    context.Context // the background goroutines' context; nil before start
	healMu   sync.Mutex      // one heal pass at a time
	healKick atomic.Bool     // a background heal pass is about to start

	badShards      atomic.Int64
	shardsHealed   atomic.Int64
	bytesHealed    atomic.Int64
	shardsScrubbed atomic.Int64
	bytesScrubbed  atomic.Int64
	scrubPasses    atomic.Int64

	// healLim paces the healer's reads and writes (HealBytesPerSecond);
	// nil is unlimited. healPaced counts the bytes it has paced.
	healLim   *rate.Limiter
	healPaced atomic.Int64
}

// Stats is a snapshot of the store's repair work and zone health. The
// counters cover the life of this Store value, since Open; the queue
// lengths are counted from the index, so they survive restarts.
type Stats struct {
	// HealQueue counts shards queued for rebuilding, in HealQueueSets data
	// sets (a data set is a simple object's data or one multipart part).
	HealQueue     int
	HealQueueSets int
	// HealQueueBytes estimates the shard bytes that healing the queue will
	// write.
	HealQueueBytes int64
	// GarbageQueue counts data sets queued for deletion, due or not.
	GarbageQueue int

	// BadShards counts shards that Scrub or Check found missing or corrupt.
	// (Shards that writes missed or reads found bad go to the heal queue
	// directly.)
	BadShards int64
	// ShardsHealed and BytesHealed count shards rebuilt and written back,
	// and their bytes.
	ShardsHealed int64
	BytesHealed  int64
	// ShardsScrubbed and BytesScrubbed count shards that Scrub and the
	// background scrubber read and verified, and their bytes.
	ShardsScrubbed int64
	BytesScrubbed  int64
	// ScrubPasses counts complete scrub passes over the store.
	ScrubPasses int64

	// Zones is each zone's health, in zone order.
	Zones []ZoneState

	// Err says why the queue lengths could not be counted (the index
	// failed, or the store is closed); they are then zero.
	Err error
}

// Stats reports queue lengths, repair counters and zone states. It scans
// the heal and garbage queues in the index, which are small in a healthy
// store; after a zone is lost the heal queue holds a few entries for every
// object, and Stats costs a scan of them.
func (s *Store) Stats() Stats {
	d := &s.dur
	st := Stats{
		BadShards:      d.badShards.Load(),
		ShardsHealed:   d.shardsHealed.Load(),
		BytesHealed:    d.bytesHealed.Load(),
		ShardsScrubbed: d.shardsScrubbed.Load(),
		BytesScrubbed:  d.bytesScrubbed.Load(),
		ScrubPasses:    d.scrubPasses.Load(),
		Zones:          s.ZoneStates(),
	}
	if st.Err = s.check(); st.Err != nil {
		return st
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st.Err = s.countQueues(ctx, &st)
	return st
}

func (s *Store) countQueues(ctx context.Context, st *Stats) error {
	it, err := s.idx.NewIter(ctx, []byte{spaceHeal}, []byte{spaceHeal + 1})
	if err != nil {
		return err
	}
	last := ""
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) < 4 {
			continue
		}
		st.HealQueue++
		if id := string(k[1 : len(k)-3]); id != last {
			last = id
			st.HealQueueSets++
		}
		if seg, err := unmarshalSegment(it.Value()); err == nil {
			st.HealQueueBytes += shardBytes(seg)
		}
	}
	err = it.Error()
	it.Close()
	if err != nil {
		return err
	}
	git, err := s.idx.NewIter(ctx, []byte{spaceGarbage}, []byte{spaceGarbage + 1})
	if err != nil {
		return err
	}
	for ok := git.First(); ok; ok = git.Next() {
		st.GarbageQueue++
	}
	err = git.Error()
	git.Close()
	return err
}

// shardBytes estimates the size of one shard blob of seg: its header, its
// blocks with their hashes, and a trailer without the record.
func shardBytes(seg segment) int64 {
	if seg.K <= 0 || seg.BlockSize <= 0 {
		return 0
	}
	k, bs := int64(seg.K), int64(seg.BlockSize)
	full, last := seg.Size/bs, seg.Size%bs
	n := 53 + int64(len(seg.DataID)) + 56 + full*(32+(bs+k-1)/k)
	if last > 0 {
		n += 32 + (last+k-1)/k
	}
	return n
}

// dataSetBytes estimates the bytes of every shard blob of seg.
func dataSetBytes(seg segment) int64 { return shardBytes(seg) * int64(len(seg.Placement)) }
