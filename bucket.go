package cellar

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/cellarhq/cellar/erasure"
	"github.com/cellarhq/cellar/index"
)

// Bucket is a handle on one bucket of a Store. It is cheap to make and
// safe for concurrent use.
type Bucket struct {
	s    *Store
	name string
}

// Name is the bucket's name.
func (b *Bucket) Name() string { return b.name }

// Info describes the bucket.
func (b *Bucket) Info(ctx context.Context) (BucketInfo, error) {
	if err := b.s.check(); err != nil {
		return BucketInfo{}, err
	}
	rec, err := b.s.bucketRecord(ctx, b.name)
	if err != nil {
		return BucketInfo{}, err
	}
	return BucketInfo{Name: b.name, Created: rec.Created, Region: rec.Region, Versioning: rec.Versioning}, nil
}

// Versioning returns the bucket's versioning state.
func (b *Bucket) Versioning(ctx context.Context) (VersioningState, error) {
	info, err := b.Info(ctx)
	return info.Versioning, err
}

// SetVersioning enables or suspends versioning. Once enabled, a bucket can
// be suspended but never made unversioned again.
func (b *Bucket) SetVersioning(ctx context.Context, state VersioningState) error {
	if err := b.s.check(); err != nil {
		return err
	}
	if state != VersioningEnabled && state != VersioningSuspended {
		return fmt.Errorf("%w: versioning state %q: want Enabled or Suspended", ErrInvalidArgument, state)
	}
	b.s.buckets.Lock()
	defer b.s.buckets.Unlock()
	rec, err := b.s.bucketRecord(ctx, b.name)
	if err != nil {
		return err
	}
	rec.Versioning = state
	v, _ := json.Marshal(rec)
	var batch index.Batch
	batch.Set(bucketKey(b.name), v)
	return b.s.apply(ctx, &batch)
}

// Put stores the body read from r under key and returns the new version.
// The object is durable and visible to every reader when Put returns, and
// not before; a failed Put leaves the previous object untouched. A nil r is
// an empty body.
func (b *Bucket) Put(ctx context.Context, key string, r io.Reader, opts *PutOptions) (ObjectInfo, error) {
	s := b.s
	if opts == nil {
		opts = &PutOptions{}
	}
	if err := s.check(); err != nil {
		return ObjectInfo{}, err
	}
	if err := ValidKey(key); err != nil {
		return ObjectInfo{}, err
	}
	if _, err := s.bucketRecord(ctx, b.name); err != nil {
		return ObjectInfo{}, err
	}
	md, err := normalizeMetadata(opts.Metadata)
	if err != nil {
		return ObjectInfo{}, err
	}
	if opts.Size < 0 {
		return ObjectInfo{}, fmt.Errorf("%w: PutOptions.Size %d is negative", ErrInvalidArgument, opts.Size)
	}
	if opts.Size > MaxPutSize {
		return ObjectInfo{}, fmt.Errorf("%w: %d bytes in one put, limit %d (use a multipart upload)", ErrEntityTooLarge, opts.Size, int64(MaxPutSize))
	}
	if err := ValidTags(opts.Tags); err != nil {
		return ObjectInfo{}, err
	}
	if opts.IfNoneMatch != "" && opts.IfNoneMatch != "*" {
		return ObjectInfo{}, fmt.Errorf("%w: IfNoneMatch must be \"*\"", ErrInvalidArgument)
	}
	contentType := opts.ContentType
	if contentType == "" {
		contentType = "binary/octet-stream"
	}

	if err := opts.ContentHeaders.validate(); err != nil {
		return ObjectInfo{}, err
	}
	class, err := normalizeClass(opts.StorageClass)
	if err != nil {
		return ObjectInfo{}, err
	}
	data, err := s.writeData(ctx, r, opts.Size, MaxPutSize, &opts.Integrity, class)
	if err != nil {
		return ObjectInfo{}, err
	}
	rec := &versionRecord{
		Bucket:      b.name,
		Key:         key,
		Size:        data.seg.Size,
		ETag:        data.seg.ETag,
		ContentType: contentType,
		Metadata:    md,
		Tags:        cloneTags(opts.Tags),
		Headers:     opts.ContentHeaders.toMap(),
		Checksum:    Checksum{Algorithm: data.alg, Value: data.seg.Checksum, Type: ChecksumFullObject},
		Segments:    []segment{data.seg},
	}
	if class != StorageClassStandard {
		rec.StorageClass = class
	}
	err = s.commitVersion(ctx, rec, commitArgs{cond: putConditions{ifMatch: opts.IfMatch, ifNoneMatch: opts.IfNoneMatch}, data: data})
	if err != nil {
		return ObjectInfo{}, err
	}
	info := rec.info()
	info.IsLatest = true
	s.describe(ctx, rec, &info)
	return info, nil
}

