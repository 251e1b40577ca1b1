package cellar

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/cellarhq/cellar/backend"
	"github.com/cellarhq/cellar/erasure"
	"github.com/cellarhq/cellar/index"
)

// SweepReport tells what one Sweep removed.
type SweepReport struct {
	// Deleted counts data sets (all shards of one object or part) removed
	// after their grace period.
	Deleted int
	// Held counts due data sets kept because an open Object still reads them.
	Held int
	// Failed counts due data sets that could not be removed from every
	// zone (an offline zone); they stay queued and are retried.
	Failed int
	// Orphans counts shard blobs removed that no index record references
	// (left by a crash or a failed commit). Only SweepOrphans finds them.
	Orphans int
}

// Sweep removes data whose grace period is over: data of replaced and
// deleted versions, aborted uploads and failed writes. Work that cannot be
// done now (a zone offline, a reader still open) stays queued in the index;
// nothing is dropped.
func (s *Store) Sweep(ctx context.Context) (SweepReport, error) {
	var rep SweepReport
	if err := s.check(); err != nil {
		return rep, err
	}
	lower := []byte{spaceGarbage}
	upper := binary.BigEndian.AppendUint64([]byte{spaceGarbage}, uint64(s.now().UnixNano())+1)
	for {
		it, err := s.idx.NewIter(ctx, lower, upper)
		if err != nil {
			return rep, err
		}
		type item struct {
			key []byte
			seg segment
		}
		var items []item
		for ok := it.First(); ok && len(items) < 256; ok = it.Next() {
			seg, err := unmarshalSegment(it.Value())
			if err != nil {
				s.log.Error("cellar: corrupt garbage record; dropping it", "key", fmt.Sprintf("%x", it.Key()), "err", err)
				var b index.Batch
				b.Delete(it.Key())
				if err := s.idx.Apply(ctx, &b); err != nil {
					it.Close()
					return rep, err
				}
				continue
			}
			items = append(items, item{key: append([]byte(nil), it.Key()...), seg: seg})
		}
		err = it.Error()
		it.Close()
		if err != nil {
			return rep, err
		}
		if len(items) == 0 {
			return rep, nil
		}
		var batch index.Batch
		for _, it := range items {
			if s.heldByReader(it.seg.DataID) {
				rep.Held++
				continue
			}
			if err := s.deleteData(ctx, it.seg); err != nil {
				s.log.Warn("cellar: sweep: data not removed from every zone; will retry", "data", it.seg.DataID, "err", err)
				rep.Failed++
				continue
			}
			// The data's tombstone goes only once its shards are gone.
			if err := s.deleteMeta(ctx, metaGarbagePrefix+it.seg.DataID); err != nil {
				s.log.Warn("cellar: sweep: tombstone not removed from every zone; will retry", "data", it.seg.DataID, "err", err)
				rep.Failed++
				continue
			}
			batch.Delete(it.key)
			batch.Delete(dataRefKey(it.seg.DataID))
			for shard := range it.seg.Placement {
				batch.Delete(healKey(it.seg.DataID, shard))
			}
			rep.Deleted++
		}
		if batch.Len() > 0 {
			if err := s.idx.Apply(ctx, &batch); err != nil {
				return rep, err
			}
		}
		// Resume after the last item looked at; held and failed items stay
		// queued for the next sweep.
		lower = append(items[len(items)-1].key, 0)
		if err := ctx.Err(); err != nil {
			return rep, err
		}
	}
}

func (s *Store) heldByReader(dataID string) bool {
	s.refMu.Lock()
	defer s.refMu.Unlock()
	return s.readers[dataID] > 0
}

// deleteData removes every shard blob of a data set. A blob already gone
// is fine; any other failure is returned and the caller retries later.
func (s *Store) deleteData(ctx context.Context, seg segment) error {
	var errs []error
	for shard, zone := range seg.Placement {
		if zone >= len(s.zones) {
			continue
		}
		err := s.zones[zone].Delete(ctx, erasure.BlobName(seg.DataID, shard))
		if err != nil && !errors.Is(err, backend.ErrNotExist) {
			errs = append(errs, fmt.Errorf("zone %d shard %d: %w", zone, shard, err))
		}
	}
	return errors.Join(errs...)
}

// SweepOrphans removes shard blobs that no index record references and
// that were last modified before olderThan: blobs left by a process killed
// mid-write or by a commit whose index batch failed. Data of writes in
// progress in this process is never touched.
func (s *Store) SweepOrphans(ctx context.Context, olderThan time.Time) (SweepReport, error) {
	var rep SweepReport
	if err := s.check(); err != nil {
		return rep, err
	}
	for zi, z := range s.zones {
		var orphans []string
		err := z.List(ctx, erasure.AllBlobsPrefix, func(info backend.Info) error {
			if !info.ModTime.Before(olderThan) {
				return nil
			}
			dataID, _, ok := erasure.ParseBlobName(info.Name)
			if !ok {
				return nil
			}
			s.refMu.Lock()
			_, busy := s.inflight[dataID]
			s.refMu.Unlock()
			if busy {
				return nil
			}
			// INVARIANT: a committed write sets its data reference in the
			// same batch as its version record, before leaving inflight.
			if _, err := s.idx.Get(ctx, dataRefKey(dataID)); err == nil {
				return nil
			} else if !errors.Is(err, index.ErrNotFound) {
				return err
			}
			orphans = append(orphans, info.Name)
			return nil
		})
		if err != nil {
			s.log.Warn("cellar: orphan sweep: listing zone failed", "zone", zi, "err", err)
			continue
		}
		for _, name := range orphans {
			if err := z.Delete(ctx, name); err != nil && !errors.Is(err, backend.ErrNotExist) {
				s.log.Warn("cellar: orphan sweep: delete failed", "zone", zi, "blob", name, "err", err)
				continue
			}
			rep.Orphans++
		}
	}
	return rep, nil
}

func (s *Store) sweepLoop(ctx context.Context, opened time.Time) {
	defer s.bg.Done()
	t := time.NewTicker(s.opts.SweepInterval)
	defer t.Stop()
	orphansDone := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("cellar: sweep failed", "err", err)
		}
		if _, err := s.Heal(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("cellar: heal failed", "err", err)
		}
		if !orphansDone {
			// Blobs older than this Open were written by an earlier
			// process; any that no record references are orphans.
			if rep, err := s.SweepOrphans(ctx, opened); err == nil {
				orphansDone = true
				s.sweepTemp(time.Since(opened))
				if rep.Orphans > 0 {
					s.log.Info("cellar: removed orphaned shard blobs", "count", rep.Orphans)
				}
			}
		}
	}
}

// tempSweeper is a backend that leaves temporary files behind when a
// process dies mid-write (backend.Dir).
type tempSweeper interface {
	SweepTemp(olderThan time.Duration) (int, error)
}

// sweepTemp removes temporary files older than this process's store.
func (s *Store) sweepTemp(olderThan time.Duration) {
	for zi, z := range s.zones {
		if ts, ok := z.(tempSweeper); ok {
			if n, err := ts.SweepTemp(olderThan); err != nil {
				s.log.Warn("cellar: sweeping temporary files failed", "zone", zi, "err", err)
			} else if n > 0 {
				s.log.Info("cellar: removed temporary files of interrupted writes", "zone", zi, "count", n)
			}
		}
	}
}

// addHealWork queues shards of a data set for rebuilding.
func addHealWork(b *index.Batch, seg segment, shards []int) {
	v := seg.marshal()
	for _, shard := range shards {
		b.Set(healKey(seg.DataID, shard), v)
	}
}
