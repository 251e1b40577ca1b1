package cellar

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/cellarhq/cellar/backend"
	"github.com/cellarhq/cellar/erasure"
	"github.com/cellarhq/cellar/index"
)

// HealReport tells what one Heal did.
type HealReport struct {
	// Healed counts shards rebuilt and written back.
	Healed int
	// Bytes counts the bytes of the shard blobs written back.
	Bytes int64
	// Intact counts queued shards that verified on a second look (a read
	// that failed for a passing reason); they needed no rebuilding.
	Intact int
	// Pending counts shards that could not be rebuilt now (a zone still
	// offline, too few good shards); they stay queued.
	Pending int
	// Dropped counts queued shards whose data no longer exists (deleted
	// since they were queued).
	Dropped int
	// Problems says, one line per data set, why shards stayed pending
	// other than an offline zone.
	Problems []string
	// MetaHealed counts zone metadata records written again to every zone
	// after missing one; MetaPending those that stay queued.
	MetaHealed, MetaPending int
}

// healWorkers is how many data sets Heal rebuilds at once.
const healWorkers = 4

// healJob is one data set's queued shards.
type healJob struct {
	seg    segment
	shards []int
	keys   [][]byte
}

// Heal rebuilds the shards queued for healing: shards that missed a write
// because a zone was down, and shards that reads, Check or Scrub found
// missing or corrupt. A queued shard is verified first and left alone if
// sound; a bad one is rebuilt from the object's other shards, verified
// block by block, and written back. Shards in a zone marked offline, and
// shards that cannot be rebuilt now, stay queued; nothing is dropped while
// its data exists. One Heal runs at a time; several data sets are rebuilt
// at once.
func (s *Store) Heal(ctx context.Context) (HealReport, error) {
	var rep HealReport
	if err := s.check(); err != nil {
		return rep, err
	}
	s.dur.healMu.Lock()
	defer s.dur.healMu.Unlock()
	s.reprobeOffline(ctx)

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	zones := s.healZones(ctx)
	var mu sync.Mutex
	jobs := make(chan healJob)
	var wg sync.WaitGroup
	for range healWorkers {
		wg.Go(func() {
			for j := range jobs {
				r, err := s.healData(ctx, zones, j)
				mu.Lock()
				rep.Healed += r.Healed
				rep.Bytes += r.Bytes
				rep.Intact += r.Intact
				rep.Pending += r.Pending
				rep.Dropped += r.Dropped
				rep.Problems = append(rep.Problems, r.Problems...)
				mu.Unlock()
				if err != nil {
					cancel(err)
				}
			}
		})
	}
	err := s.healQueue(ctx, jobs)
	close(jobs)
	wg.Wait()
	if cause := context.Cause(ctx); cause != nil && cause != context.Canceled {
		err = cause
	}
	if err == nil {
		rep.MetaHealed, rep.MetaPending, err = s.healMeta(ctx)
	}
	return rep, err
}