// describe fills in what ObjectInfo says beyond the record: the restore
// state by the store's clock and, for a current version, the lifecycle
// expiration.
func (s *Store) describe(ctx context.Context, rec *versionRecord, info *ObjectInfo) {
	info.Restore = restoreStatus(rec, s.now())
	if !info.IsLatest || rec.DeleteMarker {
		return
	}
	brec, err := s.bucketRecord(ctx, rec.Bucket)
	if err != nil || len(brec.Lifecycle) == 0 {
		return
	}
	cfg, err := brec.lifecycle(rec.Bucket)
	if err != nil {
		return
	}
	info.Expiration = cfg.expiration(rec)
}

// pendingData is object data written to the zones but not yet committed.
type pendingData struct {
	w   *erasure.Writer
	seg segment
	alg string // the algorithm of seg.Checksum
}

func (p *pendingData) abort(s *Store) {
	p.w.Abort()
	s.setInflight(p.seg.DataID, false)
}

// writeData streams r into a new erasure-coded blob set, computing its MD5.
// size is the declared length or 0 for unknown; limit caps unknown lengths.
// class is the storage class whose placement the data gets ("" is
// STANDARD).
func (s *Store) writeData(ctx context.Context, r io.Reader, size, limit int64, in *Integrity, class string) (*pendingData, error) {
	c, err := newChecker(in)
	if err != nil {
		return nil, err
	}
	layout := s.classes[recordClass(class)]
	if layout == nil {
		return nil, fmt.Errorf("%w: %q", ErrInvalidStorageClass, class)
	}
	if r == nil {
		r = strings.NewReader("")
	}
	body := &bodyReader{r: r, size: size, limit: limit}
	var src io.Reader = body
	if layout.small != nil {
		switch {
		case size > 0 && size <= SmallObjectSize:
			layout = layout.small
		case size == 0:
			// Length unknown: read one byte past the small size to
			// learn which layout the body gets.
			peek := make([]byte, SmallObjectSize+1)
			n, err := io.ReadFull(body, peek)
			switch {
			case body.err != nil:
				return nil, body.err
			case ctx.Err() != nil:
				return nil, ctx.Err()
			case err == io.EOF || err == io.ErrUnexpectedEOF:
				layout = layout.small
				src = bytes.NewReader(peek[:n])
			case err != nil:
				return nil, fmt.Errorf("cellar: read body: %w", err)
			default:
				src = io.MultiReader(bytes.NewReader(peek), body)
			}
		}
	}
	p := layout.p
	dataID := newDataID()
	placement, err := layout.place(seedOf(dataID), s.opts.AllowWeakPlacement)
	if err != nil {
		return nil, err
	}
	s.setInflight(dataID, true)
	w, err := erasure.NewWriter(ctx, &erasure.WriteOptions{
		Params: p, Zones: s.zones, Placement: placement, DataID: dataID, Quorum: layout.quorum,
		Hashes: c.hashes(),
	})
	if err != nil {
		s.setInflight(dataID, false)
		return nil, s.writeError(err)
	}
	pd := &pendingData{w: w, alg: string(c.alg), seg: segment{DataID: dataID, K: p.DataShards, M: p.ParityShards, BlockSize: p.BlockSize, Placement: placement}}
	// The Writer reads the body straight into its stripe buffers and feeds
	// the MD5 on a goroutine of its own, beside encoding and the writes;
	// it checks ctx before every read.
	if _, err := w.ReadFrom(src); err != nil {
		pd.abort(s)
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case body.err != nil:
			return nil, body.err
		}
		return nil, s.writeError(err)
	}
	if err := w.CloseWrite(); err != nil {
		pd.abort(s)
		return nil, s.writeError(err)
	}
	etag, sum, err := c.verify()
	if err != nil {
		pd.abort(s)
		return nil, err
	}
	pd.seg.Size, pd.seg.ETag, pd.seg.Checksum = body.n, etag, sum
	return pd, nil
}

