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
func (s *Store) metaDiff(ctx context.Context, r index.Reader) ([]string, []metaFix, error) {
	zm, err := s.loadZoneMeta(ctx)
	if err != nil {
		return nil, nil, err
	}
	problems := append([]string(nil), zm.problems...)
	var fixes []metaFix
	for _, u := range zm.unreadableCopies {
		fixes = append(fixes, metaFix{copyOf: u.name, zone: u.zone})
	}
	if len(zm.unreachable) > 0 {
		return problems, nil, nil
	}
	zones := len(s.zones)
	gen := s.nextSeq(0)
	seen := map[string]bool{}
	// want checks that name holds m on every zone.
	want := func(what string, m *metaRecord) {
		name := m.name()
		seen[name] = true
		best := zm.best[name]
		switch {
		case best == nil:
			problems = append(problems, fmt.Sprintf("%s: zone metadata record %s missing", what, name))
		case best.Removed != m.Removed || !bytes.Equal(best.Body, m.Body):
			problems = append(problems, fmt.Sprintf("%s: zone metadata record %s disagrees with the index", what, name))
		case zm.copies[name] < zones || (!m.Removed && zm.live[name] < zones):
			problems = append(problems, fmt.Sprintf("%s: zone metadata record %s on %d of %d zones", what, name, zm.live[name], zones))
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
		want("bucket "+string(name), &metaRecord{Kind: metaKindBucket, Bucket: string(name), Body: v})
		return nil
	})
	if err != nil {
		return nil, nil, err
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
			&metaRecord{Kind: metaKindVersion, Bucket: rec.Bucket, Key: rec.Key, Seq: rec.Seq, Body: v})
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	garbage := map[string]bool{}
	err = scan(ctx, r, spaceGarbage, func(k, v []byte) error {
		seg, err := unmarshalSegment(v)
		if err != nil {
			return nil // Sweep drops it
		}
		garbage[seg.DataID] = true
		want("data "+seg.DataID+" queued for deletion", &metaRecord{Kind: metaKindGarbage, Body: v})
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	referenced := func(id string) (bool, error) {
		if garbage[id] {
			return true, nil
		}
		_, err := r.Get(ctx, dataRefKey(id))
		if errors.Is(err, index.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	}

	// Records on the zones that the index does not hold.
	for name, m := range zm.best {
		if seen[name] {
			continue
		}
		switch m.Kind {
		case metaKindBucket:
			if !m.Removed {
				problems = append(problems, fmt.Sprintf("bucket %s: zone metadata record %s of a bucket the index does not have", m.Bucket, name))
				fixes = append(fixes, metaFix{write: &metaRecord{Kind: metaKindBucket, Gen: gen, Bucket: m.Bucket, Removed: true}})
			}
		case metaKindVersion:
			if !m.Removed {
				problems = append(problems, fmt.Sprintf("%s/%s: zone metadata record %s of a version the index does not have", m.Bucket, m.Key, name))
				t := &metaRecord{Kind: metaKindVersion, Gen: gen, Bucket: m.Bucket, Key: m.Key, Seq: m.Seq, Removed: true}
				if rec, err := unmarshalRecord(m.Body); err == nil {
					t = versionTombstone(rec)
					t.Gen = gen
				}
				fixes = append(fixes, metaFix{write: t})
				continue
			}
			inUse := false
			for _, id := range m.DataIDs {
				ok, err := referenced(id)
				if err != nil {
					return nil, nil, err
				}
				inUse = inUse || ok
			}
			if inUse {
				continue // the tombstone still covers data on the zones
			}
			problems = append(problems, fmt.Sprintf("%s/%s: stale tombstone %s", m.Bucket, m.Key, name))
			if zm.live[name] == 0 {
				fixes = append(fixes, metaFix{remove: name})
			} else {
				// A zone still has the live record: make every copy a
				// tombstone first; a later repair removes them.
				t := *m
				t.Gen = gen
				fixes = append(fixes, metaFix{write: &t})
			}
		case metaKindGarbage:
			id := dataIDOfGarbageName(name)
			if _, err := r.Get(ctx, dataRefKey(id)); err == nil {
				problems = append(problems, fmt.Sprintf("data %s: tombstone on data the index still references", id))
			} else if errors.Is(err, index.ErrNotFound) {
				problems = append(problems, fmt.Sprintf("data %s: stale tombstone (data already swept)", id))
			} else {
				return nil, nil, err
			}
			fixes = append(fixes, metaFix{remove: name})
		}
	}
	return problems, fixes, nil
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
// Check compares them: it writes missing and disagreeing records to every
// zone, turns records of what the index does not hold into tombstones,
// and removes stale tombstones and unreadable records. It holds every
// commit off while it runs and returns how many records it fixed; with a
// zone that cannot be listed it fixes nothing. cellar fsck --repair runs
// it.
func (s *Store) RepairMeta(ctx context.Context) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	s.reprobeOffline(ctx)
	s.buckets.Lock()
	defer s.buckets.Unlock()
	_, fixes, err := s.metaDiff(ctx, s.idx)
	if err != nil {
		return 0, err
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
			return n, err
		}
		n++
	}
	return n, nil
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
