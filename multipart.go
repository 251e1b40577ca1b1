package cellar

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/cellarhq/cellar/index"
	"github.com/cellarhq/cellar/internal/checksum"
)

// S3's limits on multipart uploads.
const (
	// MinPartSize is the least size of every part of a completed upload
	// but the last.
	MinPartSize = 5 << 20
	// MaxPartSize is the largest part.
	MaxPartSize = 5 << 30
	// MaxParts is the highest part number.
	MaxParts = 10000
	// MaxListParts and MaxListUploads cap a page of ListParts and
	// ListMultipartUploads.
	MaxListParts   = 1000
	MaxListUploads = 1000
)

// MultipartUpload is a multipart upload in progress: an object uploaded
// in parts, in any order and in parallel, and made visible at once by
// Complete. Start one with Bucket.CreateMultipartUpload, or resume one by
// its ID with Bucket.MultipartUpload (in another process, say). A
// MultipartUpload is safe for concurrent use.
type MultipartUpload struct {
	b         *Bucket
	key, id   string
	initiated time.Time
	checksum  Checksum // Algorithm and Type only
}

// ID is the upload ID: random, URL-safe and unguessable.
func (u *MultipartUpload) ID() string { return u.id }

// Key is the key the completed object gets.
func (u *MultipartUpload) Key() string { return u.key }

// Initiated is when the upload was created.
func (u *MultipartUpload) Initiated() time.Time { return u.initiated }

// Checksum gives the algorithm every part is checksummed with and the type
// of the completed object's checksum (its Value is empty).
func (u *MultipartUpload) Checksum() Checksum { return u.checksum }

// PartOptions configure UploadPart. A nil *PartOptions is the zero value.
type PartOptions struct {
	// Size is the part's length when the caller knows it, 0 when not. A
	// body shorter or longer than Size fails with ErrIncompleteBody.
	Size int64
	// Integrity gives digests to check. Its ChecksumAlgorithm, if set,
	// must be the upload's: every part is checksummed with the upload's
	// algorithm.
	Integrity
}

// PartInfo describes an uploaded part.
type PartInfo struct {
	PartNumber   int
	ETag         string // hex MD5 of the part, no quotes
	Size         int64
	LastModified time.Time
	// Checksum is the part's checksum (base64) by the upload's algorithm.
	Checksum string
}

// CompletedPart names a part for Complete: its number and the ETag that
// UploadPart returned (quoted or not).
type CompletedPart struct {
	PartNumber int
	ETag       string
	// Checksum, if set, must be the part's checksum (base64).
	Checksum string
}

// CompleteOptions configure Complete. A nil *CompleteOptions is the zero
// value.
type CompleteOptions struct {
	// IfNoneMatch "*" completes only if the key has no current object.
	IfNoneMatch string
	// IfMatch completes only if the key's current object has this ETag
	// (quoted or not).
	IfMatch string
	// Checksum, if set, is the expected checksum of the whole object, in
	// the upload's algorithm and type (a COMPOSITE value ends in "-N");
	// a mismatch is ErrBadDigest and nothing is committed.
	Checksum string
}

// ListPartsOptions configure ListParts. A nil *ListPartsOptions lists from
// the first part.
type ListPartsOptions struct {
	// PartNumberMarker lists only parts with a higher number.
	PartNumberMarker int
	// MaxParts caps the page: 0 means 1000, and more than 1000 lists 1000,
	// as S3 does.
	MaxParts int
}

// PartsPage is one page of ListParts, shaped as S3 reports it.
type PartsPage struct {
	Parts []PartInfo
	// IsTruncated says that more parts follow; pass NextPartNumberMarker
	// as PartNumberMarker to get them. NextPartNumberMarker is the number
	// of the page's last part (0 for an empty page).
	IsTruncated          bool
	NextPartNumberMarker int
}

// ListUploadsOptions configure ListMultipartUploads. A nil
// *ListUploadsOptions lists every upload.
type ListUploadsOptions struct {
	// Prefix limits the listing to uploads of keys that begin with it.
	Prefix string
	// Delimiter groups keys that contain it after Prefix into one common
	// prefix each, as List does.
	Delimiter string
	// KeyMarker lists only uploads of keys after it; with UploadIDMarker,
	// also the uploads of KeyMarker itself whose ID sorts after
	// UploadIDMarker. UploadIDMarker without KeyMarker is ignored, as S3
	// does.
	KeyMarker      string
	UploadIDMarker string
	// MaxUploads caps the uploads plus common prefixes of a page: 0 means
	// 1000, and more than 1000 lists 1000.
	MaxUploads int
}

// UploadInfo describes a multipart upload in progress.
type UploadInfo struct {
	Key          string
	UploadID     string
	Initiated    time.Time
	StorageClass string
	// Checksum gives the upload's checksum algorithm and type.
	Checksum Checksum
}

// UploadsPage is one page of ListMultipartUploads, shaped as S3 reports
// it. When IsTruncated, pass NextKeyMarker and NextUploadIDMarker as the
// next request's KeyMarker and UploadIDMarker.
type UploadsPage struct {
	Uploads            []UploadInfo
	CommonPrefixes     []string
	IsTruncated        bool
	NextKeyMarker      string
	NextUploadIDMarker string
}

