package cellar

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/zeebo/blake3"

	"github.com/cellarhq/cellar/backend"
	"github.com/cellarhq/cellar/index"
)

// Zone metadata records: small blobs under "meta/" on every zone that,
// with the version records in the shard trailers, let RebuildIndex make
// the index again from the zones alone. See doc.go, "Index rebuild".
//
//	meta/b/<bucket>                  bucket record (JSON) or its removal
//	meta/v/<seq 16 hex>-<16 hex>     version record or its removal (tombstone);
//	                                 the suffix is BLAKE3(bucket 0x00 key)
//	meta/g/<dataID>                  data set queued for deletion (tombstone)
//
// A blob is metaFormat, then tagged fields as in record.go, then the
// BLAKE3-256 of everything before it.
const (
	metaPrefix        = "meta/"
	metaBucketPrefix  = "meta/b/"
	metaVersionPrefix = "meta/v/"
	metaGarbagePrefix = "meta/g/"

	metaFormat = 0x91

	metaKindBucket  = 'b'
	metaKindVersion = 'v'
	metaKindGarbage = 'g'

	// maxMetaSize bounds a meta blob read from a zone.
	maxMetaSize = 1 << 20
)

// Field tags of a meta record. Never reuse a number.
const (
	mtTagKind = iota + 1
	mtTagGen
	mtTagRemoved
	mtTagBucket
	mtTagKey
	mtTagSeq
	mtTagBody
	mtTagDataID // repeated
)

var errBadMeta = errors.New("cellar: corrupt zone metadata record")

// metaRecord is one zone metadata record.
type metaRecord struct {
	Kind byte
	// Gen orders writes of the same name: the record with the highest
	// Gen wins (a removal wins a tie).
	Gen     uint64
	Removed bool
	Bucket  string // bucket and version records
	Key     string // version records
	Seq     uint64 // version records
	// Body is the bucket record's JSON, the version record, or the
	// garbage data set's segment. Removed records have none, except a
	// garbage record, which is itself the removal of its data.
	Body []byte
	// DataIDs names the data of a removed version.
	DataIDs []string

	ikey []byte // the index key the record mirrors; not encoded
}

func (m *metaRecord) name() string {
	switch m.Kind {
	case metaKindBucket:
		return metaBucketPrefix + m.Bucket
	case metaKindVersion:
		return versionMetaName(m.Bucket, m.Key, m.Seq)
	}
	seg, err := unmarshalSegment(m.Body)
	if err != nil {
		return ""
	}
	return metaGarbagePrefix + seg.DataID
}

func versionMetaName(bucket, key string, seq uint64) string {
	h := blake3.New()
	h.Write([]byte(bucket))
	h.Write([]byte{0})
	h.Write([]byte(key))
	var sum [32]byte
	h.Sum(sum[:0])
	return fmt.Sprintf("%s%016x-%s", metaVersionPrefix, seq, hex.EncodeToString(sum[:8]))
}

func (m *metaRecord) marshal() []byte {
	w := recWriter{b: []byte{metaFormat}}
	w.uint(mtTagKind, uint64(m.Kind))
	w.uint(mtTagGen, m.Gen)
	if m.Removed {
		w.uint(mtTagRemoved, 1)
	}
	w.str(mtTagBucket, m.Bucket)
	w.str(mtTagKey, m.Key)
	w.uint(mtTagSeq, m.Seq)
	if len(m.Body) > 0 {
		w.bytes(mtTagBody, m.Body)
	}
	for _, id := range m.DataIDs {
		w.str(mtTagDataID, id)
	}
	sum := blake3.Sum256(w.b)
	return append(w.b, sum[:]...)
}

