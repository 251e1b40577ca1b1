package cellar

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/cellarhq/cellar/erasure"
	"github.com/cellarhq/cellar/index"
)

// metaFix is one repair of the zone metadata: a record to write to every
// zone, or a name to remove from every zone.
type metaFix struct {
	write  *metaRecord
	remove string
	// copyOf, with zone, removes one zone's unreadable copy.
	copyOf string
	zone   int
}

// metaDiff compares the zone metadata records with the index (r): every
// bucket, every version whose record is not in its data's trailers (delete
// markers, completed multipart uploads, changed tags) and every data set
// queued for deletion must have its record on every zone; no record may
// describe what the index does not hold, and tombstones whose data is gone
// are stale. It returns what is wrong and what fixes it. With a zone that
// cannot be listed it compares nothing: a missing record may be there.
//
// A record that agrees with the index but is missing or unreadable on
// some zone is degraded, not a problem: it is returned in degraded, to be
// queued for Heal, as a shard that missed a write is.
func (s *Store) metaDiff(ctx context.Context, r index.Reader) (problems []string, fixes []metaFix, degraded []metaHealItem, err error) {
	zm, err := s.loadZoneMeta(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, u := range zm.unreadableCopies {
		if zm.best[u.name] == nil {
			problems = append(problems, fmt.Sprintf("zone %d: metadata record %s unreadable on every zone", u.zone, u.name))
			fixes = append(fixes, metaFix{copyOf: u.name, zone: u.zone})
		}
	}
	if len(zm.unreachable) > 0 {
		return problems, nil, nil, nil
	}
	zones := len(s.zones)
	gen := s.nextSeq(0)
	seen := map[string]bool{}
	// want checks that name holds m on every zone.
	want := func(what string, m *metaRecord, ikey []byte) {
		name := m.name()
		seen[name] = true
		best := zm.best[name]
		switch {
		case best == nil:
			problems = append(problems, fmt.Sprintf("%s: zone metadata record %s missing", what, name))
		case best.Removed != m.Removed || !bytes.Equal(best.Body, m.Body), zm.live[name] < zones:
			// Disagreeing: left by a change whose index commit failed
			// or was cut short; short of zones: a write that missed
			// one, a zone replaced. Heal writes it from the index.
			degraded = append(degraded, metaHealItem{name: name, ikey: append([]byte(nil), ikey...)})
			return
		default:
			return
		}
		m.Gen = gen
		fixes = append(fixes, metaFix{write: m})
	}

	err = scan(ctx, r, spaceBucket, func(k, v []byte) error {
		name, _, err := index.DecodeEscaped(k[1:])
		if err != nil {
			return err
		}
		want("bucket "+string(name), &metaRecord{Kind: metaKindBucket, Bucket: string(name), Body: bytes.Clone(v)}, k)
		return nil
	})
	if err != nil {
		return nil, nil, nil, err
	}
	err = scan(ctx, r, spaceVersions, func(k, v []byte) error {
		rec, err := unmarshalRecord(v)
		if err != nil {
			return nil // Check reports it
		}
		name := versionMetaName(rec.Bucket, rec.Key, rec.Seq)
		if zm.best[name] == nil && !rec.DeleteMarker && s.inTrailer(ctx, rec, v) {
			seen[name] = true
			return nil
		}
		want(fmt.Sprintf("%s/%s version %s", rec.Bucket, rec.Key, rec.VersionID),
			&metaRecord{Kind: metaKindVersion, Bucket: rec.Bucket, Key: rec.Key, Seq: rec.Seq, Body: bytes.Clone(v)}, k)
		return nil
	})
	if err != nil {
		return nil, nil, nil, err
	}
	garbage := map[string]bool{}
	err = scan(ctx, r, spaceGarbage, func(k, v []byte) error {
		seg, err := unmarshalSegment(v)
		if err != nil {
			return nil // Sweep drops it
		}
		garbage[seg.DataID] = true
		want("data "+seg.DataID+" queued for deletion", &metaRecord{Kind: metaKindGarbage, Body: bytes.Clone(v)}, k)
		return nil
	})
	if err != nil {
		return nil, nil, nil, err
	}
	// Records on the zones that the index does not hold: left by a
	// change whose index commit failed or was cut short by a crash, or by
	// a removal that missed a zone. Heal writes what the index says: a
	// bucket's removal, a version's tombstone (then removes it), and
	// removes a garbage tombstone of data the index does not queue.
	for name, m := range zm.best {
		if seen[name] {
			continue
		}
		switch m.Kind {
		case metaKindBucket:
			if !m.Removed {
				degraded = append(degraded, metaHealItem{name: name, ikey: bucketKey(m.Bucket)})
			}
		case metaKindVersion:
			degraded = append(degraded, metaHealItem{name: name, ikey: versionKey(m.Bucket, m.Key, m.Seq)})
		case metaKindGarbage:
			degraded = append(degraded, metaHealItem{name: name})
		}
	}
	return problems, fixes, degraded, nil
}

// inTrailer reports whether a shard trailer of the version's data holds
// exactly the record enc, so that no zone metadata record is needed.
func (s *Store) inTrailer(ctx context.Context, rec *versionRecord, enc []byte) bool {
	if len(rec.Segments) == 0 {
		return false
	}
	seg := rec.Segments[0]
	for shard, zone := range seg.Placement {
		if zone >= len(s.zones) {
			continue
		}
		_, t, err := erasure.ReadHeaderTrailer(ctx, s.zones[zone], erasure.BlobName(seg.DataID, shard))
		if err == nil {
			return bytes.Equal(t.Record, enc)
		}
	}
	return false
}

// scan calls fn for every key of space. k and v are valid only during the
// call: fn copies what it keeps.
func scan(ctx context.Context, r index.Reader, space byte, fn func(k, v []byte) error) error {
	it, err := r.NewIter(ctx, []byte{space}, []byte{space + 1})
	if err != nil {
		return err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		if err := fn(it.Key(), it.Value()); err != nil {
			return err
		}
	}
	return it.Error()
}

// RepairMeta makes the zone metadata records agree with the index, as
// Check compares them: it writes missing, disagreeing and degraded records
// to every zone from the index, turns records of what the index does not
// hold into removals, and removes stale tombstones and unreadable copies.
// It holds bucket and object commits off while it compares and writes,
// and returns how many records it fixed; with a zone that cannot be
// listed it fixes nothing, and a record it cannot write to every zone is
// an error (it stays queued for Heal). cellar fsck --repair runs it.
func (s *Store) RepairMeta(ctx context.Context) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	s.reprobeOffline(ctx)
	n, degraded, err := s.repairMeta(ctx)
	if err != nil {
		return n, err
	}
	if err := s.queueMetaHeal(ctx, degraded); err != nil {
		return n, err
	}
	done, pending, err := s.healMeta(ctx)
	n += done
	if err == nil && pending > 0 {
		err = fmt.Errorf("cellar: %d zone metadata records could not be written to every zone", pending)
	}
	return n, err
}