// PartCopyOptions configure UploadPartCopy. A nil *PartCopyOptions copies
// the whole current version of the source.
type PartCopyOptions struct {
	// SourceVersionID copies from that version of the source.
	SourceVersionID string
	// Range, if set, copies only the bytes Range[0] to Range[1] of the
	// source, both inclusive, as x-amz-copy-source-range: bytes=first-last.
	// A range not inside the source is ErrInvalidRange.
	Range *[2]int64
	// Conditions on the source, as S3's x-amz-copy-source-if-* headers:
	// CopySourceIfMatch, if set, decides alone over
	// CopySourceIfUnmodifiedSince; CopySourceIfNoneMatch, if set, decides
	// alone over CopySourceIfModifiedSince; a CopySourceIfModifiedSince
	// later than the store's clock is ignored. Every failure is
	// ErrPreconditionFailed.
	CopySourceIfMatch           string
	CopySourceIfNoneMatch       string
	CopySourceIfModifiedSince   time.Time
	CopySourceIfUnmodifiedSince time.Time
}

// CreateMultipartUpload starts a multipart upload of key. opts gives the
// completed object's content type, user metadata and tags, checked as Put
// checks them; its Size and conditions are refused: parts have their own
// sizes and Complete takes the conditions.
func (b *Bucket) CreateMultipartUpload(ctx context.Context, key string, opts *PutOptions) (*MultipartUpload, error) {
	s := b.s
	if opts == nil {
		opts = &PutOptions{}
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	if err := ValidKey(key); err != nil {
		return nil, err
	}
	md, err := normalizeMetadata(opts.Metadata)
	if err != nil {
		return nil, err
	}
	if err := ValidTags(opts.Tags); err != nil {
		return nil, err
	}
	if opts.Size != 0 {
		return nil, fmt.Errorf("%w: PutOptions.Size of a multipart upload: give each part's size to UploadPart", ErrInvalidArgument)
	}
	if opts.IfMatch != "" || opts.IfNoneMatch != "" {
		return nil, fmt.Errorf("%w: conditions of a multipart upload go to Complete, not CreateMultipartUpload", ErrInvalidArgument)
	}
	if opts.Checksum != "" || opts.TrailingChecksum != nil || opts.ContentMD5 != "" {
		return nil, fmt.Errorf("%w: digests of a multipart upload go to UploadPart and Complete", ErrInvalidArgument)
	}
	if err := opts.ContentHeaders.validate(); err != nil {
		return nil, err
	}
	alg, ctype, err := uploadChecksum(opts.ChecksumAlgorithm, opts.ChecksumType)
	if err != nil {
		return nil, err
	}
	class, err := normalizeClass(opts.StorageClass)
	if err != nil {
		return nil, err
	}
	rec := &uploadRecord{
		Bucket:            b.name,
		Key:               key,
		Initiated:         s.now(),
		ContentType:       opts.ContentType,
		Metadata:          md,
		Tags:              cloneTags(opts.Tags),
		Headers:           opts.ContentHeaders.toMap(),
		ChecksumAlgorithm: string(alg),
		ChecksumType:      ctype,
	}
	if class != StorageClassStandard {
		rec.StorageClass = class
	}
	if rec.ContentType == "" {
		rec.ContentType = "binary/octet-stream"
	}
	id := newUploadID(s.nextSeq(0))
	// The bucket lock keeps DeleteBucket, which refuses a bucket with
	// uploads, from running between the check and the commit.
	s.buckets.RLock()
	defer s.buckets.RUnlock()
	brec, err := s.bucketRecord(ctx, b.name)
	if err != nil {
		return nil, err
	}
	var batch index.Batch
	batch.Set(uploadKey(b.name, key, id), rec.marshal())
	if err := s.lifecycleOnCreateUpload(&batch, brec, rec, id); err != nil {
		return nil, err
	}
	if err := s.idx.Apply(ctx, &batch); err != nil {
		return nil, fmt.Errorf("cellar: create upload of %s/%s: %w", b.name, key, err)
	}
	return &MultipartUpload{b: b, key: key, id: id, initiated: rec.Initiated, checksum: rec.checksum()}, nil
}

// MultipartUpload returns the upload of key with the given ID, to go on
// with it (in a new process, say). An ID that is not an upload of key in
// progress is ErrNoSuchUpload.
func (b *Bucket) MultipartUpload(ctx context.Context, key, uploadID string) (*MultipartUpload, error) {
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
	u := &MultipartUpload{b: b, key: key, id: uploadID}
	rec, err := u.record(ctx)
	if err != nil {
		return nil, err
	}
	u.initiated, u.checksum = rec.Initiated, rec.checksum()
	return u, nil
}

// record reads the upload's record: ErrNoSuchUpload once the upload is
// completed or aborted.
func (u *MultipartUpload) record(ctx context.Context) (*uploadRecord, error) {
	s := u.b.s
	if err := s.check(); err != nil {
		return nil, err
	}
	if !validUploadID(u.id) {
		return nil, fmt.Errorf("%w: %q is not an upload ID", ErrNoSuchUpload, u.id)
	}
	v, err := s.idx.Get(ctx, uploadKey(u.b.name, u.key, u.id))
	if errors.Is(err, index.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s of %s/%s", ErrNoSuchUpload, u.id, u.b.name, u.key)
	}
	if err != nil {
		return nil, err
	}
	return unmarshalUpload(v)
}

func checkPartNumber(n int) error {
	if n < 1 || n > MaxParts {
		return fmt.Errorf("%w: part number %d: must be an integer between 1 and %d, inclusive", ErrInvalidArgument, n, MaxParts)
	}
	return nil
}

// UploadPart stores part n (1 to 10,000) of the upload, read from r, and
// returns its ETag for Complete. The part is erasure-coded and committed
// before UploadPart returns; uploading a part number again replaces the
// earlier part. Parts may be uploaded concurrently. A part is at most
// MaxPartSize; Complete checks the least size. A completed, aborted or
// unknown upload is ErrNoSuchUpload.
func (u *MultipartUpload) UploadPart(ctx context.Context, n int, r io.Reader, opts *PartOptions) (PartInfo, error) {
	s := u.b.s
	var size int64
	if opts != nil {
		size = opts.Size
	}
	if err := checkPartNumber(n); err != nil {
		return PartInfo{}, err
	}
	if size < 0 {
		return PartInfo{}, fmt.Errorf("%w: PartOptions.Size %d is negative", ErrInvalidArgument, size)
	}
	if size > MaxPartSize {
		return PartInfo{}, fmt.Errorf("%w: part of %d bytes, limit %d", ErrEntityTooLarge, size, int64(MaxPartSize))
	}
	// Fail early, before moving data, if the upload is gone; commitPart
	// checks again under the upload's lock.
	urec, err := u.record(ctx)
	if err != nil {
		return PartInfo{}, err
	}
	var in Integrity
	if opts != nil {
		in = opts.Integrity
	}
	if in.ChecksumAlgorithm != "" && !strings.EqualFold(in.ChecksumAlgorithm, urec.ChecksumAlgorithm) {
		return PartInfo{}, fmt.Errorf("%w: checksum algorithm %s of a part of an upload created with %s", ErrInvalidRequest, in.ChecksumAlgorithm, urec.ChecksumAlgorithm)
	}
	in.ChecksumAlgorithm = urec.ChecksumAlgorithm
	data, err := s.writeData(ctx, r, size, MaxPartSize, &in, urec.StorageClass)
	if err != nil {
		return PartInfo{}, err
	}
	return u.commitPart(ctx, n, data)
}

// commitPart commits the shards of a part written by writeData, then,
// under the upload's lock, its part record, its data reference and the
// replaced part's data queued for deletion, in one index batch. If the
// upload was completed or aborted meanwhile, the part's data is deleted.
func (u *MultipartUpload) commitPart(ctx context.Context, n int, data *pendingData) (_ PartInfo, err error) {
	s := u.b.s
	defer func() {
		if err != nil {
			data.abort(s) // also deletes the shards once committed
		} else {
			s.setInflight(data.seg.DataID, false)
		}
	}()
	prec := &partRecord{Bucket: u.b.name, Key: u.key, UploadID: u.id, PartNumber: n, Seg: data.seg, LastModified: s.now()}
	enc := prec.marshal()
	// The shards are committed without the lock: parts commit in parallel.
	res, err := data.w.Commit(enc)
	if err != nil {
		return PartInfo{}, s.writeError(err)
	}
	unlock := s.lockUpload(u.id)
	defer unlock()
	// INVARIANT: part records are written only under the upload's lock
	// and only while the upload record exists, so Complete and Abort,
	// which hold the lock, see every part that will ever be recorded.
	if _, err := u.record(ctx); err != nil {
		return PartInfo{}, err
	}
	var batch index.Batch
	pk := partKey(u.id, n)
	switch v, err := s.idx.Get(ctx, pk); {
	case err == nil:
		old, err := unmarshalPart(v)
		if err != nil {
			return PartInfo{}, fmt.Errorf("cellar: upload %s part %d: %w", u.id, n, err)
		}
		s.queueDeletion(&batch, old.Seg)
	case !errors.Is(err, index.ErrNotFound):
		return PartInfo{}, err
	}
	batch.Set(pk, enc)
	batch.Set(dataRefKey(data.seg.DataID), nil)
	if len(res.Missing) > 0 {
		addHealWork(&batch, data.seg, res.Missing)
		s.log.Warn("cellar: part write missed shards", "bucket", u.b.name, "key", u.key, "upload", u.id, "part", n, "data", data.seg.DataID, "shards", res.Missing)
	}
	if err := s.apply(ctx, &batch); err != nil {
		return PartInfo{}, fmt.Errorf("cellar: commit part %d of upload %s: %w", n, u.id, err)
	}
	return prec.info(), nil
}

// UploadPartCopy stores part n of the upload from the object srcKey of
// bucket srcBucket (or a byte range of it), as S3's UploadPartCopy does.
// The bytes are read through Get and written afresh: the part shares no
// data with its source. A source version that is a delete marker is
// ErrInvalidRequest; a failed copy-source condition is
// ErrPreconditionFailed.
func (u *MultipartUpload) UploadPartCopy(ctx context.Context, n int, srcBucket, srcKey string, opts *PartCopyOptions) (PartInfo, error) {
	s := u.b.s
	if opts == nil {
		opts = &PartCopyOptions{}
	}
	if err := checkPartNumber(n); err != nil {
		return PartInfo{}, err
	}
	if _, err := u.record(ctx); err != nil {
		return PartInfo{}, err
	}
	gopts := &GetOptions{
		VersionID:         opts.SourceVersionID,
		IfMatch:           opts.CopySourceIfMatch,
		IfNoneMatch:       opts.CopySourceIfNoneMatch,
		IfModifiedSince:   opts.CopySourceIfModifiedSince,
		IfUnmodifiedSince: opts.CopySourceIfUnmodifiedSince,
	}
	if gopts.IfModifiedSince.After(s.now()) {
		// A date in the future is not a valid If-Modified-Since (RFC
		// 7232); S3 ignores it.
		gopts.IfModifiedSince = time.Time{}
	}
	obj, err := s.Bucket(srcBucket).Get(ctx, srcKey, gopts)
	switch {
	case err == nil:
	case errors.Is(err, ErrNotModified):
		return PartInfo{}, fmt.Errorf("%w: copy source %s/%s: %v", ErrPreconditionFailed, srcBucket, srcKey, err)
	case errors.Is(err, ErrMethodNotAllowed):
		return PartInfo{}, fmt.Errorf("%w: the source of a copy may not be a delete marker: %v", ErrInvalidRequest, err)
	default:
		return PartInfo{}, err
	}
	defer obj.Close()
	off, length := int64(0), obj.Size()
	if opts.Range != nil {
		first, last := opts.Range[0], opts.Range[1]
		if first < 0 || last < first || last >= obj.Size() {
			return PartInfo{}, fmt.Errorf("%w: bytes=%d-%d of %s/%s, which has %d bytes", ErrInvalidRange, first, last, srcBucket, srcKey, obj.Size())
		}
		off, length = first, last-first+1
	}
	if length > MaxPartSize {
		return PartInfo{}, fmt.Errorf("%w: part copy of %d bytes, limit %d (copy a range)", ErrEntityTooLarge, length, int64(MaxPartSize))
	}
	urec, err := u.record(ctx)
	if err != nil {
		return PartInfo{}, err
	}
	data, err := s.writeData(ctx, io.NewSectionReader(obj, off, length), length, MaxPartSize, &Integrity{ChecksumAlgorithm: urec.ChecksumAlgorithm}, urec.StorageClass)
	if err != nil {
		return PartInfo{}, err
	}
	return u.commitPart(ctx, n, data)
}

// ListParts lists the upload's parts in part number order, a page at a
// time, as S3's ListParts does.
func (u *MultipartUpload) ListParts(ctx context.Context, opts *ListPartsOptions) (*PartsPage, error) {
	s := u.b.s
	if opts == nil {
		opts = &ListPartsOptions{}
	}
	if opts.PartNumberMarker < 0 {
		return nil, fmt.Errorf("%w: PartNumberMarker %d is negative", ErrInvalidArgument, opts.PartNumberMarker)
	}
	maxParts := opts.MaxParts
	if maxParts < 0 {
		return nil, fmt.Errorf("%w: MaxParts %d is negative", ErrInvalidArgument, maxParts)
	}
	if maxParts == 0 || maxParts > MaxListParts {
		maxParts = MaxListParts
	}
	page := &PartsPage{}
	if _, err := u.record(ctx); err != nil {
		return nil, err
	}
	if opts.PartNumberMarker >= MaxParts {
		return page, nil
	}
	p := partsPrefix(u.id)
	it, err := s.idx.NewIter(ctx, partKey(u.id, opts.PartNumberMarker+1), index.PrefixEnd(p))
	if err != nil {
		return nil, err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		if len(page.Parts) == maxParts {
			page.IsTruncated = true
			break
		}
		pr, err := unmarshalPart(it.Value())
		if err != nil {
			return nil, fmt.Errorf("cellar: upload %s: %w", u.id, err)
		}
		page.Parts = append(page.Parts, pr.info())
		page.NextPartNumberMarker = pr.PartNumber
	}
	if err := it.Error(); err != nil {
		return nil, err
	}
	return page, nil
}

// parts reads every part record of the upload, by part number.
func (u *MultipartUpload) parts(ctx context.Context) (map[int]*partRecord, error) {
	p := partsPrefix(u.id)
	it, err := u.b.s.idx.NewIter(ctx, p, index.PrefixEnd(p))
	if err != nil {
		return nil, err
	}
	defer it.Close()
	out := make(map[int]*partRecord)
	for ok := it.First(); ok; ok = it.Next() {
		pr, err := unmarshalPart(it.Value())
		if err != nil {
			return nil, fmt.Errorf("cellar: upload %s: %w", u.id, err)
		}
		out[pr.PartNumber] = pr
	}
	return out, it.Error()
}

// Complete makes the object from the listed parts, with S3's checks: at
// least one part, part numbers in ascending order (ErrInvalidPartOrder),
// each part uploaded with the given ETag (ErrInvalidPart), every part but
// the last at least MinPartSize (ErrEntityTooSmall), and at most
// MaxObjectSize in all (ErrEntityTooLarge). The object's data is the
// parts' data, not a copy; its ETag is the hex MD5 of the parts' binary
// MD5s followed by "-" and the number of parts. Uploaded parts left out of
// the list are deleted. The object becomes visible in one index commit,
// with the upload removed; once Complete returns, the upload is gone and
// every further call on it is ErrNoSuchUpload. A failed check or
// condition leaves the upload as it was, to be completed again.
func (u *MultipartUpload) Complete(ctx context.Context, parts []CompletedPart, opts *CompleteOptions) (ObjectInfo, error) {
	s := u.b.s
	if opts == nil {
		opts = &CompleteOptions{}
	}
	if err := s.check(); err != nil {
		return ObjectInfo{}, err
	}
	if opts.IfNoneMatch != "" && opts.IfNoneMatch != "*" {
		return ObjectInfo{}, fmt.Errorf("%w: IfNoneMatch must be \"*\"", ErrInvalidArgument)
	}
	if len(parts) == 0 {
		return ObjectInfo{}, fmt.Errorf("%w: a multipart upload is completed with at least one part", ErrInvalidArgument)
	}
	for i, p := range parts {
		if err := checkPartNumber(p.PartNumber); err != nil {
			return ObjectInfo{}, err
		}
		if i > 0 && p.PartNumber <= parts[i-1].PartNumber {
			return ObjectInfo{}, fmt.Errorf("%w: part %d follows part %d; parts must be listed in ascending order of part number, each once", ErrInvalidPartOrder, p.PartNumber, parts[i-1].PartNumber)
		}
	}

	// The upload's lock keeps parts from being recorded between reading
	// them here and the commit, which removes the upload.
	unlock := s.lockUpload(u.id)
	defer unlock()
	urec, err := u.record(ctx)
	if err != nil {
		return ObjectInfo{}, err
	}
	stored, err := u.parts(ctx)
	if err != nil {
		return ObjectInfo{}, err
	}
	used := make(map[int]bool, len(parts))
	segs := make([]segment, 0, len(parts))
	for _, p := range parts {
		pr := stored[p.PartNumber]
		if pr == nil {
			return ObjectInfo{}, fmt.Errorf("%w: part %d was not uploaded to upload %s", ErrInvalidPart, p.PartNumber, u.id)
		}
		if etag := strings.Trim(p.ETag, `"`); etag != pr.Seg.ETag {
			return ObjectInfo{}, fmt.Errorf("%w: part %d has ETag %q, not %q", ErrInvalidPart, p.PartNumber, pr.Seg.ETag, etag)
		}
		if p.Checksum != "" && p.Checksum != pr.Seg.Checksum {
			return ObjectInfo{}, fmt.Errorf("%w: part %d has %s checksum %q, not %q", ErrInvalidPart, p.PartNumber, urec.ChecksumAlgorithm, pr.Seg.Checksum, p.Checksum)
		}
		used[p.PartNumber] = true
		segs = append(segs, pr.Seg)
	}
	h := md5.New()
	var total int64
	for i, seg := range segs {
		if i < len(segs)-1 && seg.Size < MinPartSize {
			return ObjectInfo{}, fmt.Errorf("%w: part %d has %d bytes; every part but the last needs at least %d", ErrEntityTooSmall, parts[i].PartNumber, seg.Size, MinPartSize)
		}
		if total += seg.Size; total > MaxObjectSize {
			return ObjectInfo{}, fmt.Errorf("%w: parts add up to over %d bytes", ErrEntityTooLarge, int64(MaxObjectSize))
		}
		sum, err := hex.DecodeString(seg.ETag)
		if err != nil {
			return ObjectInfo{}, fmt.Errorf("cellar: upload %s part %d: ETag %q: %w", u.id, parts[i].PartNumber, seg.ETag, errBadRecord)
		}
		h.Write(sum)
	}
	ck, err := urec.objectChecksum(segs)
	if err != nil {
		return ObjectInfo{}, err
	}
	if opts.Checksum != "" && opts.Checksum != ck.Value {
		return ObjectInfo{}, fmt.Errorf("%w: the %s you specified for the object did not match the calculated checksum", ErrBadDigest, ck.Algorithm)
	}
	rec := &versionRecord{
		Bucket:       u.b.name,
		Key:          u.key,
		Size:         total,
		ETag:         hex.EncodeToString(h.Sum(nil)) + "-" + strconv.Itoa(len(segs)),
		ContentType:  urec.ContentType,
		Metadata:     urec.Metadata,
		Tags:         urec.Tags,
		Headers:      urec.Headers,
		StorageClass: urec.StorageClass,
		Checksum:     ck,
		Segments:     segs,
	}
	err = s.commitVersion(ctx, rec, commitArgs{
		cond: putConditions{ifMatch: opts.IfMatch, ifNoneMatch: opts.IfNoneMatch},
		extra: func(batch *index.Batch, _ *versionRecord) error {
			// The used parts' data references stay: the version owns
			// the data now.
			batch.Delete(uploadKey(u.b.name, u.key, u.id))
			for n, pr := range stored {
				batch.Delete(partKey(u.id, n))
				if !used[n] {
					s.queueDeletion(batch, pr.Seg)
				}
			}
			return nil
		},
	})
	if err != nil {
		return ObjectInfo{}, err
	}
	info := rec.info()
	info.IsLatest = true
	s.describe(ctx, rec, &info)
	return info, nil
}

// Abort ends the upload: its parts are deleted after the grace period
// (readers hold none of them). An upload already completed or aborted is
// ErrNoSuchUpload. A part whose UploadPart is still running when Abort
// commits is deleted by that UploadPart, which then fails with
// ErrNoSuchUpload.
func (u *MultipartUpload) Abort(ctx context.Context) error {
	s := u.b.s
	unlock := s.lockUpload(u.id)
	defer unlock()
	if _, err := u.record(ctx); err != nil {
		return err
	}
	stored, err := u.parts(ctx)
	if err != nil {
		return err
	}
	var batch index.Batch
	batch.Delete(uploadKey(u.b.name, u.key, u.id))
	for n, pr := range stored {
		batch.Delete(partKey(u.id, n))
		s.queueDeletion(&batch, pr.Seg)
	}
	if err := s.apply(ctx, &batch); err != nil {
		return fmt.Errorf("cellar: abort upload %s: %w", u.id, err)
	}
	return nil
}

// ListMultipartUploads lists the bucket's uploads in progress, a page at a
// time, with S3's prefix, delimiter and marker semantics. Uploads are
// sorted by key, then by upload ID; upload IDs begin with the time they
// were made, so the uploads of one key are in the order they were
// initiated, as S3 has them.
func (b *Bucket) ListMultipartUploads(ctx context.Context, opts *ListUploadsOptions) (*UploadsPage, error) {
	s := b.s
	if err := s.check(); err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &ListUploadsOptions{}
	}
	it, base, maxUploads, err := b.listScan(ctx, spaceUpload, opts.Prefix, opts.MaxUploads, MaxListUploads, "MaxUploads")
	if err != nil {
		return nil, err
	}
	defer it.Close()
	// The iterator is bounded to the prefix, so a seek below it lands on
	// its first key and one past it finds nothing.
	seek := it.SeekGE
	// commonPrefix is the common prefix that key rolls up into, or "".
	commonPrefix := func(key string) string {
		if opts.Delimiter == "" || !strings.HasPrefix(key, opts.Prefix) {
			return ""
		}
		if i := strings.Index(key[len(opts.Prefix):], opts.Delimiter); i >= 0 {
			return key[:len(opts.Prefix)+i+len(opts.Delimiter)]
		}
		return ""
	}
	var ok bool
	switch m := opts.KeyMarker; {
	case m == "":
		ok = it.First()
	case commonPrefix(m) == m:
		// The marker is a common prefix a truncated page ended with:
		// skip every key under it.
		ok = seek(index.PrefixEnd(index.AppendEscapedPrefix(bytes.Clone(base), []byte(m))))
	case opts.UploadIDMarker != "":
		k := append(index.AppendEscapedString(bytes.Clone(base), m), opts.UploadIDMarker...)
		if ok = seek(k); ok && bytes.Equal(it.Key(), k) {
			ok = it.Next()
		}
	default:
		ok = seek(index.PrefixEnd(index.AppendEscapedString(bytes.Clone(base), m)))
	}

	page := &UploadsPage{}
	var lastKey, lastID string
	for ok {
		if len(page.Uploads)+len(page.CommonPrefixes) == maxUploads {
			page.IsTruncated = true
			page.NextKeyMarker, page.NextUploadIDMarker = lastKey, lastID
			break
		}
		rawKey, rest, err := index.DecodeEscaped(it.Key()[len(base):])
		if err != nil {
			return nil, fmt.Errorf("cellar: list uploads of %s: %w", b.name, err)
		}
		key := string(rawKey)
		if cp := commonPrefix(key); cp != "" {
			page.CommonPrefixes = append(page.CommonPrefixes, cp)
			lastKey, lastID = cp, ""
			ok = seek(index.PrefixEnd(index.AppendEscapedPrefix(bytes.Clone(base), []byte(cp))))
			continue
		}
		rec, err := unmarshalUpload(it.Value())
		if err != nil {
			return nil, fmt.Errorf("cellar: list uploads of %s/%s: %w", b.name, key, err)
		}
		page.Uploads = append(page.Uploads, UploadInfo{Key: key, UploadID: string(rest), Initiated: rec.Initiated, StorageClass: recordClass(rec.StorageClass), Checksum: rec.checksum()})
		lastKey, lastID = key, string(rest)
		ok = it.Next()
	}
	if err := it.Error(); err != nil {
		return nil, err
	}
	return page, nil
}

