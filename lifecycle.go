package cellar

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cellarhq/cellar/index"
)

// LifecycleReport tells what one RunLifecycle did.
type LifecycleReport struct {
	// Expired counts current versions removed for good (unversioned
	// buckets).
	Expired int
	// DeleteMarkersAdded counts current versions expired in versioned or
	// suspended buckets, each by a new delete marker.
	DeleteMarkersAdded int
	// NoncurrentRemoved counts noncurrent versions (and noncurrent delete
	// markers) removed for good.
	NoncurrentRemoved int
	// DeleteMarkersRemoved counts expired object delete markers removed:
	// delete markers that were the only version of their key.
	DeleteMarkersRemoved int
	// UploadsAborted counts incomplete multipart uploads aborted.
	UploadsAborted int
	// Transitioned counts versions moved to another storage class
	// (Transitions and NoncurrentVersionTransitions).
	Transitioned int
	// Failed counts due items that could not be handled now (an index
	// error, a corrupt record); they stay queued and are retried.
	Failed int
}

func (r *LifecycleReport) add(o LifecycleReport) {
	r.Expired += o.Expired
	r.DeleteMarkersAdded += o.DeleteMarkersAdded
	r.NoncurrentRemoved += o.NoncurrentRemoved
	r.DeleteMarkersRemoved += o.DeleteMarkersRemoved
	r.UploadsAborted += o.UploadsAborted
	r.Transitioned += o.Transitioned
	r.Failed += o.Failed
}

func (r LifecycleReport) empty() bool { return r == LifecycleReport{} }

// lifecycleWorkers is how many due items RunLifecycle handles at once.
const lifecycleWorkers = 16