func (s *Store) repairMeta(ctx context.Context) (int, []metaHealItem, error) {
	s.buckets.Lock()
	defer s.buckets.Unlock()
	_, fixes, degraded, err := s.metaDiff(ctx, s.idx)
	if err != nil {
		return 0, nil, err
	}
	n := 0
	for _, f := range fixes {
		switch {
		case f.write != nil:
			err = s.putMetaAll(ctx, f.write)
		case f.copyOf != "":
			err = s.zones[f.zone].Delete(ctx, f.copyOf)
		default:
			err = s.deleteMeta(ctx, f.remove)
		}
		if err != nil {
			return n, nil, err
		}
		n++
	}
	return n, degraded, nil
}

// metaHealItem is a zone metadata record to write again to every zone
// from the index key it mirrors.
type metaHealItem struct {
	name string
	ikey []byte
}

// queueMetaHeal queues records for healMeta.
func (s *Store) queueMetaHeal(ctx context.Context, items []metaHealItem) error {
	if len(items) == 0 {
		return nil
	}
	var b index.Batch
	for _, it := range items {
		b.Set(metaHealKey(it.name), it.ikey)
	}
	return s.idx.Apply(ctx, &b)
}

// scrubMeta queues for Heal every zone metadata record missing or
// unreadable on some zone (a zone replaced by an empty one, a damaged
// blob).
func (s *Store) scrubMeta(ctx context.Context) (int, error) {
	_, _, degraded, err := s.metaDiff(ctx, s.idx)
	if err != nil {
		return 0, err
	}
	return len(degraded), s.queueMetaHeal(ctx, degraded)
}

// putMetaAll writes one record to every zone; any zone failing is an error.
func (s *Store) putMetaAll(ctx context.Context, m *metaRecord) error {
	var errs []error
	for zi, z := range s.zones {
		if err := writeBlob(ctx, z, m.name(), m.marshal()); err != nil {
			errs = append(errs, fmt.Errorf("zone %d: %w", zi, err))
		}
	}
	return errors.Join(errs...)
}
