package cellar

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"sync"
	"time"

	"github.com/cellarhq/cellar/erasure"
	"github.com/cellarhq/cellar/index"
)

// StorageClassStandard is the storage class of objects put without one.
const StorageClassStandard = "STANDARD"

// ObjectInfo describes one version of an object.
type ObjectInfo struct {
	Bucket       string
	Key          string
	VersionID    string // "null" for the null version (unversioned buckets)
	Size         int64
	ETag         string // hex MD5 of the body, no quotes; multipart: hex-N
	LastModified time.Time
	ContentType  string
	ContentHeaders
	Metadata     map[string]string // user metadata, names lowercased
	StorageClass string
	// Checksum is the object's checksum (CRC64NVME unless the writer
	// asked for another); a multipart object's may be COMPOSITE.
	Checksum Checksum
	// TagCount is the number of tags the version has (S3's
	// x-amz-tagging-count); GetObjectTagging returns them.
	TagCount     int
	IsLatest     bool
	DeleteMarker bool
	// PartsCount is the number of parts of an object made by a multipart
	// upload, 0 for others (S3's x-amz-mp-parts-count).
	PartsCount int
	// Restore is a GLACIER or DEEP_ARCHIVE version's restore state (S3's
	// x-amz-restore), nil when it was never restored or the restored copy
	// expired. Set by Head, Get and the listings of versions.
	Restore *RestoreStatus
	// Expiration says when the bucket's lifecycle configuration will
	// expire this version, if it is current and a rule's Expiration Days
	// or Date selects it (S3's x-amz-expiration). Set by Put, Copy,
	// Complete, Head and Get.
	Expiration *ExpirationInfo
}

// ExpirationInfo names the lifecycle rule that will expire a current
// version and when.
type ExpirationInfo struct {
	RuleID string
	Date   time.Time
}

func (r *versionRecord) info() ObjectInfo {
	sc := r.StorageClass
	if sc == "" && !r.DeleteMarker {
		sc = StorageClassStandard
	}
	return ObjectInfo{
		Bucket:         r.Bucket,
		Key:            r.Key,
		VersionID:      r.VersionID,
		Size:           r.Size,
		ETag:           r.ETag,
		LastModified:   r.LastModified,
		ContentType:    r.ContentType,
		ContentHeaders: contentHeadersFrom(r.Headers),
		Checksum:       r.Checksum,
		Metadata:       r.Metadata,
		StorageClass:   sc,
		TagCount:       len(r.Tags),
		PartsCount:     partsCount(r.ETag),
		DeleteMarker:   r.DeleteMarker,
	}
}

// PutOptions configure Bucket.Put. A nil *PutOptions is the zero value.
type PutOptions struct {
	// ContentType is stored and returned with the object. Empty means
	// binary/octet-stream, as S3 does.
	ContentType string
	// Metadata is user metadata: at most 2 KiB of names and values.
	Metadata map[string]string
	// Size is the body's length when the caller knows it, 0 when not. A
	// body shorter or longer than Size fails with ErrIncompleteBody.
	Size int64
	// IfNoneMatch "*" writes only if the key has no current object.
	IfNoneMatch string
	// IfMatch writes only if the key's current object has this ETag
	// (quoted or not).
	IfMatch string
	// Tags are the object's tags: at most 10, with S3's limits (see
	// ValidTags).
	Tags map[string]string
	// ContentHeaders are stored and returned with the object.
	ContentHeaders
	// Integrity names the checksum to store and the digests to check.
	Integrity
	// StorageClass is the object's storage class (S3's
	// x-amz-storage-class): one of the StorageClass constants; "" means
	// STANDARD. An unknown class is ErrInvalidStorageClass.
	StorageClass string
	// ChecksumType is for CreateMultipartUpload only: FULL_OBJECT or
	// COMPOSITE, with S3's defaults and rules per algorithm.
	ChecksumType string
}

// GetOptions configure Get and Head. A nil *GetOptions is the zero value.
// The conditions follow S3 (RFC 7232): IfMatch, if set, decides alone over
// IfUnmodifiedSince; IfNoneMatch, if set, decides alone over
// IfModifiedSince. A failed IfMatch or IfUnmodifiedSince is
// ErrPreconditionFailed; a failed IfNoneMatch or IfModifiedSince is
// ErrNotModified.
type GetOptions struct {
	// VersionID reads that version instead of the current one.
	VersionID         string
	IfMatch           string
	IfNoneMatch       string
	IfModifiedSince   time.Time
	IfUnmodifiedSince time.Time
	// PartNumber, if set, reads only that part of an object made by a
	// multipart upload: Size is the part's, ETag the whole object's. Part
	// 1 of any other object is the whole object. A part the object does
	// not have is ErrInvalidPartNumber.
	PartNumber int
}

// DeleteOptions configure Bucket.Delete. A nil *DeleteOptions is the zero
// value.
type DeleteOptions struct {
	// VersionID removes that version for good instead of deleting the
	// current object.
	VersionID string
}