// bodyReader reads a body for writeData and enforces its size rules: a
// declared size (> 0) must be met exactly, an unknown one (0) must stay
// within limit. err keeps the error writeData returns for a broken rule
// or a failed read, as opposed to the Writer's own errors.
type bodyReader struct {
	r           io.Reader
	size, limit int64
	n           int64 // bytes read
	err         error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.size > 0 {
		if b.n == b.size {
			// Declared length reached: the body must end here.
			var one [1]byte
			m, err := io.ReadFull(b.r, one[:])
			switch {
			case m > 0:
				return 0, b.fail(fmt.Errorf("%w: body longer than the declared %d bytes", ErrIncompleteBody, b.size))
			case err != nil && err != io.EOF:
				// A reader that checks the body at its end (a digest, a
				// signature) reports a mismatch here.
				return 0, b.fail(fmt.Errorf("cellar: read body: %w", err))
			}
			return 0, io.EOF
		}
		p = p[:min(int64(len(p)), b.size-b.n)]
	} else {
		p = p[:min(int64(len(p)), b.limit+1-b.n)]
	}
	m, err := b.r.Read(p)
	b.n += int64(m)
	if b.size == 0 && b.n > b.limit {
		return 0, b.fail(fmt.Errorf("%w: body over %d bytes", ErrEntityTooLarge, b.limit))
	}
	switch {
	case err == io.ErrUnexpectedEOF:
		// The body was cut short (a dropped connection, a truncated
		// chunked body): never store what arrived as if it were whole.
		return m, b.fail(fmt.Errorf("%w: body cut short after %d bytes: %w", ErrIncompleteBody, b.n, err))
	case err == io.EOF:
		if b.size > 0 && b.n < b.size {
			return m, b.fail(fmt.Errorf("%w: body ended after %d of the declared %d bytes", ErrIncompleteBody, b.n, b.size))
		}
		return m, io.EOF
	case err != nil:
		return m, b.fail(fmt.Errorf("cellar: read body: %w", err))
	}
	return m, nil
}

func (b *bodyReader) fail(err error) error {
	b.err = err
	return err
}

func (s *Store) writeError(err error) error {
	if errors.Is(err, erasure.ErrQuorum) && !errors.Is(err, ErrQuorum) {
		return fmt.Errorf("%w: %w", ErrQuorum, err)
	}
	return err
}

func seedOf(dataID string) uint64 {
	v, _ := strconv.ParseUint(dataID[:16], 16, 64)
	return v
}

type putConditions struct {
	ifMatch, ifNoneMatch string
}

// commitArgs is what commitVersion needs besides the record.
type commitArgs struct {
	cond putConditions
	// data, if set, is the data written for the record; its shards are
	// committed with the record in their trailers.
	data *pendingData
	// extra, if set, runs under the key's lock after the conditions are
	// checked and the record has its version ID, and may add to the batch
	// (for example, removing a completed multipart upload) or refuse the
	// commit with an error. cur is the key's current version, or nil.
	extra func(batch *index.Batch, cur *versionRecord) error
}

