package cellar

import (
	"context"
	"errors"
	"fmt"

	"github.com/cellarhq/cellar/erasure"
	"github.com/cellarhq/cellar/index"
)

// HealReport tells what one Heal did.
type HealReport struct {
	// Healed counts shards rebuilt and written back.
	Healed int
	// Pending counts shards that could not be rebuilt now (a zone still
	// offline, too few good shards); they stay queued.
	Pending int
	// Dropped counts queued shards whose data no longer exists (deleted
	// since they were queued).
	Dropped int
}

// Heal rebuilds the shards queued for healing: shards that missed a write
// because a zone was down, and shards that reads or Check found missing or
// corrupt. Each is rebuilt from the object's other shards, verified block
// by block, and written back. Shards that cannot be rebuilt now stay
// queued; nothing is dropped while its data exists.
func (s *Store) Heal(ctx context.Context) (HealReport, error) {
	var rep HealReport
	if err := s.check(); err != nil {
		return rep, err
	}
	lower := []byte{spaceHeal}
	for {
		it, err := s.idx.NewIter(ctx, lower, []byte{spaceHeal + 1})
		if err != nil {
			return rep, err
		}
		// Gather one data set's queued shards.
		var seg segment
		var shards []int
		var keys [][]byte
		for ok := it.First(); ok; ok = it.Next() {
			k := it.Key()
			if len(k) < 4 {
				continue
			}
			dataID := string(k[1 : len(k)-3])
			if len(keys) > 0 && dataID != seg.DataID {
				break
			}
			sg, err := unmarshalSegment(it.Value())
			if err != nil {
				continue
			}
			seg = sg
			shards = append(shards, int(k[len(k)-2])<<8|int(k[len(k)-1]))
			keys = append(keys, append([]byte(nil), k...))
		}
		err = it.Error()
		it.Close()
		if err != nil {
			return rep, err
		}
		if len(keys) == 0 {
			return rep, nil
		}
		lower = append(append([]byte(nil), keys[len(keys)-1]...), 0)

		// Hold the data so that the sweeper does not delete it mid-rebuild.
		s.hold([]string{seg.DataID})
		healed, err := s.healData(ctx, seg, shards)
		s.release([]string{seg.DataID})
		if err != nil {
			return rep, err
		}
		var batch index.Batch
		switch healed {
		case healDropped:
			rep.Dropped += len(shards)
		case healPending:
			rep.Pending += len(shards)
			continue
		case healDone:
			rep.Healed += len(shards)
		}
		for _, k := range keys {
			batch.Delete(k)
		}
		if err := s.idx.Apply(ctx, &batch); err != nil {
			return rep, err
		}
		if err := ctx.Err(); err != nil {
			return rep, err
		}
	}
}

type healOutcome int

const (
	healDone healOutcome = iota
	healPending
	healDropped
)

func (s *Store) healData(ctx context.Context, seg segment, shards []int) (healOutcome, error) {
	if _, err := s.idx.Get(ctx, dataRefKey(seg.DataID)); errors.Is(err, index.ErrNotFound) {
		return healDropped, nil
	} else if err != nil {
		return 0, err
	}
	if err := s.rebuild(ctx, seg, shards); err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		s.log.Warn("cellar: heal failed; will retry", "data", seg.DataID, "shards", shards, "err", err)
		return healPending, nil
	}
	return healDone, nil
}

func (s *Store) rebuild(ctx context.Context, seg segment, shards []int) error {
	for _, sh := range shards {
		if sh >= len(seg.Placement) || seg.Placement[sh] >= len(s.zones) {
			return fmt.Errorf("cellar: shard %d of data %s has no zone in this store", sh, seg.DataID)
		}
	}
	return erasure.Rebuild(ctx, &erasure.ReadOptions{
		Params:    erasure.Params{DataShards: seg.K, ParityShards: seg.M, BlockSize: seg.BlockSize},
		Zones:     s.zones,
		Placement: seg.Placement,
		DataID:    seg.DataID,
		Size:      seg.Size,
	}, shards)
}
