package cellar

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/cellarhq/cellar/backend"
	"github.com/cellarhq/cellar/erasure"
	"github.com/cellarhq/cellar/index"
)

// RebuildOptions configure RebuildIndex.
type RebuildOptions struct {
	// Replace lets RebuildIndex run when Options.Dir holds an index: the
	// old index directory is renamed aside (Dir/index.old-<UTC time>),
	// never deleted.
	Replace bool
}

// RebuildReport tells what RebuildIndex recovered.
type RebuildReport struct {
	Buckets         int // bucket records recovered
	BucketsInferred int // buckets with versions but no zone record, made with default settings
	Versions        int // object versions recovered
	DeleteMarkers   int // delete markers recovered
	// Removed counts versions found on the zones that stay deleted: a
	// tombstone, a removed bucket, their data queued for deletion, or an
	// older null version of a key.
	Removed int
	// Garbage counts data sets queued for deletion: deleted data not yet
	// swept, parts of dropped uploads, data of removed versions.
	Garbage int
	// UploadsDropped counts multipart uploads in progress that were
	// dropped (their parts queued for deletion); PartsDropped their parts.
	UploadsDropped int
	PartsDropped   int
	// ShardsMissing counts shards of recovered data absent from their
	// zone; each is queued for healing.
	ShardsMissing int
	// DataIncomplete counts data sets whose trailer names a version but
	// which have fewer than k shards on the zones: writes cut short by a
	// crash while their shards were committing, never acknowledged. They
	// are not recovered; the orphan sweep removes their shards.
	DataIncomplete int
	// RecordsUnreadable counts zone metadata records and data sets whose
	// record could not be read from any shard.
	RecordsUnreadable int
	// ZonesUnreachable lists zones that could not be listed.
	ZonesUnreachable []int
	// OldIndex is where a replaced index was moved, if one was.
	OldIndex string
	// Problems describes, one line each, what could not be read.
	Problems []string
}

// RebuildIndex makes a new index from the zones alone, for a store whose
// index was lost or damaged. It opens the store as Open would, without
// background work, and refuses to run unless the index is empty: with
// Options.Dir, an existing Dir/index is ErrIndexExists unless
// ropts.Replace moves it aside; a caller's Options.Index must be empty.
// Run it on a closed store only.
//
// Every bucket with its settings, every version and delete marker, the
// latest pointers and data references are recovered; deleted data still on
// the zones stays deleted and is queued for deletion again; missing shards
// are queued for healing and lifecycle rules are planned afresh.
// Multipart uploads in progress are dropped and counted. See doc.go,
// "Index rebuild".
func RebuildIndex(ctx context.Context, opts *Options, ropts *RebuildOptions) (RebuildReport, error) {
	var rep RebuildReport
	o := opts.clone()
	if o.Index == nil {
		if o.Dir == "" {
			return rep, fmt.Errorf("%w: Dir or Index must be set", ErrInvalidOptions)
		}
		p := filepath.Join(o.Dir, "index")
		if _, err := os.Stat(p); err == nil {
			if ropts == nil || !ropts.Replace {
				return rep, fmt.Errorf("%w: %s (set Replace to move it aside)", ErrIndexExists, p)
			}
			old := p + ".old-" + time.Now().UTC().Format("20060102T150405.000000000Z")
			if err := os.Rename(p, old); err != nil {
				return rep, fmt.Errorf("cellar: move old index aside: %w", err)
			}
			rep.OldIndex = old
		} else if !errors.Is(err, os.ErrNotExist) {
			return rep, err
		}
	}
	o.SweepInterval, o.ProbeInterval, o.ScrubInterval, o.LifecycleInterval = -1, -1, -1, -1
	st, err := Open(ctx, o)
	if err != nil {
		return rep, err
	}
	defer st.Close()
	empty, err := st.emptyRange(ctx, nil, []byte{0xff})
	if err != nil {
		return rep, err
	}
	if !empty {
		return rep, fmt.Errorf("%w: the index to rebuild into is not empty", ErrIndexExists)
	}
	err = st.rebuildIndex(ctx, &rep)
	return rep, err
}

type versionID struct {
	bucket, key string
	seq         uint64
}

