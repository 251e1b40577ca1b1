package cellar

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/cellarhq/cellar/index"
)

// MinTransitionSize is the smallest object a lifecycle rule transitions
// unless the rule has an object size filter: S3's default since September
// 2024 (all_storage_classes_128K), under which objects smaller than
// 128 KiB transition to no class, and a rule's ObjectSizeGreaterThan or
// ObjectSizeLessThan takes precedence.
const MinTransitionSize = 128 << 10

// canTransition reports whether a version of class from may go to class
// to: only down S3's waterfall, toward colder classes.
func canTransition(from, to string) bool {
	return classRank[to] > classRank[recordClass(from)]
}

// transitionSize reports whether the rule may transition v by its size.
func (r *LifecycleRule) transitionSize(v *versionRecord) bool {
	return v.Size >= MinTransitionSize || r.Filter.hasSizes()
}

// currentTransitions adds the Transitions of the rules that select the
// current version cur and would move it to a colder class.
func (c *LifecycleConfig) currentTransitions(out []lcAction, cur *versionRecord) []lcAction {
	for i := range c.Rules {
		r := &c.Rules[i]
		if !r.enabled() || len(r.Transitions) == 0 || !r.matches(cur) || !r.transitionSize(cur) {
			continue
		}
		for _, t := range r.Transitions {
			if !canTransition(cur.StorageClass, t.StorageClass) {
				continue
			}
			var due time.Time
			if t.Date.IsZero() {
				due = lifecycleDay(cur.LastModified, t.Days)
			} else {
				due = lifecycleDay(cur.LastModified, 0)
				if t.Date.After(due) {
					due = t.Date.UTC()
				}
			}
			out = append(out, lcAction{kind: lcTransition, v: cur, due: due, class: t.StorageClass})
		}
	}
	return out
}

// noncurrentTransitions adds the NoncurrentVersionTransitions of the
// rules that select the noncurrent version v, noncurrent since since with
// newer noncurrent object versions newer than it.
func (c *LifecycleConfig) noncurrentTransitions(out []lcAction, v *versionRecord, since time.Time, newer int) []lcAction {
	for i := range c.Rules {
		r := &c.Rules[i]
		if !r.enabled() || len(r.NoncurrentVersionTransitions) == 0 || !r.matches(v) || !r.transitionSize(v) {
			continue
		}
		for _, t := range r.NoncurrentVersionTransitions {
			if newer < t.NewerNoncurrentVersions || !canTransition(v.StorageClass, t.StorageClass) {
				continue
			}
			out = append(out, lcAction{kind: lcTransition, v: v, due: lifecycleDay(since, t.NoncurrentDays), class: t.StorageClass})
		}
	}
	return out
}

// transition moves version v to storage class class: it re-encodes each
// segment of v's data into the class's placement (new data IDs, the
// shards carrying the updated record in their trailers), then, under the
// key's lock and only if v is still there, unchanged, and still due to go
// to class, commits one index batch that points the version (and the
// latest pointer, if v is current) at the new data, queues the old data
// for deletion after the grace period (readers still streaming it keep
// it until they close) and queues the key's next lifecycle item in place
// of retry. It reports whether it committed.
//
// A crash before the index commit leaves the old version whole and the
// new shards unreferenced (SweepOrphans removes them); after it, the new
// data is the version's and the old is garbage. Either way one readable
// copy.
func (s *Store) transition(ctx context.Context, v *versionRecord, class string, retry []byte, now time.Time) (committed bool, err error) {
	orig := v.marshal()
	obj := s.newObject(ctx, v)
	var pending []*pendingData
	defer func() {
		obj.Close()
		for _, pd := range pending {
			if committed {
				s.setInflight(pd.seg.DataID, false)
			} else {
				pd.abort(s)
			}
		}
	}()
	alg := v.Checksum.Algorithm
	segs := make([]segment, len(v.Segments))
	var off int64
	for i, seg := range v.Segments {
		src := io.NewSectionReader(obj, off, seg.Size)
		off += seg.Size
		pd, err := s.writeData(ctx, src, seg.Size, seg.Size, &Integrity{ChecksumAlgorithm: alg}, class)
		if err != nil {
			return false, fmt.Errorf("cellar: transition %s/%s to %s: %w", v.Bucket, v.Key, class, err)
		}
		pending = append(pending, pd)
		if seg.ETag != "" && pd.seg.ETag != seg.ETag {
			return false, fmt.Errorf("%w: transition %s/%s: data read back with MD5 %s, recorded %s", ErrCorrupt, v.Bucket, v.Key, pd.seg.ETag, seg.ETag)
		}
		ns := pd.seg
		ns.Size, ns.ETag, ns.Checksum = seg.Size, seg.ETag, seg.Checksum
		segs[i] = ns
	}

	defer s.lockKey(v.Bucket, v.Key)()
	if err := s.check(); err != nil {
		return false, err
	}
	brec, cfg, err := s.lifecycleConfigFor(ctx, v.Bucket)
	if err != nil || cfg == nil {
		return false, err
	}
	versions, err := s.keyVersions(ctx, v.Bucket, v.Key)
	if err != nil {
		return false, err
	}
	at := -1
	for i, x := range versions {
		if x.Seq == v.Seq && bytes.Equal(x.marshal(), orig) {
			at = i
		}
	}
	if at < 0 {
		return false, nil // changed or gone: the retry item evaluates it again
	}
	still := false
	for _, a := range dueTransitions(cfg.keyActions(versions), now) {
		if a.v == versions[at] && a.class == class {
			still = true
		}
	}
	for _, a := range cfg.keyActions(versions) {
		if a.v == versions[at] && a.kind != lcTransition && !a.due.After(now) {
			still = false // an expiration is due: it wins
		}
	}
	if !still || brec == nil {
		return false, nil
	}
	nv := *versions[at]
	nv.StorageClass = class
	nv.Segments = segs
	nv.RestoreDone, nv.RestoreExpiry, nv.LastAccess = time.Time{}, time.Time{}, time.Time{}
	enc := nv.marshal()
	var batch index.Batch
	for i, pd := range pending {
		res, err := pd.w.Commit(enc)
		if err != nil {
			return false, s.writeError(err)
		}
		batch.Set(dataRefKey(segs[i].DataID), nil)
		if len(res.Missing) > 0 {
			addHealWork(&batch, segs[i], res.Missing)
		}
	}
	batch.Set(versionKey(nv.Bucket, nv.Key, nv.Seq), enc)
	if at == 0 && !nv.DeleteMarker {
		batch.Set(latestKey(nv.Bucket, nv.Key), enc)
	}
	for _, seg := range v.Segments {
		s.queueDeletion(&batch, seg)
	}
	if retry != nil {
		batch.Delete(retry)
	}
	after := append([]*versionRecord(nil), versions...)
	after[at] = &nv
	queueKey(&batch, cfg, nv.Bucket, nv.Key, after, now)
	// INVARIANT: the new record goes to the zones as a metadata record
	// too, although the new data's trailers hold it: a version that had
	// a metadata record (a completed multipart upload, changed tags, a
	// restore) would otherwise keep the old one, which names the data
	// now queued for deletion, and a rebuild would drop the version.
	if err := s.apply(ctx, &batch); err != nil {
		return false, fmt.Errorf("cellar: transition %s/%s: %w", v.Bucket, v.Key, err)
	}
	return true, nil
}