// DeleteResult reports what Delete did, as S3 does in x-amz-version-id and
// x-amz-delete-marker.
type DeleteResult struct {
	// VersionID is the version removed, or the delete marker created.
	VersionID string
	// DeleteMarker is true when a delete marker was created or removed.
	DeleteMarker bool
}

func etagMatches(cond, etag string) bool {
	if cond == "*" {
		return true
	}
	for _, c := range splitETags(cond) {
		if c == "*" || c == etag {
			return true
		}
	}
	return false
}

// splitETags splits an If-Match style list of (possibly quoted, possibly
// weak) entity tags.
func splitETags(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && (s[i] == ' ' || s[i] == ',' || s[i] == '\t') {
			i++
		}
		s = s[i:]
		if s == "" {
			break
		}
		if len(s) > 2 && s[:2] == "W/" {
			s = s[2:]
		}
		if s[0] == '"' {
			end := 1
			for end < len(s) && s[end] != '"' {
				end++
			}
			out = append(out, s[1:min(end, len(s))])
			s = s[min(end+1, len(s)):]
			continue
		}
		end := 0
		for end < len(s) && s[end] != ',' {
			end++
		}
		out = append(out, trimSpace(s[:end]))
		s = s[end:]
	}
	return out
}

func trimSpace(s string) string {
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// checkConditions applies S3's precedence of If-* conditions.
func (o *GetOptions) checkConditions(info *ObjectInfo) error {
	if o == nil {
		return nil
	}
	modified := info.LastModified.Truncate(time.Second)
	if o.IfMatch != "" {
		if !etagMatches(o.IfMatch, info.ETag) {
			return fmt.Errorf("%w: If-Match %s, ETag is %q", ErrPreconditionFailed, o.IfMatch, info.ETag)
		}
	} else if !o.IfUnmodifiedSince.IsZero() && modified.After(o.IfUnmodifiedSince) {
		return fmt.Errorf("%w: modified at %v, after If-Unmodified-Since", ErrPreconditionFailed, modified)
	}
	if o.IfNoneMatch != "" {
		if etagMatches(o.IfNoneMatch, info.ETag) {
			return fmt.Errorf("%w: If-None-Match %s", ErrNotModified, o.IfNoneMatch)
		}
	} else if !o.IfModifiedSince.IsZero() && !modified.After(o.IfModifiedSince) {
		return fmt.Errorf("%w: not modified since %v", ErrNotModified, o.IfModifiedSince)
	}
	return nil
}

// Object is one version of an object opened for reading. It is an
// io.ReadSeekCloser for streaming and an io.ReaderAt for random access;
// each read fetches and verifies only the erasure blocks it touches. The
// context given to Get governs the Object's whole life. ReadAt may be
// called concurrently; Read and Seek may not.
type Object struct {
	s    *Store
	ctx  context.Context
	info ObjectInfo
	rec  *versionRecord
	ids  []string
	ends []int64 // ends[i] is the offset just past segment i

	mu      sync.Mutex
	readers []*erasure.Reader
	pos     int64
	closed  bool
}

var (
	_ io.ReadSeekCloser = (*Object)(nil)
	_ io.ReaderAt       = (*Object)(nil)
	_ io.WriterTo       = (*Object)(nil)
)

func (s *Store) newObject(ctx context.Context, rec *versionRecord) *Object {
	o := &Object{s: s, ctx: ctx, info: rec.info(), rec: rec, readers: make([]*erasure.Reader, len(rec.Segments))}
	o.info.IsLatest = true
	var end int64
	for _, seg := range rec.Segments {
		end += seg.Size
		o.ends = append(o.ends, end)
		o.ids = append(o.ids, seg.DataID)
	}
	s.hold(o.ids)
	return o
}

// Info describes the object.
func (o *Object) Info() ObjectInfo { return o.info }

// Size is the object's length in bytes.
func (o *Object) Size() int64 { return o.info.Size }

// Read implements io.Reader.
func (o *Object) Read(p []byte) (int, error) {
	if o.pos >= o.info.Size {
		if o.isClosed() {
			return 0, ErrClosed
		}
		return 0, io.EOF
	}
	n, err := o.ReadAt(p, o.pos)
	o.pos += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

// Seek implements io.Seeker.
func (o *Object) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = o.pos + offset
	case io.SeekEnd:
		abs = o.info.Size + offset
	default:
		return 0, fmt.Errorf("%w: seek whence %d", ErrInvalidArgument, whence)
	}
	if abs < 0 {
		return 0, fmt.Errorf("%w: seek to negative offset %d", ErrInvalidArgument, abs)
	}
	o.pos = abs
	return abs, nil
}

func (o *Object) isClosed() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.closed
}

// ReadAt implements io.ReaderAt.
func (o *Object) ReadAt(p []byte, off int64) (int, error) {
	n, err := o.span(off, int64(len(p)), func(r *erasure.Reader, at, done, want int64) (int64, error) {
		c, err := r.ReadAt(p[done:done+want], at)
		return int64(c), err
	})
	return int(n), err
}

