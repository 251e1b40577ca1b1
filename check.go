package cellar

import (
	"context"
	"errors"
	"fmt"

	"github.com/cellarhq/cellar/backend"
	"github.com/cellarhq/cellar/erasure"
	"github.com/cellarhq/cellar/index"
)

// CheckReport is what Check found.
type CheckReport struct {
	Versions int // version records checked
	Shards   int // shard blobs verified
	// Degraded counts data sets with some shards missing or corrupt but
	// still readable; each bad shard is also queued for healing.
	Degraded int
	// MetaDegraded counts zone metadata records that agree with the index
	// but are missing or unreadable on some zone; each is queued for
	// Heal, which writes it again.
	MetaDegraded int
	// Unreachable lists zones that could not be listed (offline); their
	// orphans, if any, were not looked for.
	Unreachable []int
	// Problems lists what is wrong, one line each: data sets that cannot
	// be read, references to missing data, shard blobs that nothing
	// references, latest pointers that disagree with the versions, zone
	// metadata records missing, disagreeing, unreadable or stale.
	Problems []string
}

// Check compares the index with the zones: every version's shards are
// present and verify, every latest pointer is the newest live version,
// every shard blob on a zone belongs to a committed record, a write in
// progress, or data queued for deletion, and the zone metadata records
// agree with the index (RepairMeta fixes them; see doc.go, "Index
// rebuild"). Shards found bad are queued for
// healing. Check reads every byte, so it costs as much as reading the
// whole store.
func (s *Store) Check(ctx context.Context) (*CheckReport, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	s.reprobeOffline(ctx)
	rep := &CheckReport{}
	snap, err := s.idx.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer snap.Close()
	known := make(map[string]bool) // data IDs that records reference or the sweeper will delete
	var heal index.Batch

	it, err := snap.NewIter(ctx, []byte{spaceVersions}, []byte{spaceVersions + 1})
	if err != nil {
		return nil, err
	}
	var prevKey []byte
	for ok := it.First(); ok; ok = it.Next() {
		rec, err := unmarshalRecord(it.Value())
		if err != nil {
			rep.Problems = append(rep.Problems, fmt.Sprintf("version record %x: %v", it.Key(), err))
			continue
		}
		rep.Versions++
		// The first version of each key must match the latest pointer.
		kp := versionsPrefix(rec.Bucket, rec.Key)
		if string(kp) != string(prevKey) {
			prevKey = kp
			if p := s.checkLatest(ctx, snap, rec); p != "" {
				rep.Problems = append(rep.Problems, p)
			}
		}
		for _, seg := range rec.Segments {
			known[seg.DataID] = true
			s.checkSegment(ctx, rep, &heal, fmt.Sprintf("%s/%s version %s", rec.Bucket, rec.Key, rec.VersionID), seg)
		}
	}
	if err := it.Error(); err != nil {
		it.Close()
		return nil, err
	}
	it.Close()

	// Latest pointers without a version.
	lit, err := snap.NewIter(ctx, []byte{spaceLatest}, []byte{spaceLatest + 1})
	if err != nil {
		return nil, err
	}
	for ok := lit.First(); ok; ok = lit.Next() {
		rec, err := unmarshalRecord(lit.Value())
		if err != nil {
			rep.Problems = append(rep.Problems, fmt.Sprintf("latest record %x: %v", lit.Key(), err))
			continue
		}
		if _, err := snap.Get(ctx, versionKey(rec.Bucket, rec.Key, rec.Seq)); err != nil {
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s/%s: latest pointer to version %s that is not there", rec.Bucket, rec.Key, rec.VersionID))
		}
	}
	lerr := lit.Error()
	lit.Close()
	if lerr != nil {
		return nil, lerr
	}

	// Data queued for deletion is known too.
	git, err := snap.NewIter(ctx, []byte{spaceGarbage}, []byte{spaceGarbage + 1})
	if err != nil {
		return nil, err
	}
	for ok := git.First(); ok; ok = git.Next() {
		if seg, err := unmarshalSegment(git.Value()); err == nil {
			known[seg.DataID] = true
		}
	}
	git.Close()

	// So is the data of parts of uploads in progress.
	if err := s.checkParts(ctx, snap, rep, &heal, known); err != nil {
		return nil, err
	}

	for zi, z := range s.zones {
		err := z.List(ctx, erasure.AllBlobsPrefix, func(info backend.Info) error {
			dataID, shard, ok := erasure.ParseBlobName(info.Name)
			if !ok {
				rep.Problems = append(rep.Problems, fmt.Sprintf("zone %d: unexpected blob %q", zi, info.Name))
				return nil
			}
			if known[dataID] {
				return nil
			}
			s.refMu.Lock()
			_, busy := s.inflight[dataID]
			s.refMu.Unlock()
			if !busy {
				rep.Problems = append(rep.Problems, fmt.Sprintf("zone %d: orphaned shard %d of data %s", zi, shard, dataID))
			}
			return nil
		})
		if err != nil {
			s.log.Warn("cellar: check: cannot list zone", "zone", zi, "err", err)
			rep.Unreachable = append(rep.Unreachable, zi)
		}
	}
	// The zone metadata records must agree with the index.
	mp, _, degraded, err := s.metaDiff(ctx, snap)
	if err != nil {
		return nil, err
	}
	rep.Problems = append(rep.Problems, mp...)
	rep.MetaDegraded = len(degraded)
	for _, d := range degraded {
		heal.Set(metaHealKey(d.name), d.ikey)
	}
	if heal.Len() > 0 {
		if err := s.idx.Apply(ctx, &heal); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

func (s *Store) checkLatest(ctx context.Context, snap index.Reader, newest *versionRecord) string {
	v, err := snap.Get(ctx, latestKey(newest.Bucket, newest.Key))
	switch {
	case errors.Is(err, index.ErrNotFound):
		if !newest.DeleteMarker {
			return fmt.Sprintf("%s/%s: no latest pointer, newest version %s is live", newest.Bucket, newest.Key, newest.VersionID)
		}
		return ""
	case err != nil:
		return fmt.Sprintf("%s/%s: latest pointer: %v", newest.Bucket, newest.Key, err)
	}
	if newest.DeleteMarker {
		return fmt.Sprintf("%s/%s: latest pointer set though the newest version is a delete marker", newest.Bucket, newest.Key)
	}
	cur, err := unmarshalRecord(v)
	if err != nil {
		return fmt.Sprintf("%s/%s: latest pointer: %v", newest.Bucket, newest.Key, err)
	}
	if cur.Seq != newest.Seq {
		return fmt.Sprintf("%s/%s: latest pointer names version %s, newest is %s", newest.Bucket, newest.Key, cur.VersionID, newest.VersionID)
	}
	return ""
}

func (s *Store) checkSegment(ctx context.Context, rep *CheckReport, heal *index.Batch, what string, seg segment) {
	var bad []int
	for shard, zone := range seg.Placement {
		if zone >= len(s.zones) {
			bad = append(bad, shard)
			continue
		}
		if err := erasure.VerifyShard(ctx, s.zones[zone], erasure.BlobName(seg.DataID, shard)); err != nil {
			bad = append(bad, shard)
			continue
		}
		rep.Shards++
	}
	s.dur.badShards.Add(int64(len(bad)))
	switch {
	case len(bad) == 0:
	case len(bad) <= seg.M:
		rep.Degraded++
		addHealWork(heal, seg, bad)
	default:
		rep.Problems = append(rep.Problems, fmt.Sprintf("%s: data %s has %d bad shards %v, more than the %d it can lose", what, seg.DataID, len(bad), bad, seg.M))
	}
}

// Zones returns the store's zone backends, in zone order: those of
// Options.Zones, or those Open made, as they are, without the health gate
// through which the store reaches them.
func (s *Store) Zones() []backend.Backend { return append([]backend.Backend(nil), s.opts.Zones...) }