// parseMeta decodes a meta blob read from a zone under name. It checks the
// hash, the fields, and that the record belongs under that name.
func parseMeta(name string, b []byte) (*metaRecord, error) {
	if len(b) < 1+32 || b[0] != metaFormat {
		return nil, fmt.Errorf("%w: %s: unknown format", errBadMeta, name)
	}
	body, sum := b[:len(b)-32], b[len(b)-32:]
	if want := blake3.Sum256(body); !bytes.Equal(want[:], sum) {
		return nil, fmt.Errorf("%w: %s: hash mismatch", errBadMeta, name)
	}
	m := &metaRecord{}
	err := fields(body[1:], func(tag uint64, v []byte) error {
		var err error
		switch tag {
		case mtTagKind:
			var k int
			k, err = smallInt(v, 255)
			m.Kind = byte(k)
		case mtTagGen:
			m.Gen, err = uvarint(v)
		case mtTagRemoved:
			m.Removed = true
		case mtTagBucket:
			m.Bucket = string(v)
		case mtTagKey:
			m.Key = string(v)
		case mtTagSeq:
			m.Seq, err = uvarint(v)
		case mtTagBody:
			m.Body = append([]byte(nil), v...)
		case mtTagDataID:
			m.DataIDs = append(m.DataIDs, string(v))
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", errBadMeta, name, err)
	}
	switch m.Kind {
	case metaKindBucket:
		if ValidBucketName(m.Bucket) != nil || (!m.Removed && len(m.Body) == 0) {
			return nil, fmt.Errorf("%w: %s: bad bucket record", errBadMeta, name)
		}
	case metaKindVersion:
		if !m.Removed {
			rec, err := unmarshalRecord(m.Body)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %w", errBadMeta, name, err)
			}
			if rec.Bucket != m.Bucket || rec.Key != m.Key || rec.Seq != m.Seq {
				return nil, fmt.Errorf("%w: %s: version record of another version", errBadMeta, name)
			}
		}
	case metaKindGarbage:
		if _, err := unmarshalSegment(m.Body); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", errBadMeta, name, err)
		}
	default:
		return nil, fmt.Errorf("%w: %s: unknown kind %d", errBadMeta, name, m.Kind)
	}
	if m.name() != name {
		return nil, fmt.Errorf("%w: %s: record belongs under %q", errBadMeta, name, m.name())
	}
	return m, nil
}

// newer reports whether a wins over b for the same name.
func (a *metaRecord) newer(b *metaRecord) bool {
	if a.Gen != b.Gen {
		return a.Gen > b.Gen
	}
	return a.Removed && !b.Removed
}

// metaQuorum is how many zones must take a meta record: a majority, so
// that losing any one zone of three keeps every record.
func (s *Store) metaQuorum() int { return len(s.zones)/2 + 1 }

// apply commits an index batch after writing the zone metadata records it
// implies (see metaFor). Every change of bucket, version and garbage keys
// goes through it. trailer, if set, is the version record just committed
// in a data set's shard trailers: a version record equal to it needs no
// meta record, which keeps a plain Put free of extra zone writes.
func (s *Store) apply(ctx context.Context, b *index.Batch) error {
	return s.applyWith(ctx, b, nil)
}

func (s *Store) applyWith(ctx context.Context, b *index.Batch, trailer []byte) error {
	recs, err := s.metaFor(ctx, b, trailer)
	if err != nil {
		return err
	}
	// INVARIANT: each zone takes a batch's live records before its
	// removals (putMeta writes them in order, zone by zone). A process
	// killed part way then leaves no zone with the removal of a replaced
	// version, or the tombstone of its data, without the record that
	// replaced it, and a rebuild, which takes what any zone holds, cannot
	// lose the key.
	slices.SortStableFunc(recs, func(a, b *metaRecord) int {
		switch ra, rb := a.removal(), b.removal(); {
		case ra == rb:
			return 0
		case rb:
			return -1
		default:
			return 1
		}
	})
	var missed []*metaRecord
	if len(recs) > 0 {
		missed, err = s.putMeta(ctx, recs)
		if err != nil {
			s.resyncMeta(context.WithoutCancel(ctx), recs)
			return err
		}
		// Records that missed a zone are written again by Heal.
		for _, m := range missed {
			b.Set(metaHealKey(m.name()), m.ikey)
		}
	}
	if err := s.idx.Apply(ctx, b); err != nil {
		if len(recs) > 0 {
			s.resyncMeta(context.WithoutCancel(ctx), recs)
		}
		return err
	}
	// A version tombstone that every zone took has done its work: every
	// copy of the version's record is now a tombstone, and the data's
	// trailers are covered by garbage tombstones until swept. It goes
	// now; one left by a crash here is stale, and RepairMeta removes it.
	for _, m := range recs {
		if m.Kind == metaKindVersion && m.Removed && !slices.Contains(missed, m) {
			if err := s.deleteMeta(context.WithoutCancel(ctx), m.name()); err != nil {
				s.log.Warn("cellar: version tombstone not removed from every zone; queued for healing", "record", m.name(), "err", err)
				var hb index.Batch
				hb.Set(metaHealKey(m.name()), m.ikey)
				if err := s.idx.Apply(context.WithoutCancel(ctx), &hb); err != nil {
					s.log.Warn("cellar: queueing a metadata record for healing failed", "record", m.name(), "err", err)
				}
			}
		}
	}
	return nil
}

