package cellar

import (
	"context"
	"errors"

	"github.com/cellarhq/cellar/index"
)

// TaggingOptions configure PutObjectTagging, GetObjectTagging and
// DeleteObjectTagging. A nil *TaggingOptions is the zero value.
type TaggingOptions struct {
	// VersionID names the version whose tags are read or changed; empty
	// means the key's current version.
	VersionID string
}

// PutObjectTagging replaces the tags of one version of an object, as S3's
// PutObjectTagging does, and returns that version's ID. The tags are
// checked with ValidTags; a bad set is refused and changes nothing. The
// version's data, ETag and LastModified are unchanged.
//
// Without a version ID, a key whose current version is a delete marker is
// ErrNoSuchKey (a *DeleteMarkerError); a version ID that names a delete
// marker is ErrMethodNotAllowed (a *DeleteMarkerError), as S3 answers.
func (b *Bucket) PutObjectTagging(ctx context.Context, key string, tags map[string]string, opts *TaggingOptions) (string, error) {
	if err := ValidTags(tags); err != nil {
		return "", err
	}
	return b.setTags(ctx, key, opts, cloneTags(tags))
}

// DeleteObjectTagging removes every tag of one version of an object and
// returns that version's ID. It fails as PutObjectTagging does.
func (b *Bucket) DeleteObjectTagging(ctx context.Context, key string, opts *TaggingOptions) (string, error) {
	return b.setTags(ctx, key, opts, nil)
}

// GetObjectTagging returns the tags of one version of an object (never a
// nil map) and that version's ID. It fails as PutObjectTagging does.
func (b *Bucket) GetObjectTagging(ctx context.Context, key string, opts *TaggingOptions) (map[string]string, string, error) {
	var gopts *GetOptions
	if opts != nil && opts.VersionID != "" {
		gopts = &GetOptions{VersionID: opts.VersionID}
	}
	rec, err := b.resolve(ctx, key, gopts)
	if err != nil {
		return nil, "", err
	}
	tags := make(map[string]string, len(rec.Tags))
	for k, v := range rec.Tags {
		tags[k] = v
	}
	return tags, rec.VersionID, nil
}

// setTags rewrites one version's record with new tags: the version record
// and, if the version is the current one, the latest pointer, in one
// index batch under the key's lock, so that no commit to the key slips in
// between the read and the write.
func (b *Bucket) setTags(ctx context.Context, key string, opts *TaggingOptions, tags map[string]string) (string, error) {
	s := b.s
	if err := s.check(); err != nil {
		return "", err
	}
	if err := ValidKey(key); err != nil {
		return "", err
	}
	var gopts *GetOptions
	if opts != nil && opts.VersionID != "" {
		gopts = &GetOptions{VersionID: opts.VersionID}
	}
	defer s.lockKey(b.name, key)()
	rec, err := b.resolve(ctx, key, gopts)
	if err != nil {
		return "", err
	}
	current := gopts == nil
	if !current {
		v, err := s.idx.Get(ctx, latestKey(b.name, key))
		switch {
		case err == nil:
			cur, err := unmarshalRecord(v)
			if err != nil {
				return "", err
			}
			current = cur.Seq == rec.Seq
		case !errors.Is(err, index.ErrNotFound):
			return "", err
		}
	}
	rec.Tags = tags
	enc := rec.marshal()
	var batch index.Batch
	// INVARIANT: the latest pointer holds the same record as the current
	// version's entry in the versions space.
	batch.Set(versionKey(b.name, key, rec.Seq), enc)
	if current {
		batch.Set(latestKey(b.name, key), enc)
	}
	if err := s.lifecycleOnRetag(ctx, &batch, rec); err != nil {
		return "", err
	}
	if err := s.apply(ctx, &batch); err != nil {
		return "", err
	}
	return rec.VersionID, nil
}