// SetLifecycle puts a lifecycle configuration in force on the bucket,
// replacing any earlier one, as S3's PutBucketLifecycleConfiguration
// does. The configuration is checked first (see LifecycleConfig.Validate);
// a bad one is refused and the old one stays in force. Rules without an ID
// get a random one.
//
// SetLifecycle then plans the bucket: it reads every version and upload
// of the bucket once and queues the next action due on each, so that
// RunLifecycle never scans a bucket. Should that be interrupted, the
// configuration is still in force and RunLifecycle finishes the planning.
func (b *Bucket) SetLifecycle(ctx context.Context, cfg *LifecycleConfig) error {
	s := b.s
	if err := s.check(); err != nil {
		return err
	}
	if cfg == nil {
		return fmt.Errorf("%w: nil lifecycle configuration (use DeleteLifecycle to remove one)", ErrInvalidArgument)
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	c := cfg.clone()
	for i := range c.Rules {
		if c.Rules[i].ID == "" {
			c.Rules[i].ID = newDataID()
		}
	}
	enc, err := c.MarshalJSON()
	if err != nil {
		return err
	}
	nonce := newDataID()
	if err := func() error {
		s.buckets.Lock()
		defer s.buckets.Unlock()
		brec, err := s.bucketRecord(ctx, b.name)
		if err != nil {
			return err
		}
		brec.Lifecycle = enc
		v, _ := json.Marshal(brec)
		var batch index.Batch
		batch.Set(bucketKey(b.name), v)
		// INVARIANT: a bucket whose rules changed has a replan item until
		// every version and upload of it has been planned under them.
		batch.Set(lifecycleReplanItem(b.name), []byte(nonce))
		return s.apply(ctx, &batch)
	}(); err != nil {
		return err
	}
	if err := s.replanBucket(ctx, b.name, nonce); err != nil {
		s.log.Warn("cellar: lifecycle: planning the bucket failed; RunLifecycle will finish it", "bucket", b.name, "err", err)
	}
	return nil
}

// Lifecycle returns the bucket's lifecycle configuration, or
// ErrNoSuchLifecycleConfiguration if it has none.
func (b *Bucket) Lifecycle(ctx context.Context) (*LifecycleConfig, error) {
	if err := b.s.check(); err != nil {
		return nil, err
	}
	brec, err := b.s.bucketRecord(ctx, b.name)
	if err != nil {
		return nil, err
	}
	cfg, err := brec.lifecycle(b.name)
	if err != nil {
		return nil, err
	}
	if cfg == nil {
		return nil, fmt.Errorf("%w: bucket %s", ErrNoSuchLifecycleConfiguration, b.name)
	}
	return cfg, nil
}

// DeleteLifecycle removes the bucket's lifecycle configuration; nothing is
// expired or aborted by it from then on. A bucket without one is not an
// error, as S3 answers. Actions already queued are dropped when they come
// due.
func (b *Bucket) DeleteLifecycle(ctx context.Context) error {
	s := b.s
	if err := s.check(); err != nil {
		return err
	}
	s.buckets.Lock()
	defer s.buckets.Unlock()
	brec, err := s.bucketRecord(ctx, b.name)
	if err != nil {
		return err
	}
	if len(brec.Lifecycle) == 0 {
		return nil
	}
	brec.Lifecycle = nil
	v, _ := json.Marshal(brec)
	var batch index.Batch
	batch.Set(bucketKey(b.name), v)
	batch.Delete(lifecycleReplanItem(b.name))
	return s.apply(ctx, &batch)
}

// lifecycle decodes the bucket's configuration, nil if it has none.
func (r *bucketRecord) lifecycle(bucket string) (*LifecycleConfig, error) {
	if len(r.Lifecycle) == 0 {
		return nil, nil
	}
	c, err := decodeLifecycle(r.Lifecycle, false)
	if err != nil {
		return nil, fmt.Errorf("cellar: bucket %s: stored lifecycle configuration unreadable: %v", bucket, err)
	}
	return c, nil
}

// Lifecycle due items live in the X space, ordered by due time (Unix
// seconds; every due time is a midnight UTC), then by kind:
//
//	X due 'b' esc(bucket)                   → nonce: plan every key and upload of the bucket (due 0)
//	X due 'k' esc(bucket) esc(key)          → (empty): evaluate the key's versions
//	X due 'u' esc(bucket) esc(key) uploadID → (empty): evaluate the upload
//
// An item says only when to look again. Whatever it says, the key or
// upload is evaluated against its state and rules at that time, under its
// lock, and only actions due then are taken; the item is then replaced by
// one at the next due time, if any, in the same index batch. So a stale
// item (the object changed, the rules changed) costs one evaluation and
// does nothing, and every write that can make an action due queues an
// item in its own commit.
const (
	lcItemReplan = 'b'
	lcItemKey    = 'k'
	lcItemUpload = 'u'
)

func lifecycleDueKey(due time.Time, kind byte) []byte {
	sec := max(due.Unix(), 0)
	k := binary.BigEndian.AppendUint64([]byte{spaceLifecycle}, uint64(sec))
	return append(k, kind)
}

func lifecycleKeyItem(due time.Time, bucket, key string) []byte {
	return index.AppendEscapedString(index.AppendEscapedString(lifecycleDueKey(due, lcItemKey), bucket), key)
}

func lifecycleUploadItem(due time.Time, bucket, key, uploadID string) []byte {
	k := index.AppendEscapedString(index.AppendEscapedString(lifecycleDueKey(due, lcItemUpload), bucket), key)
	return append(k, uploadID...)
}

// lifecycleReplanItem is due at once: it sorts before every other item.
func lifecycleReplanItem(bucket string) []byte {
	return index.AppendEscapedString(lifecycleDueKey(time.Unix(0, 0), lcItemReplan), bucket)
}

// lifecycleItem is a decoded due item.
type lifecycleItem struct {
	key               []byte
	value             []byte
	kind              byte
	bucket, objectKey string
	uploadID          string
}

func parseLifecycleItem(k, v []byte) (lifecycleItem, error) {
	it := lifecycleItem{key: k, value: v}
	if len(k) < 10 || k[0] != spaceLifecycle {
		return it, fmt.Errorf("%w: short lifecycle item", index.ErrCorruptKey)
	}
	it.kind = k[9]
	b, rest, err := index.DecodeEscaped(k[10:])
	if err != nil {
		return it, err
	}
	it.bucket = string(b)
	if it.kind == lcItemReplan {
		if len(rest) != 0 {
			return it, fmt.Errorf("%w: bytes after a replan item", index.ErrCorruptKey)
		}
		return it, nil
	}
	key, rest, err := index.DecodeEscaped(rest)
	if err != nil {
		return it, err
	}
	it.objectKey = string(key)
	switch {
	case it.kind == lcItemKey && len(rest) == 0:
	case it.kind == lcItemUpload && validUploadID(string(rest)):
		it.uploadID = string(rest)
	default:
		return it, fmt.Errorf("%w: lifecycle item of kind %q", index.ErrCorruptKey, it.kind)
	}
	return it, nil
}

// lifecycleDay is when an action days after t is due. S3 adds the days to
// the time and rounds up to the next midnight UTC: an object created at
// 2026-01-01T15:00Z under Days 1 expires at 2026-01-03T00:00Z, and one
// made noncurrent on 1/15 10:30 under NoncurrentDays 3 goes on 1/19 00:00.
// A time already at midnight still goes to the next one, so days 0 is the
// midnight after t.
func lifecycleDay(t time.Time, days int) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day()+days+1, 0, 0, 0, 0, time.UTC)
}