// Uploads walks every upload in progress that opts selects, page by page.
// With a Delimiter, common prefixes are not yielded. The walk stops at the
// first error, which it yields.
func (b *Bucket) Uploads(ctx context.Context, opts *ListUploadsOptions) iter.Seq2[UploadInfo, error] {
	return func(yield func(UploadInfo, error) bool) {
		o := ListUploadsOptions{}
		if opts != nil {
			o = *opts
		}
		for {
			page, err := b.ListMultipartUploads(ctx, &o)
			if err != nil {
				yield(UploadInfo{}, err)
				return
			}
			for _, u := range page.Uploads {
				if !yield(u, nil) {
					return
				}
			}
			if !page.IsTruncated {
				return
			}
			o.KeyMarker, o.UploadIDMarker = page.NextKeyMarker, page.NextUploadIDMarker
		}
	}
}

// resolvePart is resolve followed by GetOptions.PartNumber: the version
// narrowed to that part.
func (b *Bucket) resolvePart(ctx context.Context, key string, opts *GetOptions) (*versionRecord, error) {
	if opts != nil && (opts.PartNumber < 0 || opts.PartNumber > MaxParts) {
		return nil, fmt.Errorf("%w: part number %d: must be an integer between 1 and %d, inclusive", ErrInvalidArgument, opts.PartNumber, MaxParts)
	}
	rec, err := b.resolve(ctx, key, opts)
	if err != nil || opts == nil || opts.PartNumber == 0 {
		return rec, err
	}
	return rec.part(opts.PartNumber)
}