// commitVersion makes rec the key's newest version: under the key's lock it
// checks the conditions, gives rec its sequence number and version ID,
// commits the data's shards (if any) with rec in their trailers, and
// commits one index batch. Data replaced by a null version is queued for
// deletion after the grace period.
func (s *Store) commitVersion(ctx context.Context, rec *versionRecord, args commitArgs) (err error) {
	cond, data := args.cond, args.data
	if data != nil {
		defer func() {
			if err != nil {
				data.abort(s)
			} else {
				s.setInflight(data.seg.DataID, false)
			}
		}()
	}
	defer s.lockKey(rec.Bucket, rec.Key)()
	brec, err := s.bucketRecord(ctx, rec.Bucket)
	if err != nil {
		return err
	}
	versions, err := s.keyVersions(ctx, rec.Bucket, rec.Key)
	if err != nil {
		return err
	}
	var cur *versionRecord
	if len(versions) > 0 && !versions[0].DeleteMarker {
		cur = versions[0]
	}
	if cond.ifNoneMatch == "*" && cur != nil {
		return fmt.Errorf("%w: %s/%s exists (If-None-Match: *)", ErrPreconditionFailed, rec.Bucket, rec.Key)
	}
	if cond.ifMatch != "" {
		if cur == nil {
			return fmt.Errorf("%w: %s/%s (If-Match)", ErrNoSuchKey, rec.Bucket, rec.Key)
		}
		if !etagMatches(cond.ifMatch, cur.ETag) {
			return fmt.Errorf("%w: If-Match %s, ETag is %q", ErrPreconditionFailed, cond.ifMatch, cur.ETag)
		}
	}
	var newest uint64
	if len(versions) > 0 {
		newest = versions[0].Seq
	}
	rec.Seq = s.nextSeq(newest)
	rec.LastModified = s.now()
	rec.VersionID = "null"
	if brec.Versioning == VersioningEnabled {
		rec.VersionID = makeVersionID(rec.Seq)
	}

	var batch index.Batch
	if args.extra != nil {
		if err := args.extra(&batch, cur); err != nil {
			return err
		}
	}
	if err := s.lifecycleOnCommit(&batch, brec, rec, versions); err != nil {
		return err
	}
	var trailer []byte
	if data != nil {
		trailer = rec.marshal()
		res, err := data.w.Commit(trailer)
		if err != nil {
			return s.writeError(err)
		}
		batch.Set(dataRefKey(data.seg.DataID), nil)
		if len(res.Missing) > 0 {
			addHealWork(&batch, data.seg, res.Missing)
			s.log.Warn("cellar: write missed shards", "bucket", rec.Bucket, "key", rec.Key, "data", data.seg.DataID, "shards", res.Missing)
		}
	}
	if rec.VersionID == "null" {
		for _, v := range versions {
			if v.VersionID == "null" {
				s.removeVersion(&batch, v)
				break
			}
		}
	}
	enc := rec.marshal()
	batch.Set(versionKey(rec.Bucket, rec.Key, rec.Seq), enc)
	if rec.DeleteMarker {
		batch.Delete(latestKey(rec.Bucket, rec.Key))
	} else {
		batch.Set(latestKey(rec.Bucket, rec.Key), enc)
	}
	if err := s.applyWith(ctx, &batch, trailer); err != nil {
		return fmt.Errorf("cellar: commit %s/%s: %w", rec.Bucket, rec.Key, err)
	}
	return nil
}

// removeVersion adds to batch the removal of version v and queues its data
// for deletion once the grace period is over. It does not touch the latest
// pointer.
func (s *Store) removeVersion(batch *index.Batch, v *versionRecord) {
	batch.Delete(versionKey(v.Bucket, v.Key, v.Seq))
	due := s.now().Add(max(s.opts.DeleteGrace, 0)).UnixNano()
	for _, seg := range v.Segments {
		batch.Set(garbageKey(due, seg.DataID), seg.marshal())
	}
}

// makeVersionID makes a version ID for a versioned put: the sequence number
// in hex, which sorts versions by time, and random hex.
func makeVersionID(seq uint64) string {
	return fmt.Sprintf("%016x", seq) + newDataID()[:16]
}

// keyVersions returns every version of a key, newest first.
func (s *Store) keyVersions(ctx context.Context, bucket, key string) ([]*versionRecord, error) {
	p := versionsPrefix(bucket, key)
	it, err := s.idx.NewIter(ctx, p, index.PrefixEnd(p))
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []*versionRecord
	for ok := it.First(); ok; ok = it.Next() {
		rec, err := unmarshalRecord(it.Value())
		if err != nil {
			return nil, fmt.Errorf("cellar: %s/%s: %w", bucket, key, err)
		}
		out = append(out, rec)
	}
	return out, it.Error()
}