// lcKind is what a lifecycle action does.
type lcKind uint8

const (
	lcExpireCurrent    lcKind = iota + 1 // expire the current version (Expiration Days or Date)
	lcRemoveNoncurrent                   // remove a noncurrent version (NoncurrentVersionExpiration)
	lcRemoveMarker                       // remove an expired object delete marker
	lcTransition                         // move a version to another storage class
)

// lcAction is one action the rules will take on one version, and when.
type lcAction struct {
	kind  lcKind
	v     *versionRecord
	due   time.Time
	class string // lcTransition: the target class
}

func (r *LifecycleRule) enabled() bool { return r.Status == LifecycleEnabled }

// matchesKey reports whether the rule's prefix selects key.
func (r *LifecycleRule) matchesKey(key string) bool {
	f := r.Filter
	switch {
	case f == nil:
		return strings.HasPrefix(key, r.Prefix)
	case f.And != nil:
		return strings.HasPrefix(key, f.And.Prefix)
	default:
		return strings.HasPrefix(key, f.Prefix)
	}
}

// matches reports whether the rule's filter selects version v. A delete
// marker has no tags and size 0.
func (r *LifecycleRule) matches(v *versionRecord) bool {
	if !r.matchesKey(v.Key) {
		return false
	}
	f := r.Filter
	if f == nil {
		return true
	}
	size := v.Size
	if v.DeleteMarker {
		size = 0
	}
	if f.Tag != nil && !hasTag(v, *f.Tag) {
		return false
	}
	if !sizeBetween(size, f.ObjectSizeGreaterThan, f.ObjectSizeLessThan) {
		return false
	}
	if a := f.And; a != nil {
		for _, t := range a.Tags {
			if !hasTag(v, t) {
				return false
			}
		}
		if !sizeBetween(size, a.ObjectSizeGreaterThan, a.ObjectSizeLessThan) {
			return false
		}
	}
	return true
}

func hasTag(v *versionRecord, t LifecycleTag) bool {
	if v.DeleteMarker {
		return false
	}
	val, ok := v.Tags[t.Key]
	return ok && val == t.Value
}

func sizeBetween(size int64, gt, lt *int64) bool {
	return (gt == nil || size > *gt) && (lt == nil || size < *lt)
}

// earliest is the first due time that fn gives over the enabled rules.
func (c *LifecycleConfig) earliest(fn func(r *LifecycleRule) (time.Time, bool)) (time.Time, bool) {
	var best time.Time
	found := false
	for i := range c.Rules {
		r := &c.Rules[i]
		if !r.enabled() {
			continue
		}
		if t, ok := fn(r); ok && (!found || t.Before(best)) {
			best, found = t, true
		}
	}
	return best, found
}

// keyActions lists every action the rules will take on a key whose
// versions (newest first) are these, each at its due time, as long as the
// versions stay as they are:
//
//   - the current version, if not a delete marker, expires at the first
//     due time of the Expiration rules (Days or Date) that select it;
//   - a delete marker that is the only version (an expired object delete
//     marker) goes at the midnight after it was made under a rule with
//     ExpiredObjectDeleteMarker, or as an Expiration rule's Days or Date
//     would expire a current version made when the marker was, as S3
//     does;
//   - a noncurrent version, once NewerNoncurrentVersions noncurrent
//     object versions are newer than it, goes NoncurrentDays after it
//     became noncurrent: when the next newer version was made. Delete
//     markers do not count toward NewerNoncurrentVersions and are not
//     kept by it: a noncurrent delete marker holds no data.
func (c *LifecycleConfig) keyActions(versions []*versionRecord) []lcAction {
	if c == nil || len(versions) == 0 {
		return nil
	}
	var out []lcAction
	cur := versions[0]
	switch {
	case !cur.DeleteMarker:
		if due, ok := c.earliest(func(r *LifecycleRule) (time.Time, bool) {
			return r.expiry(cur)
		}); ok {
			out = append(out, lcAction{kind: lcExpireCurrent, v: cur, due: due})
		}
		out = c.currentTransitions(out, cur)
	case len(versions) == 1:
		if due, ok := c.earliest(func(r *LifecycleRule) (time.Time, bool) {
			if e := r.Expiration; e != nil && e.ExpiredObjectDeleteMarker && r.matches(cur) {
				return lifecycleDay(cur.LastModified, 0), true
			}
			return r.expiry(cur)
		}); ok {
			out = append(out, lcAction{kind: lcRemoveMarker, v: cur, due: due})
		}
	}
	newer := 0 // noncurrent object versions newer than versions[i]
	for i := 1; i < len(versions); i++ {
		v := versions[i]
		since := versions[i-1].LastModified
		if due, ok := c.earliest(func(r *LifecycleRule) (time.Time, bool) {
			n := r.NoncurrentVersionExpiration
			if n == nil || !v.DeleteMarker && newer < n.NewerNoncurrentVersions || !r.matches(v) {
				return time.Time{}, false
			}
			return lifecycleDay(since, n.NoncurrentDays), true
		}); ok {
			out = append(out, lcAction{kind: lcRemoveNoncurrent, v: v, due: due})
		}
		if !v.DeleteMarker {
			out = c.noncurrentTransitions(out, v, since, newer)
		}
		if !v.DeleteMarker {
			newer++
		}
	}
	return out
}