// rebuildIndex fills an empty index from the zones.
func (s *Store) rebuildIndex(ctx context.Context, rep *RebuildReport) error {
	zm, err := s.loadZoneMeta(ctx)
	if err != nil {
		return err
	}
	rep.RecordsUnreadable += zm.unreadable
	rep.Problems = append(rep.Problems, zm.problems...)
	unreachable := map[int]bool{}
	for _, z := range zm.unreachable {
		unreachable[z] = true
	}

	buckets := map[string]*bucketRecord{}
	removedBuckets := map[string]bool{}
	garbage := map[string]segment{}
	metaVersions := map[versionID]*metaRecord{}
	for name, m := range zm.best {
		switch m.Kind {
		case metaKindBucket:
			if m.Removed {
				removedBuckets[m.Bucket] = true
				continue
			}
			var br bucketRecord
			if err := json.Unmarshal(m.Body, &br); err != nil {
				rep.RecordsUnreadable++
				rep.Problems = append(rep.Problems, fmt.Sprintf("bucket record %s: %v", name, err))
				continue
			}
			buckets[m.Bucket] = &br
		case metaKindGarbage:
			seg, _ := unmarshalSegment(m.Body)
			garbage[seg.DataID] = seg
		case metaKindVersion:
			metaVersions[versionID{m.Bucket, m.Key, m.Seq}] = m
		}
	}

	// Shards present: data ID → shard → zone.
	present := map[string]map[int]int{}
	for zi, z := range s.zones {
		err := z.List(ctx, erasure.AllBlobsPrefix, func(info backend.Info) error {
			id, shard, ok := erasure.ParseBlobName(info.Name)
			if !ok {
				return nil
			}
			if present[id] == nil {
				present[id] = map[int]int{}
			}
			present[id][shard] = zi
			return nil
		})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			unreachable[zi] = true
		}
	}
	for zi := range unreachable {
		rep.ZonesUnreachable = append(rep.ZonesUnreachable, zi)
	}
	sort.Ints(rep.ZonesUnreachable)

	// One trusted record per data set: the first shard whose header and
	// trailer verify.
	versions := map[versionID]*versionRecord{}
	var parts []*partRecord
	ids := make([]string, 0, len(present))
	for id := range present {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if _, gone := garbage[id]; gone {
			continue
		}
		rec, err := s.readDataRecord(ctx, id, present[id])
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			rep.RecordsUnreadable++
			rep.Problems = append(rep.Problems, fmt.Sprintf("data %s: %v", id, err))
			continue
		}
		switch rec[0] {
		case recordFormat:
			v, err := unmarshalRecord(rec)
			if err == nil && !hasData(v, id) {
				err = fmt.Errorf("%w: trailer record does not name its data", errBadRecord)
			}
			if err != nil {
				rep.RecordsUnreadable++
				rep.Problems = append(rep.Problems, fmt.Sprintf("data %s: %v", id, err))
				continue
			}
			if !readable(v, id, present[id], unreachable) {
				// A write cut short while its shards were committing:
				// never acknowledged, and it must not shadow what was.
				// The orphan sweep removes its shards.
				rep.DataIncomplete++
				continue
			}
			versions[versionID{v.Bucket, v.Key, v.Seq}] = v
		case partRecordFormat:
			p, err := unmarshalPart(rec)
			if err != nil || p.Seg.DataID != id {
				rep.RecordsUnreadable++
				rep.Problems = append(rep.Problems, fmt.Sprintf("data %s: part record: %v", id, err))
				continue
			}
			parts = append(parts, p)
		default:
			rep.RecordsUnreadable++
			rep.Problems = append(rep.Problems, fmt.Sprintf("data %s: record of unknown format %#x", id, rec[0]))
		}
	}

	// INVARIANT: a zone meta record of a version is newer than its
	// trailer record: it wins, and a tombstone removes the version.
	for vid, m := range metaVersions {
		if m.Removed {
			if _, ok := versions[vid]; ok {
				rep.Removed++
			}
			delete(versions, vid)
			continue
		}
		v, err := unmarshalRecord(m.Body)
		if err != nil {
			continue // parseMeta checked it
		}
		versions[vid] = v
	}

	var batch index.Batch
	flush := func(force bool) error {
		if batch.Len() == 0 || (!force && batch.Len() < 1000) {
			return nil
		}
		err := s.idx.Apply(ctx, &batch)
		batch = index.Batch{}
		return err
	}
	due := s.now().Add(max(s.opts.DeleteGrace, 0)).UnixNano()
	queued := map[string]bool{}
	var tombstones []*metaRecord // for garbage found here, not already tombstoned
	gen := s.nextSeq(0)
	queueGarbage := func(seg segment) {
		if queued[seg.DataID] {
			return
		}
		queued[seg.DataID] = true
		rep.Garbage++
		k, v := garbageKey(due, seg.DataID), seg.marshal()
		batch.Set(k, v)
		if _, ok := garbage[seg.DataID]; !ok {
			tombstones = append(tombstones, &metaRecord{Kind: metaKindGarbage, Gen: gen, Body: v, ikey: k})
		}
	}
	drop := func(v *versionRecord) {
		rep.Removed++
		for _, seg := range v.Segments {
			if _, gone := garbage[seg.DataID]; !gone {
				queueGarbage(seg)
			}
		}
	}

	// Group by key, newest first.
	type objKey struct{ bucket, key string }
	byKey := map[objKey][]*versionRecord{}
	for _, v := range versions {
		dead := removedBuckets[v.Bucket] && buckets[v.Bucket] == nil
		for _, seg := range v.Segments {
			if _, gone := garbage[seg.DataID]; gone {
				dead = true
			}
		}
		if dead {
			drop(v)
			continue
		}
		k := objKey{v.Bucket, v.Key}
		byKey[k] = append(byKey[k], v)
	}
	inferred := map[string]bool{}
	for k, vs := range byKey {
		if buckets[k.bucket] == nil {
			buckets[k.bucket] = &bucketRecord{Created: vs[0].LastModified}
			inferred[k.bucket] = true
		}
		if !inferred[k.bucket] {
			continue
		}
		br := buckets[k.bucket]
		for _, v := range vs {
			if v.LastModified.Before(br.Created) {
				br.Created = v.LastModified
			}
			if v.VersionID != "null" {
				br.Versioning = VersioningEnabled
			}
		}
	}
	rep.BucketsInferred = len(inferred)

	names := make([]string, 0, len(buckets))
	for name := range buckets {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v, _ := json.Marshal(buckets[name])
		batch.Set(bucketKey(name), v)
		if len(buckets[name].Lifecycle) > 0 {
			batch.Set(lifecycleReplanItem(name), []byte(newDataID()))
		}
		rep.Buckets++
	}

	referenced := map[string]bool{}
	recovered := map[versionID]bool{}
	for _, vs := range byKey {
		sort.Slice(vs, func(i, j int) bool { return vs[i].Seq > vs[j].Seq })
		nullSeen := false
		var kept []*versionRecord
		for _, v := range vs {
			if v.VersionID == "null" {
				// INVARIANT: a key has one null version; a newer one
				// replaced any older one that is still on the zones.
				if nullSeen {
					drop(v)
					continue
				}
				nullSeen = true
			}
			kept = append(kept, v)
		}
		for i, v := range kept {
			recovered[versionID{v.Bucket, v.Key, v.Seq}] = true
			enc := v.marshal()
			batch.Set(versionKey(v.Bucket, v.Key, v.Seq), enc)
			if i == 0 && !v.DeleteMarker {
				batch.Set(latestKey(v.Bucket, v.Key), enc)
			}
			if v.DeleteMarker {
				rep.DeleteMarkers++
			} else {
				rep.Versions++
			}
			for _, seg := range v.Segments {
				referenced[seg.DataID] = true
				batch.Set(dataRefKey(seg.DataID), nil)
				var missing []int
				for shard, zone := range seg.Placement {
					if z, ok := present[seg.DataID][shard]; !ok || z != zone {
						missing = append(missing, shard)
					}
				}
				if len(missing) > 0 {
					rep.ShardsMissing += len(missing)
					addHealWork(&batch, seg, missing)
				}
			}
			if err := flush(false); err != nil {
				return err
			}
		}
	}

	uploads := map[string]bool{}
	for _, p := range parts {
		if referenced[p.Seg.DataID] {
			continue
		}
		uploads[p.UploadID] = true
		rep.PartsDropped++
		queueGarbage(p.Seg)
	}
	rep.UploadsDropped = len(uploads)
	// Deleted data not yet swept is queued again, so Sweep removes its
	// shards and then its tombstone.
	gids := make([]string, 0, len(garbage))
	for id := range garbage {
		gids = append(gids, id)
	}
	sort.Strings(gids)
	for _, id := range gids {
		queueGarbage(garbage[id])
		if err := flush(false); err != nil {
			return err
		}
	}
	// Records that are not the same on every zone (a change cut short
	// while its records were being written, a zone that missed one) are
	// written again by Heal from the index just built, which took them
	// as they won. So are the records of versions not in the index: live
	// ones of versions the rebuild dropped (an older null version, a
	// version whose data is deleted), and tombstones, which have done
	// their work once the version is out and its data queued for
	// deletion. Heal writes each as a tombstone and then removes it.
	for name, m := range zm.best {
		gone := m.Kind == metaKindVersion && !recovered[versionID{m.Bucket, m.Key, m.Seq}]
		if zm.agree[name] >= len(s.zones) && !gone {
			continue
		}
		switch m.Kind {
		case metaKindBucket:
			batch.Set(metaHealKey(name), bucketKey(m.Bucket))
		case metaKindVersion:
			batch.Set(metaHealKey(name), versionKey(m.Bucket, m.Key, m.Seq))
		case metaKindGarbage:
			seg, _ := unmarshalSegment(m.Body)
			batch.Set(metaHealKey(name), garbageKey(due, seg.DataID))
		}
	}
	// Data this rebuild queued for deletion gets its tombstone, so that
	// a second rebuild before Sweep agrees.
	if len(tombstones) > 0 {
		missed, err := s.putMeta(ctx, tombstones)
		if err != nil {
			return err
		}
		for _, m := range missed {
			batch.Set(metaHealKey(m.name()), m.ikey)
		}
	}
	if err := flush(true); err != nil {
		return err
	}
	for _, name := range names {
		if len(buckets[name].Lifecycle) == 0 {
			continue
		}
		v, err := s.idx.Get(ctx, lifecycleReplanItem(name))
		if err != nil {
			return err
		}
		if err := s.replanBucket(ctx, name, string(v)); err != nil {
			s.log.Warn("cellar: rebuild: lifecycle planning failed; RunLifecycle will finish it", "bucket", name, "err", err)
		}
	}
	return nil
}