// WriteTo implements io.WriterTo: it writes the object from the current
// offset to its end to w, as WriteRange does, and moves the offset past
// what it wrote. io.Copy from an Object uses it.
func (o *Object) WriteTo(w io.Writer) (int64, error) {
	if o.pos >= o.info.Size {
		if o.isClosed() {
			return 0, ErrClosed
		}
		return 0, nil
	}
	n, err := o.WriteRange(w, o.pos, o.info.Size-o.pos)
	o.pos += n
	if err == io.EOF {
		err = nil
	}
	return n, err
}

// WriteRange writes the n bytes of the object at off to w straight from
// the store's block buffers, sparing the copy into a buffer of the
// caller's that ReadAt makes; the S3 handler serves GETs this way. It
// returns the bytes written and, if fewer than n, why: io.EOF at the end
// of the object, a read's failure as ReadAt reports it, or w's error as it
// is. Like ReadAt, it may run beside other reads of the Object.
func (o *Object) WriteRange(w io.Writer, off, n int64) (int64, error) {
	return o.span(off, n, func(r *erasure.Reader, at, _, want int64) (int64, error) {
		return r.WriteRange(w, at, want)
	})
}

// span hands the object's bytes [off, off+length) to fn segment by
// segment: the segment's reader, the offset in the segment, how many
// bytes of the range came before, and how many to take from it; fn
// returns how many it took. span returns the bytes taken and, if fewer
// than length, why: io.EOF at the end of the object, or fn's error,
// classified by readError (which leaves a writer's errors as they are).
func (o *Object) span(off, length int64, fn func(r *erasure.Reader, at, done, want int64) (int64, error)) (int64, error) {
	if off < 0 {
		return 0, fmt.Errorf("%w: negative offset %d", ErrInvalidArgument, off)
	}
	if off >= o.info.Size {
		return 0, io.EOF
	}
	end := min(off+max(length, 0), o.info.Size)
	var total int64
	for off < end {
		i := sort.Search(len(o.ends), func(i int) bool { return o.ends[i] > off })
		r, err := o.reader(i)
		if err != nil {
			return total, err
		}
		start := o.ends[i] - o.rec.Segments[i].Size
		want := min(end, o.ends[i]) - off
		c, err := fn(r, off-start, total, want)
		total += c
		off += c
		if err != nil && !(err == io.EOF && c == want) {
			return total, o.readError(err)
		}
	}
	if total < length {
		return total, io.EOF
	}
	return total, nil
}

// readError classifies a read's failure: too few shards because some
// were corrupt or gone is ErrCorrupt; too few only because zones were
// unavailable (offline, failing with I/O errors) is ErrQuorum, which a
// caller may retry once the zones are back.
func (o *Object) readError(err error) error {
	switch {
	case errors.Is(err, erasure.ErrTooManyBad) && !errors.Is(err, erasure.ErrCorrupt) && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: %s/%s: too few zones available to read: %w", ErrQuorum, o.info.Bucket, o.info.Key, err)
	case errors.Is(err, erasure.ErrTooManyBad):
		return fmt.Errorf("%w: %s/%s: %w", ErrCorrupt, o.info.Bucket, o.info.Key, err)
	case errors.Is(err, erasure.ErrQuorum):
		return fmt.Errorf("%w: %s/%s: %w", ErrQuorum, o.info.Bucket, o.info.Key, err)
	}
	return err
}

func (o *Object) reader(i int) (*erasure.Reader, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return nil, ErrClosed
	}
	if r := o.readers[i]; r != nil {
		return r, nil
	}
	seg := o.rec.Segments[i]
	r, err := erasure.Open(o.ctx, &erasure.ReadOptions{
		Params:    erasure.Params{DataShards: seg.K, ParityShards: seg.M, BlockSize: seg.BlockSize},
		Zones:     o.s.zones,
		Placement: seg.Placement,
		DataID:    seg.DataID,
		Size:      seg.Size,
	})
	if err != nil {
		return nil, o.readError(err)
	}
	o.readers[i] = r
	return r, nil
}

// Close releases the object. Shards found missing or corrupt while
// reading are queued for healing.
func (o *Object) Close() error {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return ErrClosed
	}
	o.closed = true
	readers := o.readers
	o.mu.Unlock()
	var heal index.Batch
	for i, r := range readers {
		if r == nil {
			continue
		}
		if bad := r.BadShards(); len(bad) > 0 {
			shards := make([]int, 0, len(bad))
			for _, b := range bad {
				shards = append(shards, b.Shard)
			}
			addHealWork(&heal, o.rec.Segments[i], shards)
			o.s.log.Warn("cellar: bad shards found on read", "bucket", o.info.Bucket, "key", o.info.Key, "data", o.rec.Segments[i].DataID, "shards", shards)
		}
		r.Close()
	}
	o.s.release(o.ids)
	if heal.Len() > 0 && !o.s.closed.Load() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(o.ctx), 10*time.Second)
		defer cancel()
		if err := o.s.idx.Apply(ctx, &heal); err != nil {
			o.s.log.Error("cellar: queue heal work", "err", err)
		}
	}
	return nil
}