// expiry is when the rule's Expiration Days or Date expires v. A Date
// rule expires versions made before the date at the date, and versions
// made after it at the midnight after they were made.
func (r *LifecycleRule) expiry(v *versionRecord) (time.Time, bool) {
	e := r.Expiration
	if e == nil || !r.matches(v) {
		return time.Time{}, false
	}
	switch {
	case e.Days > 0:
		return lifecycleDay(v.LastModified, e.Days), true
	case !e.Date.IsZero():
		first := lifecycleDay(v.LastModified, 0)
		if e.Date.After(first) {
			return e.Date.UTC(), true
		}
		return first, true
	}
	return time.Time{}, false
}

// expiration is when and by which rule the configuration expires rec as
// the current version (Expiration Days or Date), nil if none does.
func (c *LifecycleConfig) expiration(rec *versionRecord) *ExpirationInfo {
	var out *ExpirationInfo
	for i := range c.Rules {
		r := &c.Rules[i]
		if !r.enabled() {
			continue
		}
		if t, ok := r.expiry(rec); ok && (out == nil || t.Before(out.Date)) {
			out = &ExpirationInfo{RuleID: r.ID, Date: t}
		}
	}
	return out
}

// uploadDue is when the rules abort an upload of key made at initiated.
func (c *LifecycleConfig) uploadDue(key string, initiated time.Time) (time.Time, bool) {
	if c == nil {
		return time.Time{}, false
	}
	return c.earliest(func(r *LifecycleRule) (time.Time, bool) {
		a := r.AbortIncompleteMultipartUpload
		if a == nil || !r.matchesKey(key) {
			return time.Time{}, false
		}
		return lifecycleDay(initiated, a.DaysAfterInitiation), true
	})
}

// nextDue is the earliest due time of acts after now.
func nextDue(acts []lcAction, now time.Time) (time.Time, bool) {
	var best time.Time
	found := false
	for _, a := range acts {
		if a.due.After(now) && (!found || a.due.Before(best)) {
			best, found = a.due, true
		}
	}
	return best, found
}

// queueKey adds to batch the key's next lifecycle item, for the key's
// versions as they are once batch commits.
func queueKey(batch *index.Batch, cfg *LifecycleConfig, bucket, key string, after []*versionRecord, now time.Time) {
	acts := cfg.keyActions(after)
	due, ok := nextDue(acts, now)
	for _, a := range acts {
		// An action already due (a lone delete marker left by a version
		// removed late) is taken by the next run.
		if !a.due.After(now) && (!ok || a.due.Before(due)) {
			due, ok = a.due, true
		}
	}
	if ok {
		batch.Set(lifecycleKeyItem(due, bucket, key), nil)
	}
}

// lifecycleOnCommit is commitVersion's hook: it queues the key's next
// lifecycle action as the commit leaves the key, rec newest and the null
// version rec replaces gone.
func (s *Store) lifecycleOnCommit(batch *index.Batch, brec *bucketRecord, rec *versionRecord, versions []*versionRecord) error {
	if len(brec.Lifecycle) == 0 {
		return nil
	}
	cfg, err := brec.lifecycle(rec.Bucket)
	if err != nil {
		return err
	}
	after := make([]*versionRecord, 0, len(versions)+1)
	after = append(after, rec)
	replaced := false
	for _, v := range versions {
		if rec.VersionID == "null" && v.VersionID == "null" && !replaced {
			replaced = true
			continue
		}
		after = append(after, v)
	}
	queueKey(batch, cfg, rec.Bucket, rec.Key, after, s.now())
	return nil
}

// lifecycleOnRemove is the hook of a delete of versions[i] by version ID:
// it queues the key's next action as the delete leaves the key (a lone
// delete marker left behind, an older version made current).
func (s *Store) lifecycleOnRemove(batch *index.Batch, brec *bucketRecord, versions []*versionRecord, i int) error {
	if len(brec.Lifecycle) == 0 {
		return nil
	}
	cfg, err := brec.lifecycle(versions[i].Bucket)
	if err != nil {
		return err
	}
	after := make([]*versionRecord, 0, len(versions)-1)
	after = append(append(after, versions[:i]...), versions[i+1:]...)
	queueKey(batch, cfg, versions[i].Bucket, versions[i].Key, after, s.now())
	return nil
}

