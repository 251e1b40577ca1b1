package cellar

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"time"
)

// versionRecord is what the index keeps for one version of a key, and what
// every shard blob of the version carries in its trailer so that a lost
// index can be rebuilt from the zones.
//
// The encoding is a format byte followed by fields, each
// uvarint(tag) uvarint(len) value. Decoders skip tags they do not know, so
// fields can be added without a format change. Integers are uvarints
// inside their value; strings are raw bytes.
type versionRecord struct {
	Bucket       string
	Key          string
	VersionID    string // "null" for the null version
	Seq          uint64 // commit order; newest first per key in the index
	DeleteMarker bool
	Size         int64
	ETag         string // hex, no quotes; multipart: hex-N
	LastModified time.Time
	ContentType  string
	Metadata     map[string]string
	StorageClass string
	Tags         map[string]string
	Headers      map[string]string // ContentHeaders by header name
	Checksum     Checksum
	Segments     []segment
	// RestoreDone and RestoreExpiry are an archived version's restore:
	// readable from RestoreDone until RestoreExpiry; zero when never
	// restored. They live in the index only (see Bucket.Restore).
	RestoreDone, RestoreExpiry time.Time
	// LastAccess is the day (midnight UTC) an INTELLIGENT_TIERING version
	// was last read, zero for never read since it was written.
	LastAccess time.Time
}

// segment is one erasure-coded stretch of an object's bytes: the whole body
// of a simple put, or one part of a multipart upload.
type segment struct {
	DataID    string
	K, M      int
	BlockSize int
	Placement []int
	Size      int64
	ETag      string
	Checksum  string // base64 checksum of this segment's bytes, by the record's algorithm
}

const recordFormat = 1

// Field tags. Never reuse a number.
const (
	tagBucket = iota + 1
	tagKey
	tagVersionID
	tagSeq
	tagDeleteMarker
	tagSize
	tagETag
	tagLastModified
	tagContentType
	tagMetadata // repeated: a pair of length-prefixed strings
	tagStorageClass
	tagSegment // repeated: a nested field list
	tagTag     // repeated: a pair of length-prefixed strings
	tagHeader  // repeated: a pair of length-prefixed strings
	tagChecksumAlgorithm
	tagChecksumValue
	tagChecksumType
	tagRestoreDone
	tagRestoreExpiry
	tagLastAccess
)

// Field tags inside a segment. Never reuse a number.
const (
	tagSegDataID = iota + 1
	tagSegK
	tagSegM
	tagSegBlockSize
	tagSegPlacement
	tagSegSize
	tagSegETag
	tagSegChecksum
)

var errBadRecord = errors.New("cellar: corrupt version record")

type recWriter struct{ b []byte }

func (w *recWriter) bytes(tag int, v []byte) {
	w.b = binary.AppendUvarint(w.b, uint64(tag))
	w.b = binary.AppendUvarint(w.b, uint64(len(v)))
	w.b = append(w.b, v...)
}

func (w *recWriter) str(tag int, s string) {
	if s != "" {
		w.b = binary.AppendUvarint(w.b, uint64(tag))
		w.b = binary.AppendUvarint(w.b, uint64(len(s)))
		w.b = append(w.b, s...)
	}
}

func (w *recWriter) uint(tag int, v uint64) {
	if v != 0 {
		var tmp [binary.MaxVarintLen64]byte
		w.bytes(tag, binary.AppendUvarint(tmp[:0], v))
	}
}

// time writes a time as Unix nanoseconds; the zero time is left out.
func (w *recWriter) time(tag int, t time.Time) {
	if !t.IsZero() {
		w.uint(tag, uint64(t.UnixNano()))
	}
}

func readTime(v []byte) (time.Time, error) {
	x, err := uvarint(v)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(0, int64(x)).UTC(), nil
}

// pairs writes a map as one field per entry, in key order.
func (w *recWriter) pairs(tag int, m map[string]string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := m[k]
		pair := binary.AppendUvarint(nil, uint64(len(k)))
		pair = append(pair, k...)
		pair = append(pair, v...)
		w.bytes(tag, pair)
	}
}

func readPair(m *map[string]string, v []byte) error {
	kl, n := binary.Uvarint(v)
	if n <= 0 || kl > uint64(len(v)-n) {
		return errBadRecord
	}
	if *m == nil {
		*m = make(map[string]string)
	}
	(*m)[string(v[n:n+int(kl)])] = string(v[n+int(kl):])
	return nil
}

func (r *versionRecord) marshal() []byte {
	w := recWriter{b: make([]byte, 0, 128+len(r.Key)+len(r.Bucket))}
	w.b = append(w.b, recordFormat)
	w.str(tagBucket, r.Bucket)
	w.str(tagKey, r.Key)
	w.str(tagVersionID, r.VersionID)
	w.uint(tagSeq, r.Seq)
	if r.DeleteMarker {
		w.uint(tagDeleteMarker, 1)
	}
	w.uint(tagSize, uint64(r.Size))
	w.str(tagETag, r.ETag)
	w.uint(tagLastModified, uint64(r.LastModified.UnixNano()))
	w.str(tagContentType, r.ContentType)
	w.pairs(tagMetadata, r.Metadata)
	w.str(tagStorageClass, r.StorageClass)
	w.pairs(tagTag, r.Tags)
	w.pairs(tagHeader, r.Headers)
	w.str(tagChecksumAlgorithm, r.Checksum.Algorithm)
	w.str(tagChecksumValue, r.Checksum.Value)
	w.str(tagChecksumType, r.Checksum.Type)
	for _, s := range r.Segments {
		w.bytes(tagSegment, s.marshal())
	}
	w.time(tagRestoreDone, r.RestoreDone)
	w.time(tagRestoreExpiry, r.RestoreExpiry)
	w.time(tagLastAccess, r.LastAccess)
	return w.b
}

