package cellar

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cellarhq/cellar/index"
)

// Restore tiers, with S3's names.
const (
	RestoreTierExpedited = "Expedited"
	RestoreTierStandard  = "Standard"
	RestoreTierBulk      = "Bulk"
)

// DefaultRestoreTimes are the simulated retrieval times of a restore,
// by storage class and tier: S3's typical times. DEEP_ARCHIVE has no
// Expedited tier.
var DefaultRestoreTimes = map[string]map[string]time.Duration{
	StorageClassGlacier: {
		RestoreTierExpedited: 5 * time.Minute,
		RestoreTierStandard:  4 * time.Hour,
		RestoreTierBulk:      12 * time.Hour,
	},
	StorageClassDeepArchive: {
		RestoreTierStandard: 12 * time.Hour,
		RestoreTierBulk:     48 * time.Hour,
	},
}

func validTier(t string) bool {
	return t == RestoreTierExpedited || t == RestoreTierStandard || t == RestoreTierBulk
}

// RestoreOptions configure Bucket.Restore. A nil *RestoreOptions is
// refused: Days is required.
type RestoreOptions struct {
	// Days is how long the restored copy stays readable after the
	// restore completes, at least 1. The expiry is rounded up to the next
	// midnight UTC, as S3 does.
	Days int
	// Tier is RestoreTierStandard (the default when empty),
	// RestoreTierBulk or RestoreTierExpedited (GLACIER only).
	Tier string
	// VersionID restores that version instead of the current one.
	VersionID string
}

// RestoreStatus is an archived object's restore state (S3's
// x-amz-restore): Ongoing while the restore runs; then the restored copy
// is readable until Expiry.
type RestoreStatus struct {
	Ongoing bool
	Expiry  time.Time
}

// restoreStatus is rec's restore state at now: nil when never restored or
// when the restored copy has expired.
func restoreStatus(rec *versionRecord, now time.Time) *RestoreStatus {
	switch {
	case rec.RestoreDone.IsZero():
		return nil
	case now.Before(rec.RestoreDone):
		return &RestoreStatus{Ongoing: true}
	case now.Before(rec.RestoreExpiry):
		return &RestoreStatus{Expiry: rec.RestoreExpiry}
	}
	return nil
}

// checkReadable refuses to read the data of a GLACIER or DEEP_ARCHIVE
// version that is not restored now.
func (s *Store) checkReadable(rec *versionRecord) error {
	if !archived(rec.StorageClass) {
		return nil
	}
	if st := restoreStatus(rec, s.now()); st != nil && !st.Ongoing {
		return nil
	}
	return fmt.Errorf("%w: %s/%s is in storage class %s and not restored: the operation is not valid for the object's storage class",
		ErrInvalidObjectState, rec.Bucket, rec.Key, rec.StorageClass)
}

// Restore starts a restore of an archived (GLACIER or DEEP_ARCHIVE)
// version, as S3's RestoreObject does. The restored copy becomes readable
// after the class and tier's retrieval time (Options.RestoreTimes) by the
// store's clock, and stays readable until Days after that, rounded up to
// the next midnight UTC. Head shows the state (ObjectInfo.Restore).
//
// A version that is not archived is ErrInvalidObjectState; a restore
// still running is ErrRestoreAlreadyInProgress; Days < 1, an unknown
// tier and Expedited for DEEP_ARCHIVE are ErrInvalidArgument. Restoring a
// version already restored sets its expiry to Days after now (S3 answers
// that with 200 rather than 202: a caller that needs to tell calls Head
// first).
func (b *Bucket) Restore(ctx context.Context, key string, opts *RestoreOptions) error {
	s := b.s
	if err := s.check(); err != nil {
		return err
	}
	if err := ValidKey(key); err != nil {
		return err
	}
	if opts == nil {
		return fmt.Errorf("%w: RestoreOptions with Days are required", ErrInvalidArgument)
	}
	if opts.Days < 1 {
		return fmt.Errorf("%w: RestoreOptions.Days %d: a restore lasts at least 1 day", ErrInvalidArgument, opts.Days)
	}
	tier := opts.Tier
	if tier == "" {
		tier = RestoreTierStandard
	}
	if !validTier(tier) {
		return fmt.Errorf("%w: RestoreOptions.Tier %q: want %s, %s or %s", ErrInvalidArgument, opts.Tier, RestoreTierStandard, RestoreTierBulk, RestoreTierExpedited)
	}
	var gopts *GetOptions
	if opts.VersionID != "" {
		gopts = &GetOptions{VersionID: opts.VersionID}
	}
	defer s.lockKey(b.name, key)()
	rec, err := b.resolve(ctx, key, gopts)
	if err != nil {
		return err
	}
	if !archived(rec.StorageClass) {
		return fmt.Errorf("%w: %s/%s is in storage class %s: only %s and %s objects are restored",
			ErrInvalidObjectState, b.name, key, recordClass(rec.StorageClass), StorageClassGlacier, StorageClassDeepArchive)
	}
	delay, ok := s.opts.RestoreTimes[rec.StorageClass][tier]
	if !ok {
		return fmt.Errorf("%w: the %s tier is not available for storage class %s", ErrInvalidArgument, tier, rec.StorageClass)
	}
	now := s.now()
	st := restoreStatus(rec, now)
	switch {
	case st != nil && st.Ongoing:
		return fmt.Errorf("%w: %s/%s", ErrRestoreAlreadyInProgress, b.name, key)
	case st != nil:
		rec.RestoreExpiry = lifecycleDay(now, opts.Days)
	default:
		rec.RestoreDone = now.Add(delay)
		rec.RestoreExpiry = lifecycleDay(rec.RestoreDone, opts.Days)
	}
	return s.rewriteRecord(ctx, rec)
}

// rewriteRecord writes a changed record of an existing version (and the
// latest pointer, if the version is current) in one index batch. The
// caller holds the key's lock.
func (s *Store) rewriteRecord(ctx context.Context, rec *versionRecord) error {
	current := false
	v, err := s.idx.Get(ctx, latestKey(rec.Bucket, rec.Key))
	switch {
	case err == nil:
		cur, err := unmarshalRecord(v)
		if err != nil {
			return err
		}
		current = cur.Seq == rec.Seq
	case !errors.Is(err, index.ErrNotFound):
		return err
	}
	enc := rec.marshal()
	var batch index.Batch
	// INVARIANT: the latest pointer holds the same record as the current
	// version's entry in the versions space.
	batch.Set(versionKey(rec.Bucket, rec.Key, rec.Seq), enc)
	if current {
		batch.Set(latestKey(rec.Bucket, rec.Key), enc)
	}
	return s.apply(ctx, &batch)
}