// part narrows a version to its part n: the same record (ETag, parts
// count, times) with only that part's segment and size. An object that
// was not uploaded in parts has one part, itself.
func (r *versionRecord) part(n int) (*versionRecord, error) {
	count := partsCount(r.ETag)
	if count == 0 {
		if n == 1 {
			return r, nil
		}
		return nil, fmt.Errorf("%w: part %d of %s/%s, which was not uploaded in parts", ErrInvalidPartNumber, n, r.Bucket, r.Key)
	}
	if n > count || n > len(r.Segments) {
		return nil, fmt.Errorf("%w: part %d of %s/%s, which has %d parts", ErrInvalidPartNumber, n, r.Bucket, r.Key, count)
	}
	c := *r
	c.Segments = []segment{r.Segments[n-1]}
	c.Size = c.Segments[0].Size
	return &c, nil
}

// partsCount is the number of parts of a multipart object, from its ETag
// (hex-N), or 0 for an object not uploaded in parts.
func partsCount(etag string) int {
	i := strings.LastIndexByte(etag, '-')
	if i < 0 {
		return 0
	}
	n, err := strconv.Atoi(etag[i+1:])
	if err != nil || n < 1 {
		return 0
	}
	return n
}

// checkParts counts the data of uploaded parts as known to Check and
// verifies it.
func (s *Store) checkParts(ctx context.Context, snap index.Reader, rep *CheckReport, heal *index.Batch, known map[string]bool) error {
	it, err := snap.NewIter(ctx, []byte{spacePart}, []byte{spacePart + 1})
	if err != nil {
		return err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		pr, err := unmarshalPart(it.Value())
		if err != nil {
			rep.Problems = append(rep.Problems, fmt.Sprintf("part record %x: %v", it.Key(), err))
			continue
		}
		what := fmt.Sprintf("%s/%s upload %s part %d", pr.Bucket, pr.Key, pr.UploadID, pr.PartNumber)
		known[pr.Seg.DataID] = true
		if _, err := snap.Get(ctx, uploadKey(pr.Bucket, pr.Key, pr.UploadID)); err != nil {
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s: part of an upload that is not there: %v", what, err))
		}
		s.checkSegment(ctx, rep, heal, what, pr.Seg)
	}
	return it.Error()
}