// lifecycleOnRetag is the hook of a change to a version's tags, which a
// tag filter may now select or no longer select. The caller holds the
// key's lock and the buckets lock shared.
func (s *Store) lifecycleOnRetag(ctx context.Context, batch *index.Batch, rec *versionRecord) error {
	brec, err := s.bucketRecord(ctx, rec.Bucket)
	if err != nil || len(brec.Lifecycle) == 0 {
		return err
	}
	cfg, err := brec.lifecycle(rec.Bucket)
	if err != nil {
		return err
	}
	versions, err := s.keyVersions(ctx, rec.Bucket, rec.Key)
	if err != nil {
		return err
	}
	for i, v := range versions {
		if v.Seq == rec.Seq {
			versions[i] = rec
		}
	}
	queueKey(batch, cfg, rec.Bucket, rec.Key, versions, s.now())
	return nil
}

// lifecycleOnCreateUpload is CreateMultipartUpload's hook: it queues the
// abort of the new upload, if a rule will abort it.
func (s *Store) lifecycleOnCreateUpload(batch *index.Batch, brec *bucketRecord, rec *uploadRecord, id string) error {
	if len(brec.Lifecycle) == 0 {
		return nil
	}
	cfg, err := brec.lifecycle(rec.Bucket)
	if err != nil {
		return err
	}
	if due, ok := cfg.uploadDue(rec.Key, rec.Initiated); ok {
		batch.Set(lifecycleUploadItem(due, rec.Bucket, rec.Key, id), nil)
	}
	return nil
}

// RunLifecycle takes every lifecycle action due by the store's clock
// (Options.Clock): it expires current versions (an unversioned bucket
// loses the object; a versioned one gets a delete marker, a suspended one
// a null delete marker that replaces the null version), removes noncurrent
// versions and expired object delete markers, and aborts incomplete
// multipart uploads, with S3's timing (see doc.go). It reads only the due
// queue, never a whole bucket; each action is checked again against the
// object's state and the bucket's rules at that moment, under the key's
// lock, so an object changed or a rule deleted since the action was queued
// is left alone. Removed data is deleted by Sweep after the grace period.
// A background runner calls RunLifecycle every Options.LifecycleInterval.
func (s *Store) RunLifecycle(ctx context.Context) (LifecycleReport, error) {
	var rep LifecycleReport
	if err := s.check(); err != nil {
		return rep, err
	}
	now := s.now()
	lower := []byte{spaceLifecycle}
	upper := binary.BigEndian.AppendUint64([]byte{spaceLifecycle}, uint64(max(now.Unix(), 0))+1)
	for {
		it, err := s.idx.NewIter(ctx, lower, upper)
		if err != nil {
			return rep, err
		}
		type kv struct{ k, v []byte }
		var batch []kv
		for ok := it.First(); ok && len(batch) < 256; ok = it.Next() {
			batch = append(batch, kv{append([]byte(nil), it.Key()...), append([]byte(nil), it.Value()...)})
		}
		err = it.Error()
		it.Close()
		if err != nil {
			return rep, err
		}
		if len(batch) == 0 {
			return rep, nil
		}
		// Items run lifecycleWorkers at a time, each under its key's
		// lock, so that their synced index commits share the disk's
		// flushes. A bucket's replan item is a barrier: the items before
		// it finish first and those after it start once it is done.
		for start := 0; start < len(batch); {
			end := start + 1
			if batch[start].k[9] != lcItemReplan {
				for end < len(batch) && batch[end].k[9] != lcItemReplan {
					end++
				}
			}
			group := batch[start:end]
			reports := make([]LifecycleReport, len(group))
			errs := make([]error, len(group))
			var wg sync.WaitGroup
			sem := make(chan struct{}, lifecycleWorkers)
			for i, e := range group {
				sem <- struct{}{}
				wg.Go(func() {
					defer func() { <-sem }()
					errs[i] = s.runLifecycleItem(ctx, e.k, e.v, now, &reports[i])
				})
			}
			wg.Wait()
			for i, err := range errs {
				rep.add(reports[i])
				if err == nil {
					continue
				}
				if ctx.Err() != nil {
					return rep, ctx.Err()
				}
				if err := s.check(); err != nil {
					return rep, err
				}
				s.log.Warn("cellar: lifecycle: due item failed; will retry", "item", fmt.Sprintf("%x", group[i].k), "err", err)
				rep.Failed++
			}
			start = end
		}
		// Resume after the last item looked at. Items the run queued are
		// due after now, beyond upper; failed ones stay for the next run.
		lower = append(batch[len(batch)-1].k, 0)
		if err := ctx.Err(); err != nil {
			return rep, err
		}
	}
}

