package cellar

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cellarhq/cellar/index"
)

// The directives of CopyObject: whether the copy takes the source's
// metadata (or tags) or the ones in the request.
const (
	DirectiveCopy    = "COPY"
	DirectiveReplace = "REPLACE"
)

// MaxCopySourceSize is the largest object CopyObject copies, as S3 limits
// it (5 GiB); larger objects are copied part by part with a multipart
// upload.
const MaxCopySourceSize = MaxPutSize

// CopyOptions configure Bucket.CopyObject. A nil *CopyOptions is the zero
// value: copy the source's current version with its content type, user
// metadata and tags.
type CopyOptions struct {
	// SourceVersionID copies that version of the source instead of its
	// current one (S3's x-amz-copy-source ?versionId=).
	SourceVersionID string

	// MetadataDirective is DirectiveCopy (the default when empty): the copy
	// gets the source's content type and user metadata; or
	// DirectiveReplace: it gets ContentType and Metadata instead. Setting
	// ContentType or Metadata with COPY is an error rather than, as S3
	// does, silently ignored.
	MetadataDirective string
	ContentType       string
	Metadata          map[string]string
	// ContentHeaders, with DirectiveReplace, replace the source's too.
	ContentHeaders

	// ChecksumAlgorithm is the checksum the copy computes and stores; empty
	// means the source's algorithm (CRC64NVME if it has none).
	ChecksumAlgorithm string

	// TaggingDirective is DirectiveCopy (the default when empty): the copy
	// gets the source's tags; or DirectiveReplace: it gets Tags, checked
	// as Put checks them. Tags with COPY is an error.
	TaggingDirective string
	Tags             map[string]string

	// Conditions on the source, as S3's x-amz-copy-source-if-* headers.
	// CopySourceIfMatch, if set, decides alone over
	// CopySourceIfUnmodifiedSince; CopySourceIfNoneMatch, if set, decides
	// alone over CopySourceIfModifiedSince; a CopySourceIfModifiedSince
	// later than the store's clock is ignored. Every failure is
	// ErrPreconditionFailed.
	CopySourceIfMatch           string
	CopySourceIfNoneMatch       string
	CopySourceIfModifiedSince   time.Time
	CopySourceIfUnmodifiedSince time.Time

	// StorageClass is the copy's storage class (S3's x-amz-storage-class);
	// "" means STANDARD, as S3 gives a copy without the header, whatever
	// the source's. A copy of an object onto itself that changes only its
	// storage class is legal.
	StorageClass string

	// Conditions on the destination, as PutOptions has them: IfNoneMatch
	// "*" copies only if the key has no current object; IfMatch only if
	// its current object has this ETag. They are checked atomically with
	// the commit.
	IfMatch     string
	IfNoneMatch string
}

// CopyResult reports what CopyObject made.
type CopyResult struct {
	// Object describes the new version: its ETag, LastModified and
	// VersionID.
	Object ObjectInfo
	// SourceVersionID is the version that was copied ("null" for a null
	// version), as S3 reports it in x-amz-copy-source-version-id.
	SourceVersionID string
}