// healQueue reads the heal queue in order and sends each data set's
// queued shards to jobs.
func (s *Store) healQueue(ctx context.Context, jobs chan<- healJob) error {
	lower := []byte{spaceHeal}
	for {
		it, err := s.idx.NewIter(ctx, lower, []byte{spaceHeal + 1})
		if err != nil {
			return err
		}
		var batch []healJob
		var lastKey []byte
		for ok := it.First(); ok; ok = it.Next() {
			k := it.Key()
			if len(k) < 4 {
				continue
			}
			dataID := string(k[1 : len(k)-3])
			seg, err := unmarshalSegment(it.Value())
			if err != nil {
				s.log.Error("cellar: corrupt heal record; skipping it", "key", fmt.Sprintf("%x", k), "err", err)
				continue
			}
			if n := len(batch); n == 0 || batch[n-1].seg.DataID != dataID {
				if n == 64 {
					break // a whole data set per batch
				}
				batch = append(batch, healJob{seg: seg})
			}
			j := &batch[len(batch)-1]
			j.shards = append(j.shards, int(k[len(k)-2])<<8|int(k[len(k)-1]))
			j.keys = append(j.keys, append([]byte(nil), k...))
			lastKey = j.keys[len(j.keys)-1]
		}
		err = it.Error()
		it.Close()
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		for _, j := range batch {
			select {
			case jobs <- j:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		lower = append(lastKey, 0)
	}
}

// healZones returns the zones as the healer reaches them: through a
// pacedZone each, at HealBytesPerSecond over all of them, unless unlimited.
func (s *Store) healZones(ctx context.Context) []backend.Backend {
	if s.dur.healLim == nil {
		return s.zones
	}
	zones := make([]backend.Backend, len(s.zones))
	for i, z := range s.zones {
		zones[i] = &pacedZone{Backend: z, ctx: ctx, lim: s.dur.healLim, n: &s.dur.healPaced}
	}
	return zones
}

// healData verifies and rebuilds one data set's queued shards, and removes
// from the queue those that are sound again or whose data is gone. It
// reaches the zones through zones (healZones).
func (s *Store) healData(ctx context.Context, zones []backend.Backend, j healJob) (HealReport, error) {
	var rep HealReport
	seg := j.seg
	// Hold the data so that the sweeper does not delete it mid-rebuild.
	s.hold([]string{seg.DataID})
	defer s.release([]string{seg.DataID})
	var done index.Batch
	defer func() {
		if done.Len() > 0 {
			if err := s.idx.Apply(context.WithoutCancel(ctx), &done); err != nil {
				s.log.Error("cellar: heal: cannot update the queue", "err", err)
			}
		}
	}()
	if _, err := s.idx.Get(ctx, dataRefKey(seg.DataID)); errors.Is(err, index.ErrNotFound) {
		rep.Dropped += len(j.shards)
		for _, k := range j.keys {
			done.Delete(k)
		}
		return rep, nil
	} else if err != nil {
		return rep, err
	}
	var rebuild []int
	var rebuildKeys [][]byte
	for i, sh := range j.shards {
		if sh >= len(seg.Placement) || seg.Placement[sh] >= len(s.zones) {
			rep.Pending++
			rep.Problems = append(rep.Problems, fmt.Sprintf("data %s: shard %d has no zone in this store", seg.DataID, sh))
			continue
		}
		zone := seg.Placement[sh]
		if s.zoneOffline(zone) {
			rep.Pending++
			continue
		}
		if erasure.VerifyShard(ctx, zones[zone], erasure.BlobName(seg.DataID, sh)) == nil {
			rep.Intact++
			done.Delete(j.keys[i])
			continue
		}
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		rebuild = append(rebuild, sh)
		rebuildKeys = append(rebuildKeys, j.keys[i])
	}
	if len(rebuild) == 0 {
		return rep, nil
	}
	if err := s.rebuild(ctx, zones, seg, rebuild); err != nil {
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
		rep.Pending += len(rebuild)
		if !errors.Is(err, errZoneOffline) {
			rep.Problems = append(rep.Problems, fmt.Sprintf("data %s: shards %v: %v", seg.DataID, rebuild, err))
			s.log.Warn("cellar: heal failed; will retry", "data", seg.DataID, "shards", rebuild, "err", err)
		}
		return rep, nil
	}
	rep.Healed += len(rebuild)
	for i, sh := range rebuild {
		done.Delete(rebuildKeys[i])
		if info, err := s.zones[seg.Placement[sh]].Stat(ctx, erasure.BlobName(seg.DataID, sh)); err == nil {
			rep.Bytes += info.Size
		} else {
			rep.Bytes += shardBytes(seg)
		}
	}
	s.dur.shardsHealed.Add(int64(len(rebuild)))
	s.dur.bytesHealed.Add(rep.Bytes)
	return rep, nil
}

func (s *Store) rebuild(ctx context.Context, zones []backend.Backend, seg segment, shards []int) error {
	for _, sh := range shards {
		if sh >= len(seg.Placement) || seg.Placement[sh] >= len(s.zones) {
			return fmt.Errorf("cellar: shard %d of data %s has no zone in this store", sh, seg.DataID)
		}
	}
	return erasure.Rebuild(ctx, &erasure.ReadOptions{
		Params:    erasure.Params{DataShards: seg.K, ParityShards: seg.M, BlockSize: seg.BlockSize},
		Zones:     zones,
		Placement: seg.Placement,
		DataID:    seg.DataID,
		Size:      seg.Size,
	}, shards)
}