// versionSeq parses the sequence number out of a version ID that
// makeVersionID made.
func versionSeq(id string) (uint64, error) {
	if len(id) != 32 {
		return 0, fmt.Errorf("%w: invalid version ID %q", ErrInvalidArgument, id)
	}
	if _, err := hex.DecodeString(id); err != nil {
		return 0, fmt.Errorf("%w: invalid version ID %q", ErrInvalidArgument, id)
	}
	seq, err := strconv.ParseUint(id[:16], 16, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: invalid version ID %q", ErrInvalidArgument, id)
	}
	return seq, nil
}

// findVersion looks up one version of a key by its ID.
func (s *Store) findVersion(ctx context.Context, bucket, key, id string) (*versionRecord, error) {
	if id != "null" {
		seq, err := versionSeq(id)
		if err != nil {
			return nil, err
		}
		v, err := s.idx.Get(ctx, versionKey(bucket, key, seq))
		if errors.Is(err, index.ErrNotFound) {
			return nil, fmt.Errorf("%w: %s/%s version %s", ErrNoSuchVersion, bucket, key, id)
		}
		if err != nil {
			return nil, err
		}
		rec, err := unmarshalRecord(v)
		if err != nil {
			return nil, err
		}
		if rec.VersionID != id {
			return nil, fmt.Errorf("%w: %s/%s version %s", ErrNoSuchVersion, bucket, key, id)
		}
		return rec, nil
	}
	versions, err := s.keyVersions(ctx, bucket, key)
	if err != nil {
		return nil, err
	}
	for _, v := range versions {
		if v.VersionID == "null" {
			return v, nil
		}
	}
	return nil, fmt.Errorf("%w: %s/%s version null", ErrNoSuchVersion, bucket, key)
}

// resolve finds the version a Get or Head reads.
func (b *Bucket) resolve(ctx context.Context, key string, opts *GetOptions) (*versionRecord, error) {
	s := b.s
	if err := s.check(); err != nil {
		return nil, err
	}
	if err := ValidKey(key); err != nil {
		return nil, err
	}
	if _, err := s.bucketRecord(ctx, b.name); err != nil {
		return nil, err
	}
	if opts != nil && opts.VersionID != "" {
		rec, err := s.findVersion(ctx, b.name, key, opts.VersionID)
		if err != nil {
			return nil, err
		}
		if rec.DeleteMarker {
			return nil, &DeleteMarkerError{Bucket: b.name, Key: key, VersionID: rec.VersionID, Err: ErrMethodNotAllowed}
		}
		return rec, nil
	}
	v, err := s.idx.Get(ctx, latestKey(b.name, key))
	if errors.Is(err, index.ErrNotFound) {
		// Say whether a delete marker hides the key, as S3 does.
		versions, verr := s.keyVersions(ctx, b.name, key)
		if verr == nil && len(versions) > 0 && versions[0].DeleteMarker {
			return nil, &DeleteMarkerError{Bucket: b.name, Key: key, VersionID: versions[0].VersionID, Err: ErrNoSuchKey}
		}
		return nil, fmt.Errorf("%w: %s/%s", ErrNoSuchKey, b.name, key)
	}
	if err != nil {
		return nil, err
	}
	return unmarshalRecord(v)
}

// Head returns the object's description without opening its data.
func (b *Bucket) Head(ctx context.Context, key string, opts *GetOptions) (ObjectInfo, error) {
	rec, err := b.resolvePart(ctx, key, opts)
	if err != nil {
		return ObjectInfo{}, err
	}
	info := rec.info()
	info.IsLatest = opts == nil || opts.VersionID == "" || b.isLatest(ctx, rec)
	b.s.describe(ctx, rec, &info)
	if err := opts.checkConditions(&info); err != nil {
		return info, err
	}
	return info, nil
}