func (s *Store) runLifecycleItem(ctx context.Context, k, v []byte, now time.Time, rep *LifecycleReport) error {
	it, err := parseLifecycleItem(k, v)
	if err != nil {
		s.log.Error("cellar: corrupt lifecycle item; dropping it", "key", fmt.Sprintf("%x", k), "err", err)
		var b index.Batch
		b.Delete(k)
		return s.idx.Apply(ctx, &b)
	}
	switch it.kind {
	case lcItemReplan:
		return s.replanBucket(ctx, it.bucket, string(it.value))
	case lcItemKey:
		return s.lifecycleKey(ctx, it, now, rep)
	default:
		return s.lifecycleUpload(ctx, it, now, rep)
	}
}

// lifecycleConfigFor reads the bucket's rules for an item; nil (the item
// is dropped) if the bucket or its configuration is gone.
func (s *Store) lifecycleConfigFor(ctx context.Context, bucket string) (*bucketRecord, *LifecycleConfig, error) {
	brec, err := s.bucketRecord(ctx, bucket)
	if errors.Is(err, ErrNoSuchBucket) || errors.Is(err, ErrInvalidBucketName) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	cfg, err := brec.lifecycle(bucket)
	return brec, cfg, err
}

// lifecycleKey evaluates one key under its lock: it takes every action
// due by now, then queues the key's next action, in one index batch.
func (s *Store) lifecycleKey(ctx context.Context, it lifecycleItem, now time.Time, rep *LifecycleReport) error {
	unlock := s.lockKey(it.bucket, it.objectKey)
	var batch index.Batch
	batch.Delete(it.key)
	brec, cfg, err := s.lifecycleConfigFor(ctx, it.bucket)
	if err != nil {
		unlock()
		return err
	}
	var done LifecycleReport
	var moves []lcAction
	var retry []byte
	if cfg != nil {
		versions, err := s.keyVersions(ctx, it.bucket, it.objectKey)
		if err != nil {
			unlock()
			return err
		}
		var after []*versionRecord
		after, moves = s.applyLifecycle(&batch, brec.Versioning, cfg, versions, now, &done)
		if due, ok := nextDue(cfg.keyActions(after), now); ok {
			batch.Set(lifecycleKeyItem(due, it.bucket, it.objectKey), nil)
		}
		if len(moves) > 0 {
			// INVARIANT: a key with a transition due keeps an item due by
			// now until the transition commits (which deletes it), so a
			// transition cut short by a failure or a crash is retried.
			due := moves[0].due
			for _, m := range moves {
				if m.due.Before(due) {
					due = m.due
				}
			}
			retry = lifecycleKeyItem(due, it.bucket, it.objectKey)
			batch.Set(retry, nil)
		}
	}
	err = s.apply(ctx, &batch)
	unlock()
	if err != nil {
		return fmt.Errorf("cellar: lifecycle %s/%s: %w", it.bucket, it.objectKey, err)
	}
	rep.add(done)
	// Transitions move data, so they run outside the key's lock; each
	// commits under it, if its version is still as it was.
	var firstErr error
	for _, m := range moves {
		ok, err := s.transition(ctx, m.v, m.class, retry, now)
		switch {
		case err != nil:
			if firstErr == nil {
				firstErr = err
			}
		case ok:
			rep.Transitioned++
		}
	}
	return firstErr
}

// applyLifecycle adds to batch every action due by now on a key with these
// versions and returns the versions as batch leaves them. Actions due at
// the same time are judged on the same versions (removing one noncurrent
// version does not hurry another); the next round sees the result, so a
// delete marker left alone is removed in the same run if its rule says so.
//
// Transitions are not taken here: they move data, which is done outside
// the key's lock (see transition). applyLifecycle returns the transitions
// due once every expiration due is taken, one per version (to the
// coldest class due), so expiration beats transition.
func (s *Store) applyLifecycle(batch *index.Batch, versioning VersioningState, cfg *LifecycleConfig, versions []*versionRecord, now time.Time, rep *LifecycleReport) ([]*versionRecord, []lcAction) {
	state := versions
	// Each round removes a version or turns a live current version into
	// a delete marker, so the rounds end; the bound is a safety net.
	for range 2*len(versions) + 4 {
		expire := false
		remove := make(map[*versionRecord]lcKind)
		for _, a := range cfg.keyActions(state) {
			switch {
			case a.due.After(now), a.kind == lcTransition:
			case a.kind == lcExpireCurrent:
				expire = true
			default:
				remove[a.v] = a.kind
			}
		}
		switch {
		case expire:
			state = s.expireCurrent(batch, versioning, state, now, rep)
		case len(remove) > 0:
			kept := make([]*versionRecord, 0, len(state))
			for _, v := range state {
				kind, ok := remove[v]
				if !ok {
					kept = append(kept, v)
					continue
				}
				s.removeVersion(batch, v)
				if kind == lcRemoveMarker {
					rep.DeleteMarkersRemoved++
				} else {
					rep.NoncurrentRemoved++
				}
			}
			state = kept
		default:
			return state, dueTransitions(cfg.keyActions(state), now)
		}
	}
	return state, dueTransitions(cfg.keyActions(state), now)
}