// readable reports whether at least k shards of data set id are on the
// zones that v's segment places them in, counting those placed in a zone
// that could not be listed: an unreachable zone must not make a rebuild
// drop what it holds.
func readable(v *versionRecord, id string, shards map[int]int, unreachable map[int]bool) bool {
	for _, seg := range v.Segments {
		if seg.DataID != id {
			continue
		}
		n := 0
		for shard, zone := range seg.Placement {
			if z, ok := shards[shard]; ok && z == zone || unreachable[zone] {
				n++
			}
		}
		return n >= seg.K
	}
	return false
}

func hasData(v *versionRecord, id string) bool {
	for _, seg := range v.Segments {
		if seg.DataID == id {
			return true
		}
	}
	return false
}

// readDataRecord returns the record in the trailer of the first shard of
// a data set whose header and trailer verify.
func (s *Store) readDataRecord(ctx context.Context, id string, shards map[int]int) ([]byte, error) {
	order := make([]int, 0, len(shards))
	for shard := range shards {
		order = append(order, shard)
	}
	sort.Ints(order)
	var errs []error
	for _, shard := range order {
		h, t, err := erasure.ReadHeaderTrailer(ctx, s.zones[shards[shard]], erasure.BlobName(id, shard))
		if err == nil && (h.DataID != id || h.Shard != shard) {
			err = fmt.Errorf("header names data %s shard %d", h.DataID, h.Shard)
		}
		if err == nil && len(t.Record) == 0 {
			err = errors.New("empty trailer record")
		}
		if err == nil {
			return t.Record, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		errs = append(errs, fmt.Errorf("zone %d shard %d: %w", shards[shard], shard, err))
	}
	return nil, fmt.Errorf("no shard with a readable record: %w", errors.Join(errs...))
}
