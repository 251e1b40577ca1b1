package cellar

import (
	"context"
	"time"
)

// IntelligentTieringIdle is how long an INTELLIGENT_TIERING object goes
// unread before it is in the infrequent access tier, as S3 moves it after
// 30 consecutive days without access.
const IntelligentTieringIdle = 30 * 24 * time.Hour

// accessTier is an INTELLIGENT_TIERING version's access tier at now:
// TierInfrequent once IntelligentTieringIdle has passed since it was last
// read (or written), TierFrequent before. Other classes have no tier.
func accessTier(rec *versionRecord, now time.Time) string {
	if rec.StorageClass != StorageClassIntelligentTiering {
		return ""
	}
	last := rec.LastModified
	if rec.LastAccess.After(last) {
		last = rec.LastAccess
	}
	if now.Sub(last) >= IntelligentTieringIdle {
		return TierInfrequent
	}
	return TierFrequent
}

// touch records that an INTELLIGENT_TIERING version was read, which moves
// it back to the frequent tier. It writes the index at most once a day
// per version (when the day of the last access changes), so reads stay
// reads; the tier is therefore known to within a day. A failure is only
// logged: the read goes on.
func (s *Store) touch(ctx context.Context, rec *versionRecord) {
	if rec.StorageClass != StorageClassIntelligentTiering {
		return
	}
	now := s.now()
	if !rec.LastAccess.IsZero() && sameDay(rec.LastAccess, now) || sameDay(rec.LastModified, now) && rec.LastAccess.IsZero() {
		return
	}
	unlock := s.lockKey(rec.Bucket, rec.Key)
	defer unlock()
	cur, err := s.idx.Get(ctx, versionKey(rec.Bucket, rec.Key, rec.Seq))
	if err != nil {
		return // gone since
	}
	v, err := unmarshalRecord(cur)
	if err != nil || v.VersionID != rec.VersionID || v.StorageClass != StorageClassIntelligentTiering {
		return
	}
	v.LastAccess = now
	if err := s.rewriteRecord(ctx, v); err != nil {
		s.log.Warn("cellar: record an intelligent-tiering access", "bucket", rec.Bucket, "key", rec.Key, "err", err)
	}
}

func sameDay(a, b time.Time) bool {
	a, b = a.UTC(), b.UTC()
	return a.Year() == b.Year() && a.YearDay() == b.YearDay()
}