// dueTransitions picks from acts the transitions due by now, one per
// version: to the coldest class due, so that an object whose 30-day and
// 90-day transitions are both due goes straight to the second.
func dueTransitions(acts []lcAction, now time.Time) []lcAction {
	var out []lcAction
	for _, a := range acts {
		if a.kind != lcTransition || a.due.After(now) {
			continue
		}
		found := false
		for i := range out {
			if out[i].v == a.v {
				found = true
				if classRank[a.class] > classRank[out[i].class] {
					out[i] = a
				}
			}
		}
		if !found {
			out = append(out, a)
		}
	}
	return out
}

// expireCurrent expires the current version of state, as Bucket.Delete
// without a version ID does: an unversioned bucket removes the object, a
// versioned one adds a delete marker, a suspended one adds a null delete
// marker that replaces the null version.
func (s *Store) expireCurrent(batch *index.Batch, versioning VersioningState, state []*versionRecord, now time.Time, rep *LifecycleReport) []*versionRecord {
	cur := state[0]
	batch.Delete(latestKey(cur.Bucket, cur.Key))
	if versioning == VersioningUnversioned {
		for _, v := range state {
			s.removeVersion(batch, v)
		}
		rep.Expired++
		return nil
	}
	marker := &versionRecord{Bucket: cur.Bucket, Key: cur.Key, DeleteMarker: true, LastModified: now}
	marker.Seq = s.nextSeq(cur.Seq)
	marker.VersionID = "null"
	if versioning == VersioningEnabled {
		marker.VersionID = makeVersionID(marker.Seq)
	}
	out := []*versionRecord{marker}
	replaced := false
	for _, v := range state {
		if marker.VersionID == "null" && v.VersionID == "null" && !replaced {
			s.removeVersion(batch, v)
			replaced = true
			continue
		}
		out = append(out, v)
	}
	batch.Set(versionKey(marker.Bucket, marker.Key, marker.Seq), marker.marshal())
	rep.DeleteMarkersAdded++
	return out
}

// lifecycleUpload evaluates one multipart upload under its lock and aborts
// it if a rule says so by now.
func (s *Store) lifecycleUpload(ctx context.Context, it lifecycleItem, now time.Time, rep *LifecycleReport) error {
	// Lock order: an upload's lock, then the buckets lock (as Complete).
	unlock := s.lockUpload(it.uploadID)
	defer unlock()
	s.buckets.RLock()
	defer s.buckets.RUnlock()
	var batch index.Batch
	batch.Delete(it.key)
	_, cfg, err := s.lifecycleConfigFor(ctx, it.bucket)
	if err != nil {
		return err
	}
	aborted := false
	if cfg != nil {
		v, err := s.idx.Get(ctx, uploadKey(it.bucket, it.objectKey, it.uploadID))
		switch {
		case errors.Is(err, index.ErrNotFound):
			// Completed or aborted since.
		case err != nil:
			return err
		default:
			urec, err := unmarshalUpload(v)
			if err != nil {
				return fmt.Errorf("cellar: upload %s: %w", it.uploadID, err)
			}
			due, ok := cfg.uploadDue(it.objectKey, urec.Initiated)
			switch {
			case !ok:
			case due.After(now):
				batch.Set(lifecycleUploadItem(due, it.bucket, it.objectKey, it.uploadID), nil)
			default:
				// Abort, as MultipartUpload.Abort does.
				u := &MultipartUpload{b: s.Bucket(it.bucket), key: it.objectKey, id: it.uploadID}
				parts, err := u.parts(ctx)
				if err != nil {
					return err
				}
				batch.Delete(uploadKey(it.bucket, it.objectKey, it.uploadID))
				for n, pr := range parts {
					batch.Delete(partKey(it.uploadID, n))
					s.queueDeletion(&batch, pr.Seg)
				}
				aborted = true
			}
		}
	}
	if err := s.apply(ctx, &batch); err != nil {
		return fmt.Errorf("cellar: lifecycle upload %s: %w", it.uploadID, err)
	}
	if aborted {
		rep.UploadsAborted++
	}
	return nil
}