// CopyObject copies the object srcKey of the bucket srcBucket (this bucket
// or another) to key in this bucket, with S3's CopyObject semantics. The
// copy is a new version of key whose data is written afresh: it shares
// nothing with its source, so either can be deleted without touching the
// other. Its ETag is the MD5 of the bytes, which for a multipart source
// differs from the source's "-N" ETag, as S3 does.
//
// A missing source is ErrNoSuchKey (a *DeleteMarkerError if a delete
// marker hides it) or ErrNoSuchVersion; a SourceVersionID naming a delete
// marker, a source over MaxCopySourceSize, and a copy of an object onto
// itself that changes nothing (same bucket and key, no SourceVersionID,
// MetadataDirective COPY) are ErrInvalidRequest.
func (b *Bucket) CopyObject(ctx context.Context, key, srcBucket, srcKey string, opts *CopyOptions) (CopyResult, error) {
	s := b.s
	if opts == nil {
		opts = &CopyOptions{}
	}
	if err := s.check(); err != nil {
		return CopyResult{}, err
	}
	if err := ValidKey(key); err != nil {
		return CopyResult{}, err
	}
	if _, err := s.bucketRecord(ctx, b.name); err != nil {
		return CopyResult{}, err
	}
	replaceMeta, err := directive("MetadataDirective", opts.MetadataDirective)
	if err != nil {
		return CopyResult{}, err
	}
	replaceTags, err := directive("TaggingDirective", opts.TaggingDirective)
	if err != nil {
		return CopyResult{}, err
	}
	var md map[string]string
	if replaceMeta {
		if md, err = normalizeMetadata(opts.Metadata); err != nil {
			return CopyResult{}, err
		}
	} else if opts.ContentType != "" || len(opts.Metadata) > 0 || opts.ContentHeaders != (ContentHeaders{}) {
		return CopyResult{}, fmt.Errorf("%w: CopyOptions.ContentType and Metadata need MetadataDirective %s", ErrInvalidArgument, DirectiveReplace)
	}
	if replaceTags {
		if err := ValidTags(opts.Tags); err != nil {
			return CopyResult{}, err
		}
	} else if len(opts.Tags) > 0 {
		return CopyResult{}, fmt.Errorf("%w: CopyOptions.Tags needs TaggingDirective %s", ErrInvalidArgument, DirectiveReplace)
	}
	if opts.IfNoneMatch != "" && opts.IfNoneMatch != "*" {
		return CopyResult{}, fmt.Errorf("%w: IfNoneMatch must be \"*\"", ErrInvalidArgument)
	}
	class, err := normalizeClass(opts.StorageClass)
	if err != nil {
		return CopyResult{}, err
	}

	src, err := (&Bucket{s: s, name: srcBucket}).copySource(ctx, srcKey, opts.SourceVersionID)
	if err != nil {
		return CopyResult{}, err
	}
	if src.Size > MaxCopySourceSize {
		return CopyResult{}, fmt.Errorf("%w: the specified copy source is larger than the maximum allowable size for a copy source: %d (%s/%s is %d bytes; use a multipart upload)",
			ErrInvalidRequest, int64(MaxCopySourceSize), srcBucket, srcKey, src.Size)
	}
	srcInfo := src.info()
	if err := opts.checkSource(&srcInfo, s.now()); err != nil {
		return CopyResult{}, err
	}
	if err := s.checkReadable(src); err != nil {
		return CopyResult{}, err
	}
	classChange := opts.StorageClass != "" && class != recordClass(src.StorageClass)
	if srcBucket == b.name && srcKey == key && opts.SourceVersionID == "" && !replaceMeta && !classChange {
		return CopyResult{}, fmt.Errorf("%w: this copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes (%s/%s)",
			ErrInvalidRequest, b.name, key)
	}
	cond := putConditions{ifMatch: opts.IfMatch, ifNoneMatch: opts.IfNoneMatch}
	// Fail early, before copying any bytes; commitVersion checks again
	// under the key's lock, which is what makes the condition atomic.
	if err := s.precheckPut(ctx, b.name, key, cond); err != nil {
		return CopyResult{}, err
	}

	rec := &versionRecord{
		Bucket:      b.name,
		Key:         key,
		ContentType: src.ContentType,
		Metadata:    cloneTags(src.Metadata),
		Tags:        cloneTags(src.Tags),
		Headers:     cloneTags(src.Headers),
	}
	if replaceMeta {
		if err := opts.ContentHeaders.validate(); err != nil {
			return CopyResult{}, err
		}
		rec.ContentType, rec.Metadata, rec.Headers = opts.ContentType, md, opts.ContentHeaders.toMap()
	}
	if rec.ContentType == "" {
		rec.ContentType = "binary/octet-stream"
	}
	if replaceTags {
		rec.Tags = cloneTags(opts.Tags)
	}

	// Read the source through an Object, which holds its data against the
	// sweeper until closed, so that an overwrite or delete of the source
	// mid-copy does not cut the copy short.
	obj := s.newObject(ctx, src)
	alg := opts.ChecksumAlgorithm
	if alg == "" {
		alg = src.Checksum.Algorithm
	}
	data, err := s.writeData(ctx, obj, src.Size, MaxCopySourceSize, &Integrity{ChecksumAlgorithm: alg}, class)
	obj.Close()
	if err != nil {
		return CopyResult{}, err
	}
	rec.Size = data.seg.Size
	rec.ETag = data.seg.ETag
	rec.Checksum = Checksum{Algorithm: data.alg, Value: data.seg.Checksum, Type: ChecksumFullObject}
	rec.Segments = []segment{data.seg}
	if class != StorageClassStandard {
		rec.StorageClass = class
	}
	if err := s.commitVersion(ctx, rec, commitArgs{cond: cond, data: data}); err != nil {
		return CopyResult{}, err
	}
	info := rec.info()
	info.IsLatest = true
	s.describe(ctx, rec, &info)
	return CopyResult{Object: info, SourceVersionID: src.VersionID}, nil
}