// fields walks a field list, calling fn for each tag and value.
func fields(b []byte, fn func(tag uint64, v []byte) error) error {
	for len(b) > 0 {
		tag, n := binary.Uvarint(b)
		if n <= 0 {
			return errBadRecord
		}
		b = b[n:]
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return errBadRecord
		}
		v := b[n : n+int(l)]
		b = b[n+int(l):]
		if err := fn(tag, v); err != nil {
			return err
		}
	}
	return nil
}

func uvarint(v []byte) (uint64, error) {
	x, n := binary.Uvarint(v)
	if n <= 0 || n != len(v) {
		return 0, errBadRecord
	}
	return x, nil
}

func smallInt(v []byte, max uint64) (int, error) {
	x, err := uvarint(v)
	if err != nil || x > max {
		return 0, errBadRecord
	}
	return int(x), nil
}

func unmarshalRecord(b []byte) (*versionRecord, error) {
	if len(b) == 0 || b[0] != recordFormat {
		return nil, fmt.Errorf("%w: unknown format", errBadRecord)
	}
	r := &versionRecord{}
	err := fields(b[1:], func(tag uint64, v []byte) error {
		var err error
		switch tag {
		case tagBucket:
			r.Bucket = string(v)
		case tagKey:
			r.Key = string(v)
		case tagVersionID:
			r.VersionID = string(v)
		case tagSeq:
			r.Seq, err = uvarint(v)
		case tagDeleteMarker:
			r.DeleteMarker = true
		case tagSize:
			var x uint64
			x, err = uvarint(v)
			if x > 1<<62 {
				err = errBadRecord
			}
			r.Size = int64(x)
		case tagETag:
			r.ETag = string(v)
		case tagLastModified:
			var x uint64
			x, err = uvarint(v)
			r.LastModified = time.Unix(0, int64(x)).UTC()
		case tagContentType:
			r.ContentType = string(v)
		case tagMetadata:
			err = readPair(&r.Metadata, v)
		case tagTag:
			err = readPair(&r.Tags, v)
		case tagHeader:
			err = readPair(&r.Headers, v)
		case tagChecksumAlgorithm:
			r.Checksum.Algorithm = string(v)
		case tagChecksumValue:
			r.Checksum.Value = string(v)
		case tagChecksumType:
			r.Checksum.Type = string(v)
		case tagStorageClass:
			r.StorageClass = string(v)
		case tagRestoreDone:
			r.RestoreDone, err = readTime(v)
		case tagRestoreExpiry:
			r.RestoreExpiry, err = readTime(v)
		case tagLastAccess:
			r.LastAccess, err = readTime(v)
		case tagSegment:
			var s segment
			s, err = unmarshalSegment(v)
			r.Segments = append(r.Segments, s)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if r.LastModified.IsZero() {
		r.LastModified = time.Unix(0, 0).UTC()
	}
	return r, nil
}

func unmarshalSegment(b []byte) (segment, error) {
	var s segment
	err := fields(b, func(tag uint64, v []byte) error {
		var err error
		switch tag {
		case tagSegDataID:
			s.DataID = string(v)
		case tagSegK:
			s.K, err = smallInt(v, 256)
		case tagSegM:
			s.M, err = smallInt(v, 256)
		case tagSegBlockSize:
			s.BlockSize, err = smallInt(v, 1<<30)
		case tagSegPlacement:
			if len(v) == 0 {
				break
			}
			s.Placement = make([]int, len(v))
			for i, z := range v {
				s.Placement[i] = int(z)
			}
		case tagSegSize:
			var x uint64
			x, err = uvarint(v)
			if x > 1<<62 {
				err = errBadRecord
			}
			s.Size = int64(x)
		case tagSegETag:
			s.ETag = string(v)
		case tagSegChecksum:
			s.Checksum = string(v)
		}
		return err
	})
	if err == nil && (s.K < 1 || len(s.Placement) != s.K+s.M) {
		err = fmt.Errorf("%w: placement of %d shards for RS(%d,%d)", errBadRecord, len(s.Placement), s.K, s.M)
	}
	return s, err
}

func (s *segment) marshal() []byte {
	w := recWriter{}
	w.str(tagSegDataID, s.DataID)
	w.uint(tagSegK, uint64(s.K))
	w.uint(tagSegM, uint64(s.M))
	w.uint(tagSegBlockSize, uint64(s.BlockSize))
	pl := make([]byte, len(s.Placement))
	for i, z := range s.Placement {
		pl[i] = byte(z)
	}
	w.bytes(tagSegPlacement, pl)
	w.uint(tagSegSize, uint64(s.Size))
	w.str(tagSegETag, s.ETag)
	w.str(tagSegChecksum, s.Checksum)
	return w.b
}