// replanBucket queues the next lifecycle action of every key and upload
// of the bucket under its current rules, then removes the bucket's replan
// item if no newer SetLifecycle replaced it (nonce). Writes meanwhile plan
// themselves under the new rules; an item planned here from a version
// read just before it changed is stale and harmless.
func (s *Store) replanBucket(ctx context.Context, bucket, nonce string) error {
	_, cfg, err := s.lifecycleConfigFor(ctx, bucket)
	if err != nil {
		return err
	}
	if cfg != nil {
		if err := s.planKeys(ctx, bucket, cfg); err != nil {
			return err
		}
		if err := s.planUploads(ctx, bucket, cfg); err != nil {
			return err
		}
	}
	s.buckets.Lock()
	defer s.buckets.Unlock()
	item := lifecycleReplanItem(bucket)
	v, err := s.idx.Get(ctx, item)
	switch {
	case errors.Is(err, index.ErrNotFound):
		return nil
	case err != nil:
		return err
	case string(v) != nonce:
		return nil // a newer SetLifecycle plans again
	}
	var batch index.Batch
	batch.Delete(item)
	return s.idx.Apply(ctx, &batch)
}

// planBatchSize is how many items a plan commits at a time.
const planBatchSize = 1000

func (s *Store) planKeys(ctx context.Context, bucket string, cfg *LifecycleConfig) error {
	p := objectPrefix(spaceVersions, bucket)
	it, err := s.idx.NewIter(ctx, p, index.PrefixEnd(p))
	if err != nil {
		return err
	}
	defer it.Close()
	now := s.now()
	var batch index.Batch
	var versions []*versionRecord
	flush := func(force bool) error {
		if len(versions) > 0 {
			queueKey(&batch, cfg, bucket, versions[0].Key, versions, now)
			versions = versions[:0]
		}
		if batch.Len() >= planBatchSize || force && batch.Len() > 0 {
			if err := s.idx.Apply(ctx, &batch); err != nil {
				return err
			}
			batch.Reset()
		}
		return nil
	}
	for ok := it.First(); ok; ok = it.Next() {
		rec, err := unmarshalRecord(it.Value())
		if err != nil {
			return fmt.Errorf("cellar: lifecycle plan %s: %w", bucket, err)
		}
		if len(versions) > 0 && versions[0].Key != rec.Key {
			if err := flush(false); err != nil {
				return err
			}
		}
		versions = append(versions, rec)
	}
	if err := it.Error(); err != nil {
		return err
	}
	return flush(true)
}

func (s *Store) planUploads(ctx context.Context, bucket string, cfg *LifecycleConfig) error {
	p := objectPrefix(spaceUpload, bucket)
	it, err := s.idx.NewIter(ctx, p, index.PrefixEnd(p))
	if err != nil {
		return err
	}
	defer it.Close()
	var batch index.Batch
	for ok := it.First(); ok; ok = it.Next() {
		key, id, err := index.DecodeEscaped(it.Key()[len(p):])
		if err != nil {
			return fmt.Errorf("cellar: lifecycle plan %s: %w", bucket, err)
		}
		urec, err := unmarshalUpload(it.Value())
		if err != nil {
			return fmt.Errorf("cellar: lifecycle plan %s: upload %s: %w", bucket, id, err)
		}
		if due, ok := cfg.uploadDue(string(key), urec.Initiated); ok {
			batch.Set(lifecycleUploadItem(due, bucket, string(key), string(id)), nil)
		}
		if batch.Len() >= planBatchSize {
			if err := s.idx.Apply(ctx, &batch); err != nil {
				return err
			}
			batch.Reset()
		}
	}
	if err := it.Error(); err != nil {
		return err
	}
	if batch.Len() > 0 {
		return s.idx.Apply(ctx, &batch)
	}
	return nil
}

// lifecycleLoop runs RunLifecycle every Options.LifecycleInterval while
// the store is open.
func (s *Store) lifecycleLoop(ctx context.Context) {
	defer s.bg.Done()
	t := time.NewTicker(s.opts.LifecycleInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rep, err := s.RunLifecycle(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Warn("cellar: lifecycle run failed", "err", err)
		case !rep.empty():
			s.log.Info("cellar: lifecycle run", "expired", rep.Expired, "markersAdded", rep.DeleteMarkersAdded,
				"noncurrentRemoved", rep.NoncurrentRemoved, "markersRemoved", rep.DeleteMarkersRemoved,
				"uploadsAborted", rep.UploadsAborted, "failed", rep.Failed)
		}
	}
}