// metaFor returns the zone records that a batch implies: a bucket record
// or its removal for each B key, a version record for each V key set to a
// record not in trailer, a tombstone for each V key deleted, and a garbage
// tombstone for each G key set. Later operations on a key win.
func (s *Store) metaFor(ctx context.Context, b *index.Batch, trailer []byte) ([]*metaRecord, error) {
	last := make(map[string]int)
	for i, op := range b.Ops {
		if len(op.Key) > 0 {
			switch op.Key[0] {
			case spaceBucket, spaceVersions, spaceGarbage:
				last[string(op.Key)] = i
			}
		}
	}
	if len(last) == 0 {
		return nil, nil
	}
	var recs []*metaRecord
	gen := s.nextSeq(0)
	for i, op := range b.Ops {
		if last[string(op.Key)] != i || len(op.Key) == 0 {
			continue
		}
		m, err := s.metaForOp(ctx, op, trailer)
		if err != nil {
			return nil, err
		}
		if m != nil {
			m.Gen = gen
			m.ikey = op.Key
			recs = append(recs, m)
		}
	}
	return recs, nil
}

func (s *Store) metaForOp(ctx context.Context, op index.Op, trailer []byte) (*metaRecord, error) {
	switch op.Key[0] {
	case spaceBucket:
		name, _, err := index.DecodeEscaped(op.Key[1:])
		if err != nil {
			return nil, err
		}
		if op.Kind == index.OpDelete {
			return &metaRecord{Kind: metaKindBucket, Bucket: string(name), Removed: true}, nil
		}
		return &metaRecord{Kind: metaKindBucket, Bucket: string(name), Body: op.Value}, nil
	case spaceVersions:
		if op.Kind == index.OpSet {
			if trailer != nil && bytes.Equal(op.Value, trailer) {
				return nil, nil
			}
			rec, err := unmarshalRecord(op.Value)
			if err != nil {
				return nil, err
			}
			return &metaRecord{Kind: metaKindVersion, Bucket: rec.Bucket, Key: rec.Key, Seq: rec.Seq, Body: op.Value}, nil
		}
		v, err := s.idx.Get(ctx, op.Key)
		if errors.Is(err, index.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		rec, err := unmarshalRecord(v)
		if err != nil {
			return nil, err
		}
		return versionTombstone(rec), nil
	case spaceGarbage:
		if op.Kind == index.OpSet {
			return &metaRecord{Kind: metaKindGarbage, Body: op.Value}, nil
		}
	}
	return nil, nil
}

// removal reports whether m takes something away: a bucket's or a
// version's removal, or the tombstone of data queued for deletion.
func (m *metaRecord) removal() bool { return m.Removed || m.Kind == metaKindGarbage }

func versionTombstone(rec *versionRecord) *metaRecord {
	m := &metaRecord{Kind: metaKindVersion, Bucket: rec.Bucket, Key: rec.Key, Seq: rec.Seq, Removed: true}
	for _, seg := range rec.Segments {
		m.DataIDs = append(m.DataIDs, seg.DataID)
	}
	return m
}

// putMeta writes records to every zone at once; each must reach
// metaQuorum zones. It returns the records that missed a zone.
func (s *Store) putMeta(ctx context.Context, recs []*metaRecord) ([]*metaRecord, error) {
	ok := make([]int, len(recs))
	var mu sync.Mutex
	var wg sync.WaitGroup
	var errs []error
	for zi, z := range s.zones {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, m := range recs {
				err := writeBlob(ctx, z, m.name(), m.marshal())
				mu.Lock()
				if err == nil {
					ok[i]++
				} else {
					errs = append(errs, fmt.Errorf("zone %d: %w", zi, err))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	var missed []*metaRecord
	for i, n := range ok {
		if n < s.metaQuorum() {
			return nil, fmt.Errorf("%w: metadata record %s reached %d zones, need %d: %w", ErrQuorum, recs[i].name(), n, s.metaQuorum(), errors.Join(errs...))
		}
		if n < len(s.zones) {
			missed = append(missed, recs[i])
		}
	}
	if len(errs) > 0 {
		s.log.Warn("cellar: metadata record missed zones; queued for healing", "err", errors.Join(errs...))
	}
	return missed, nil
}

func writeBlob(ctx context.Context, z backend.Backend, name string, b []byte) error {
	w, err := z.Create(ctx, name)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		w.Abort()
		return err
	}
	return w.Commit()
}

func readBlob(ctx context.Context, z backend.Backend, name string) ([]byte, error) {
	r, err := z.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if r.Size() > maxMetaSize {
		return nil, fmt.Errorf("%w: %s is %d bytes", errBadMeta, name, r.Size())
	}
	b := make([]byte, r.Size())
	if _, err := r.ReadAt(b, 0); err != nil && !(err == io.EOF && len(b) == int(r.Size())) {
		return nil, err
	}
	return b, nil
}

// deleteMeta removes a meta blob from every zone. A blob already gone is
// fine; it fails if any zone could not be reached.
func (s *Store) deleteMeta(ctx context.Context, name string) error {
	var errs []error
	for zi, z := range s.zones {
		if err := z.Delete(ctx, name); err != nil && !errors.Is(err, backend.ErrNotExist) {
			errs = append(errs, fmt.Errorf("zone %d: %w", zi, err))
		}
	}
	return errors.Join(errs...)
}

// resyncMeta rewrites the records of a batch whose commit failed (or
// whose records missed quorum) from what the index holds now, so that the
// zones agree with the index again. It is best effort: what it cannot
// fix, Check reports and RepairMeta fixes.
func (s *Store) resyncMeta(ctx context.Context, recs []*metaRecord) {
	var fix []*metaRecord
	gen := s.nextSeq(0)
	for _, m := range recs {
		v, err := s.idx.Get(ctx, m.ikey)
		found := err == nil
		if err != nil && !errors.Is(err, index.ErrNotFound) {
			s.log.Warn("cellar: metadata resync: index read failed", "err", err)
			continue
		}
		switch m.Kind {
		case metaKindGarbage:
			if !found {
				if err := s.deleteMeta(ctx, m.name()); err != nil {
					s.log.Warn("cellar: metadata resync failed", "record", m.name(), "err", err)
				}
			}
			continue
		case metaKindBucket:
			n := &metaRecord{Kind: m.Kind, Bucket: m.Bucket, Removed: !found, Body: v}
			fix = append(fix, n)
		case metaKindVersion:
			if found {
				fix = append(fix, &metaRecord{Kind: m.Kind, Bucket: m.Bucket, Key: m.Key, Seq: m.Seq, Body: v})
			} else {
				fix = append(fix, &metaRecord{Kind: m.Kind, Bucket: m.Bucket, Key: m.Key, Seq: m.Seq, Removed: true, DataIDs: m.DataIDs})
			}
		}
	}
	for _, m := range fix {
		m.Gen = gen
		if m.Removed {
			m.Body = nil
		}
	}
	if len(fix) > 0 {
		if _, err := s.putMeta(ctx, fix); err != nil {
			s.log.Warn("cellar: metadata resync failed", "err", err)
		}
	}
}

// zoneMeta is every meta record found on the zones: for each name the
// winning record and how its copies look.
type zoneMeta struct {
	best map[string]*metaRecord
	// copies counts the zones holding a readable copy of each name;
	// live counts those whose copy is not a removal; agree counts those
	// whose copy is the winning record itself.
	copies, live, agree map[string]int
	unreadable          int
	// unreadableCopies names the copies that could not be read.
	unreadableCopies []zoneCopy
	unreachable      []int
	problems         []string
}

type zoneCopy struct {
	zone int
	name string
}

// loadZoneMeta reads every meta record of every zone.
func (s *Store) loadZoneMeta(ctx context.Context) (*zoneMeta, error) {
	zm := &zoneMeta{best: map[string]*metaRecord{}, copies: map[string]int{}, live: map[string]int{}, agree: map[string]int{}}
	var all []*metaRecord
	for zi, z := range s.zones {
		var names []string
		err := z.List(ctx, metaPrefix, func(info backend.Info) error {
			names = append(names, info.Name)
			return nil
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			zm.unreachable = append(zm.unreachable, zi)
			continue
		}
		for _, name := range names {
			b, err := readBlob(ctx, z, name)
			if errors.Is(err, backend.ErrNotExist) {
				continue
			}
			var m *metaRecord
			if err == nil {
				m, err = parseMeta(name, b)
			}
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				zm.unreadable++
				zm.unreadableCopies = append(zm.unreadableCopies, zoneCopy{zone: zi, name: name})
				zm.problems = append(zm.problems, fmt.Sprintf("zone %d: metadata record %s unreadable: %v", zi, name, err))
				continue
			}
			zm.copies[name]++
			if !m.Removed || m.Kind == metaKindGarbage {
				zm.live[name]++
			}
			if cur := zm.best[name]; cur == nil || m.newer(cur) {
				zm.best[name] = m
			}
			all = append(all, m)
		}
	}
	for _, m := range all {
		name := m.name()
		if b := zm.best[name]; m.Gen == b.Gen && m.Removed == b.Removed && bytes.Equal(m.Body, b.Body) {
			zm.agree[name]++
		}
	}
	return zm, nil
}

// decodeVersionKey splits a V key into bucket, key and sequence number.
func decodeVersionKey(k []byte) (bucket, key string, seq uint64, err error) {
	if len(k) < 1 || k[0] != spaceVersions {
		return "", "", 0, errBadRecord
	}
	b, rest, err := index.DecodeEscaped(k[1:])
	if err != nil {
		return "", "", 0, err
	}
	kk, rest, err := index.DecodeEscaped(rest)
	if err != nil {
		return "", "", 0, err
	}
	if len(rest) != 8 {
		return "", "", 0, errBadRecord
	}
	return string(b), string(kk), ^binary.BigEndian.Uint64(rest), nil
}

// dataIDOfGarbageName returns the data ID of a meta/g name.
func dataIDOfGarbageName(name string) string { return strings.TrimPrefix(name, metaGarbagePrefix) }

// healMeta writes again, to every zone, each metadata record that missed
// a zone when it was written (the M space), from what the index holds
// now. It holds bucket and object commits off for each record, so that a
// newer change of the same record cannot be overwritten. Records that
// cannot be written to every zone stay queued; it returns how many were
// written and how many stay.
func (s *Store) healMeta(ctx context.Context) (done, pending int, err error) {
	lower := []byte{spaceMetaHeal}
	for {
		type item struct{ key, ikey []byte }
		var items []item
		it, err := s.idx.NewIter(ctx, lower, []byte{spaceMetaHeal + 1})
		if err != nil {
			return done, pending, err
		}
		for ok := it.First(); ok && len(items) < 256; ok = it.Next() {
			items = append(items, item{append([]byte(nil), it.Key()...), append([]byte(nil), it.Value()...)})
		}
		err = it.Error()
		it.Close()
		if err != nil || len(items) == 0 {
			return done, pending, err
		}
		for _, it := range items {
			ok, err := s.healMetaOne(ctx, string(it.key[1:]), it.ikey)
			if err != nil {
				return done, pending, err
			}
			if ok {
				done++
			} else {
				pending++
			}
		}
		lower = append(items[len(items)-1].key, 0)
	}
}

func (s *Store) healMetaOne(ctx context.Context, name string, ikey []byte) (bool, error) {
	s.buckets.Lock()
	defer s.buckets.Unlock()
	var v []byte
	found := false
	if len(ikey) > 0 {
		var err error
		v, err = s.idx.Get(ctx, ikey)
		found = err == nil
		if err != nil && !errors.Is(err, index.ErrNotFound) {
			return false, err
		}
	}
	var m *metaRecord
	switch {
	case strings.HasPrefix(name, metaBucketPrefix) && len(ikey) > 0 && ikey[0] == spaceBucket:
		m = &metaRecord{Kind: metaKindBucket, Bucket: strings.TrimPrefix(name, metaBucketPrefix), Removed: !found}
		if found {
			m.Body = v
		}
	case strings.HasPrefix(name, metaVersionPrefix):
		bucket, key, seq, err := decodeVersionKey(ikey)
		if err != nil {
			return false, s.dropMetaHeal(ctx, name, err)
		}
		m = &metaRecord{Kind: metaKindVersion, Bucket: bucket, Key: key, Seq: seq, Removed: !found}
		if found {
			m.Body = v
		}
	case strings.HasPrefix(name, metaGarbagePrefix):
		if found && ikey[0] == spaceGarbage {
			m = &metaRecord{Kind: metaKindGarbage, Body: v}
		}
	default:
		return false, s.dropMetaHeal(ctx, name, errBadMeta)
	}
	if m != nil && m.name() != name {
		return false, s.dropMetaHeal(ctx, name, errBadMeta)
	}
	var err error
	if m == nil {
		// The data was swept, or never queued: its tombstone goes.
		err = s.deleteMeta(ctx, name)
	} else {
		m.Gen = s.nextSeq(0)
		err = s.putMetaAll(ctx, m)
		if err == nil && m.Kind == metaKindVersion && m.Removed {
			// Every copy is a tombstone now: it has done its work.
			err = s.deleteMeta(ctx, name)
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		return false, nil
	}
	var b index.Batch
	b.Delete(metaHealKey(name))
	return true, s.idx.Apply(ctx, &b)
}

// dropMetaHeal removes a heal item that cannot be acted on.
func (s *Store) dropMetaHeal(ctx context.Context, name string, why error) error {
	s.log.Error("cellar: corrupt metadata heal item; dropping it", "name", name, "err", why)
	var b index.Batch
	b.Delete(metaHealKey(name))
	return s.idx.Apply(ctx, &b)
}