func (b *Bucket) isLatest(ctx context.Context, rec *versionRecord) bool {
	versions, err := b.s.keyVersions(ctx, rec.Bucket, rec.Key)
	return err == nil && len(versions) > 0 && versions[0].Seq == rec.Seq
}

// Get opens the object for reading. ctx governs the returned Object's whole
// life. The caller must Close it.
func (b *Bucket) Get(ctx context.Context, key string, opts *GetOptions) (*Object, error) {
	rec, err := b.resolvePart(ctx, key, opts)
	if err != nil {
		return nil, err
	}
	info := rec.info()
	if err := opts.checkConditions(&info); err != nil {
		return nil, err
	}
	if err := b.s.checkReadable(rec); err != nil {
		return nil, err
	}
	o := b.s.newObject(ctx, rec)
	o.info.IsLatest = opts == nil || opts.VersionID == "" || b.isLatest(ctx, rec)
	b.s.describe(ctx, rec, &o.info)
	b.s.touch(ctx, rec)
	return o, nil
}

// Delete deletes the key's current object, or with DeleteOptions.VersionID
// one version for good, with S3's semantics: in a versioned bucket a
// delete without a version ID adds a delete marker; in a suspended bucket
// it replaces the null version with a null delete marker; in an
// unversioned bucket it removes the object. Deleting a key that does not
// exist succeeds. The removed data is deleted after the grace period.
func (b *Bucket) Delete(ctx context.Context, key string, opts *DeleteOptions) (DeleteResult, error) {
	s := b.s
	if err := s.check(); err != nil {
		return DeleteResult{}, err
	}
	if err := ValidKey(key); err != nil {
		return DeleteResult{}, err
	}
	if opts != nil && opts.VersionID != "" {
		return b.deleteVersion(ctx, key, opts.VersionID)
	}
	brec, err := s.bucketRecord(ctx, b.name)
	if err != nil {
		return DeleteResult{}, err
	}
	if brec.Versioning == VersioningUnversioned {
		defer s.lockKey(b.name, key)()
		if _, err := s.bucketRecord(ctx, b.name); err != nil {
			return DeleteResult{}, err
		}
		versions, err := s.keyVersions(ctx, b.name, key)
		if err != nil || len(versions) == 0 {
			return DeleteResult{}, err
		}
		var batch index.Batch
		for _, v := range versions {
			s.removeVersion(&batch, v)
		}
		batch.Delete(latestKey(b.name, key))
		return DeleteResult{}, s.apply(ctx, &batch)
	}
	marker := &versionRecord{Bucket: b.name, Key: key, DeleteMarker: true}
	if err := s.commitVersion(ctx, marker, commitArgs{}); err != nil {
		return DeleteResult{}, err
	}
	return DeleteResult{VersionID: marker.VersionID, DeleteMarker: true}, nil
}

func (b *Bucket) deleteVersion(ctx context.Context, key, id string) (DeleteResult, error) {
	s := b.s
	defer s.lockKey(b.name, key)()
	brec, err := s.bucketRecord(ctx, b.name)
	if err != nil {
		return DeleteResult{}, err
	}
	versions, err := s.keyVersions(ctx, b.name, key)
	if err != nil {
		return DeleteResult{}, err
	}
	if id != "null" {
		if _, err := versionSeq(id); err != nil {
			return DeleteResult{}, err
		}
	}
	for i, v := range versions {
		if v.VersionID != id {
			continue
		}
		var batch index.Batch
		s.removeVersion(&batch, v)
		if i == 0 {
			// The current version goes: the next one, if any, becomes current.
			if len(versions) > 1 && !versions[1].DeleteMarker {
				batch.Set(latestKey(b.name, key), versions[1].marshal())
			} else {
				batch.Delete(latestKey(b.name, key))
			}
		}
		if err := s.lifecycleOnRemove(&batch, brec, versions, i); err != nil {
			return DeleteResult{}, err
		}
		if err := s.apply(ctx, &batch); err != nil {
			return DeleteResult{}, err
		}
		return DeleteResult{VersionID: id, DeleteMarker: v.DeleteMarker}, nil
	}
	// S3 answers a delete of a version that is not there with success.
	return DeleteResult{VersionID: id}, nil
}