// directive parses a COPY or REPLACE directive; empty is COPY.
func directive(field, v string) (replace bool, err error) {
	switch v {
	case "", DirectiveCopy:
		return false, nil
	case DirectiveReplace:
		return true, nil
	}
	return false, fmt.Errorf("%w: CopyOptions.%s %q: want %s or %s", ErrInvalidArgument, field, v, DirectiveCopy, DirectiveReplace)
}

// copySource finds the version a copy reads. S3 answers a copy whose
// source version ID names a delete marker, or is malformed, with
// InvalidRequest, and one whose current version is a delete marker with
// NoSuchKey.
func (b *Bucket) copySource(ctx context.Context, key, versionID string) (*versionRecord, error) {
	if versionID == "" {
		return b.resolve(ctx, key, nil)
	}
	s := b.s
	if err := ValidKey(key); err != nil {
		return nil, err
	}
	if _, err := s.bucketRecord(ctx, b.name); err != nil {
		return nil, err
	}
	rec, err := s.findVersion(ctx, b.name, key, versionID)
	if errors.Is(err, ErrInvalidArgument) {
		return nil, fmt.Errorf("%w: copy source: %v", ErrInvalidRequest, err)
	}
	if err != nil {
		return nil, err
	}
	if rec.DeleteMarker {
		return nil, fmt.Errorf("%w: the source of a copy request may not specifically refer to a delete marker by version id (%s/%s version %s)",
			ErrInvalidRequest, b.name, key, versionID)
	}
	return rec, nil
}

// checkSource applies S3's rules for the copy-source conditions. As for
// Get, a true If-Match overrides a false If-Unmodified-Since and a false
// If-None-Match decides alone over If-Modified-Since; unlike Get, every
// failure is a precondition failure (412), never Not Modified.
func (o *CopyOptions) checkSource(info *ObjectInfo, now time.Time) error {
	modified := info.LastModified.Truncate(time.Second)
	if o.CopySourceIfMatch != "" {
		if !etagMatches(o.CopySourceIfMatch, info.ETag) {
			return fmt.Errorf("%w: copy source If-Match %s, ETag is %q", ErrPreconditionFailed, o.CopySourceIfMatch, info.ETag)
		}
	} else if t := o.CopySourceIfUnmodifiedSince; !t.IsZero() && modified.After(t) {
		return fmt.Errorf("%w: copy source modified at %v, after If-Unmodified-Since %v", ErrPreconditionFailed, modified, t)
	}
	if o.CopySourceIfNoneMatch != "" {
		if etagMatches(o.CopySourceIfNoneMatch, info.ETag) {
			return fmt.Errorf("%w: copy source If-None-Match %s, ETag is %q", ErrPreconditionFailed, o.CopySourceIfNoneMatch, info.ETag)
		}
	} else if t := o.CopySourceIfModifiedSince; !t.IsZero() && !t.After(now) && !modified.After(t) {
		// A date in the future is not a valid If-Modified-Since (RFC
		// 7232); S3 ignores it.
		return fmt.Errorf("%w: copy source not modified since %v", ErrPreconditionFailed, t)
	}
	return nil
}

// precheckPut checks a write's conditions on the key's current object
// without a lock, so that a write bound to fail fails before it moves
// data. commitVersion checks them again, atomically with the commit.
func (s *Store) precheckPut(ctx context.Context, bucket, key string, cond putConditions) error {
	if cond.ifMatch == "" && cond.ifNoneMatch == "" {
		return nil
	}
	var cur *versionRecord
	v, err := s.idx.Get(ctx, latestKey(bucket, key))
	switch {
	case err == nil:
		if cur, err = unmarshalRecord(v); err != nil {
			return err
		}
	case !errors.Is(err, index.ErrNotFound):
		return err
	}
	if cond.ifNoneMatch == "*" && cur != nil {
		return fmt.Errorf("%w: %s/%s exists (If-None-Match: *)", ErrPreconditionFailed, bucket, key)
	}
	if cond.ifMatch != "" {
		if cur == nil {
			return fmt.Errorf("%w: %s/%s (If-Match)", ErrNoSuchKey, bucket, key)
		}
		if !etagMatches(cond.ifMatch, cur.ETag) {
			return fmt.Errorf("%w: If-Match %s, ETag is %q", ErrPreconditionFailed, cond.ifMatch, cur.ETag)
		}
	}
	return nil
}