// queueDeletion adds to batch the deletion of a segment's data once the
// grace period is over.
func (s *Store) queueDeletion(batch *index.Batch, seg segment) {
	due := s.now().Add(max(s.opts.DeleteGrace, 0)).UnixNano()
	batch.Set(garbageKey(due, seg.DataID), seg.marshal())
}

// lockUpload serializes the index updates of one upload: part commits,
// Complete and Abort. It shares the key locks' table under a name no
// bucket can have (bucket names hold no NUL byte). Lock order: an
// upload's lock before a key's lock, never the other way.
func (s *Store) lockUpload(id string) func() {
	return s.keys.lock("\x00upload", id)
}

// Upload IDs are 48 hex digits: the commit sequence number when the
// upload was made (so IDs sort by initiation time) and 128 random bits.
const uploadIDLen = 48

func newUploadID(seq uint64) string {
	var b [uploadIDLen / 2]byte
	binary.BigEndian.PutUint64(b[:8], seq)
	rand.Read(b[8:])
	return hex.EncodeToString(b[:])
}

func validUploadID(id string) bool {
	if len(id) != uploadIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// uploadKey is U esc(bucket) esc(key) uploadID.
func uploadKey(bucket, key, id string) []byte {
	return append(index.AppendEscapedString(objectPrefix(spaceUpload, bucket), key), id...)
}

// partsPrefix is the start of every part key of an upload. Upload IDs
// have a fixed length, so no upload's prefix is another's.
func partsPrefix(id string) []byte {
	return append([]byte{spacePart}, id...)
}

// partKey is P uploadID partNumber(uint16 big-endian).
func partKey(id string, n int) []byte {
	return binary.BigEndian.AppendUint16(partsPrefix(id), uint16(n))
}

// uploadRecord is what the index keeps for an upload in progress: what
// the completed object gets besides its data.
type uploadRecord struct {
	Bucket, Key string
	Initiated   time.Time
	ContentType string
	Metadata    map[string]string
	Tags        map[string]string
	Headers     map[string]string
	// The checksum algorithm of every part and the type of the completed
	// object's checksum.
	ChecksumAlgorithm string
	ChecksumType      string
	// StorageClass is the completed object's; "" is STANDARD. The parts
	// are written in its placement.
	StorageClass string
}

// partRecord is what the index keeps for an uploaded part, and what the
// part's shards carry in their trailers.
type partRecord struct {
	Bucket, Key  string
	UploadID     string
	PartNumber   int
	Seg          segment // with the part's size and ETag
	LastModified time.Time
}

// Upload and part records use the field encoding of version records (see
// record.go) behind their own format bytes, which no version record
// starts with, so a record read from a shard trailer says what it is.
const (
	uploadRecordFormat = 0x81
	partRecordFormat   = 0x82
)

// Field tags of upload and part records. Never reuse a number.
const (
	upTagBucket = iota + 1
	upTagKey
	upTagInitiated
	upTagContentType
	upTagMetadata // repeated pair
	upTagTag      // repeated pair
	upTagHeader   // repeated pair
	upTagChecksumAlgorithm
	upTagChecksumType
	upTagStorageClass
)

const (
	ptTagBucket = iota + 1
	ptTagKey
	ptTagUploadID
	ptTagPartNumber
	ptTagLastModified
	ptTagSegment
)

func (r *uploadRecord) marshal() []byte {
	w := recWriter{b: []byte{uploadRecordFormat}}
	w.str(upTagBucket, r.Bucket)
	w.str(upTagKey, r.Key)
	w.uint(upTagInitiated, uint64(r.Initiated.UnixNano()))
	w.str(upTagContentType, r.ContentType)
	w.pairs(upTagMetadata, r.Metadata)
	w.pairs(upTagTag, r.Tags)
	w.pairs(upTagHeader, r.Headers)
	w.str(upTagChecksumAlgorithm, r.ChecksumAlgorithm)
	w.str(upTagChecksumType, r.ChecksumType)
	w.str(upTagStorageClass, r.StorageClass)
	return w.b
}

func unmarshalUpload(b []byte) (*uploadRecord, error) {
	if len(b) == 0 || b[0] != uploadRecordFormat {
		return nil, fmt.Errorf("%w: not an upload record", errBadRecord)
	}
	r := &uploadRecord{}
	err := fields(b[1:], func(tag uint64, v []byte) error {
		var err error
		switch tag {
		case upTagBucket:
			r.Bucket = string(v)
		case upTagKey:
			r.Key = string(v)
		case upTagInitiated:
			var x uint64
			x, err = uvarint(v)
			r.Initiated = time.Unix(0, int64(x)).UTC()
		case upTagContentType:
			r.ContentType = string(v)
		case upTagMetadata:
			err = readPair(&r.Metadata, v)
		case upTagTag:
			err = readPair(&r.Tags, v)
		case upTagHeader:
			err = readPair(&r.Headers, v)
		case upTagChecksumAlgorithm:
			r.ChecksumAlgorithm = string(v)
		case upTagChecksumType:
			r.ChecksumType = string(v)
		case upTagStorageClass:
			r.StorageClass = string(v)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (r *partRecord) marshal() []byte {
	w := recWriter{b: []byte{partRecordFormat}}
	w.str(ptTagBucket, r.Bucket)
	w.str(ptTagKey, r.Key)
	w.str(ptTagUploadID, r.UploadID)
	w.uint(ptTagPartNumber, uint64(r.PartNumber))
	w.uint(ptTagLastModified, uint64(r.LastModified.UnixNano()))
	w.bytes(ptTagSegment, r.Seg.marshal())
	return w.b
}

func unmarshalPart(b []byte) (*partRecord, error) {
	if len(b) == 0 || b[0] != partRecordFormat {
		return nil, fmt.Errorf("%w: not a part record", errBadRecord)
	}
	r := &partRecord{}
	seen := false
	err := fields(b[1:], func(tag uint64, v []byte) error {
		var err error
		switch tag {
		case ptTagBucket:
			r.Bucket = string(v)
		case ptTagKey:
			r.Key = string(v)
		case ptTagUploadID:
			r.UploadID = string(v)
		case ptTagPartNumber:
			r.PartNumber, err = smallInt(v, MaxParts)
		case ptTagLastModified:
			var x uint64
			x, err = uvarint(v)
			r.LastModified = time.Unix(0, int64(x)).UTC()
		case ptTagSegment:
			r.Seg, err = unmarshalSegment(v)
			seen = true
		}
		return err
	})
	if err == nil && (!seen || r.PartNumber < 1) {
		err = fmt.Errorf("%w: part record without a segment or part number", errBadRecord)
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (r *partRecord) info() PartInfo {
	return PartInfo{PartNumber: r.PartNumber, ETag: r.Seg.ETag, Size: r.Seg.Size, LastModified: r.LastModified, Checksum: r.Seg.Checksum}
}

// checksum is the upload's checksum algorithm and type.
func (r *uploadRecord) checksum() Checksum {
	return Checksum{Algorithm: r.ChecksumAlgorithm, Type: r.ChecksumType}
}

// uploadChecksum picks an upload's checksum algorithm and type with S3's
// defaults and rules: CRC64NVME when none is given; CRC64NVME is
// FULL_OBJECT only, SHA1 and SHA256 COMPOSITE only, CRC32 and CRC32C
// either (COMPOSITE by default).
func uploadChecksum(algName, ctype string) (checksum.Algorithm, string, error) {
	if algName == "" {
		algName = DefaultChecksumAlgorithm
	}
	alg, err := checksum.ParseAlgorithm(algName)
	if err != nil {
		return "", "", fmt.Errorf("%w: checksum algorithm %q", ErrInvalidRequest, algName)
	}
	if ctype == "" {
		ctype = ChecksumComposite
		if !alg.SupportsComposite() {
			ctype = ChecksumFullObject
		}
	}
	switch {
	case ctype == ChecksumFullObject && alg.SupportsFullObject(), ctype == ChecksumComposite && alg.SupportsComposite():
		return alg, ctype, nil
	case ctype != ChecksumFullObject && ctype != ChecksumComposite:
		return "", "", fmt.Errorf("%w: checksum type %q: want %s or %s", ErrInvalidRequest, ctype, ChecksumFullObject, ChecksumComposite)
	}
	return "", "", fmt.Errorf("%w: the %s checksum type cannot be used with the %s algorithm", ErrInvalidRequest, ctype, alg)
}

// objectChecksum computes a completed upload's checksum from its parts'.
func (r *uploadRecord) objectChecksum(segs []segment) (Checksum, error) {
	alg, err := checksum.ParseAlgorithm(r.ChecksumAlgorithm)
	if err != nil {
		return Checksum{}, fmt.Errorf("cellar: upload of %s/%s: %w", r.Bucket, r.Key, errBadRecord)
	}
	sums := make([][]byte, len(segs))
	lengths := make([]int64, len(segs))
	for i, seg := range segs {
		if sums[i], err = checksum.Decode(seg.Checksum, alg); err != nil {
			return Checksum{}, fmt.Errorf("cellar: part %d of %s/%s has no valid %s checksum: %w", i+1, r.Bucket, r.Key, alg, errBadRecord)
		}
		lengths[i] = seg.Size
	}
	ck := Checksum{Algorithm: string(alg), Type: r.ChecksumType}
	if r.ChecksumType == ChecksumFullObject {
		sum, err := checksum.FullObject(alg, sums, lengths)
		if err != nil {
			return Checksum{}, err
		}
		ck.Value = checksum.Encode(sum)
	} else {
		ck.Value = checksum.EncodeComposite(checksum.Composite(alg, sums), len(segs))
	}
	return ck, nil
}
