package cellar

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"strings"

	"github.com/cellarhq/cellar/index"
)

// ListVersionsOptions configure Bucket.ListVersions, with the parameters
// of S3's ListObjectVersions. A nil *ListVersionsOptions lists everything.
type ListVersionsOptions struct {
	Prefix    string
	Delimiter string
	// KeyMarker lists keys after it; with VersionIDMarker, the versions of
	// KeyMarker older than that version come first.
	KeyMarker       string
	VersionIDMarker string
	// MaxKeys caps the versions, delete markers and common prefixes of a
	// page: 0 means 1000, more than 1000 is treated as 1000.
	MaxKeys int
}

// VersionsPage is one page of ListVersions. Versions holds versions and
// delete markers (DeleteMarker set) together, by key and newest first
// within a key, as S3 orders them.
type VersionsPage struct {
	Versions            []ObjectInfo
	CommonPrefixes      []string
	IsTruncated         bool
	NextKeyMarker       string
	NextVersionIDMarker string
}

// ListVersions returns one page of every version and delete marker in the
// bucket, as S3's ListObjectVersions does.
func (b *Bucket) ListVersions(ctx context.Context, opts *ListVersionsOptions) (*VersionsPage, error) {
	s := b.s
	if err := s.check(); err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &ListVersionsOptions{}
	}
	if opts.VersionIDMarker != "" && opts.KeyMarker == "" {
		return nil, fmt.Errorf("%w: a version ID marker cannot be given without a key marker", ErrInvalidArgument)
	}
	if len(opts.KeyMarker) > MaxKeyLength {
		return nil, fmt.Errorf("%w: key marker over %d bytes", ErrInvalidArgument, MaxKeyLength)
	}
	it, base, maxKeys, err := b.listScan(ctx, spaceVersions, opts.Prefix, opts.MaxKeys, MaxListKeys, "MaxKeys")
	if err != nil {
		return nil, err
	}
	defer it.Close()

	// prevKey is the key of the last version looked at: the first version
	// of any other key is its latest.
	var prevKey string
	havePrev := false
	var ok bool
	switch {
	case opts.VersionIDMarker != "":
		seq, err := b.markerSeq(ctx, opts.KeyMarker, opts.VersionIDMarker)
		if err != nil {
			return nil, err
		}
		ok = seekAfter(it, versionKey(b.name, opts.KeyMarker, seq))
		prevKey, havePrev = opts.KeyMarker, true
	case opts.KeyMarker != "":
		skip := index.AppendEscapedString(bytes.Clone(base), opts.KeyMarker)
		if opts.Delimiter != "" && strings.HasPrefix(opts.KeyMarker, opts.Prefix) &&
			strings.HasSuffix(opts.KeyMarker, opts.Delimiter) &&
			strings.Index(opts.KeyMarker[len(opts.Prefix):], opts.Delimiter) == len(opts.KeyMarker)-len(opts.Prefix)-len(opts.Delimiter) {
			// The marker is a common prefix a previous page ended on:
			// resume after every key under it.
			skip = index.AppendEscapedPrefixString(bytes.Clone(base), opts.KeyMarker)
		}
		ok = it.SeekGE(index.PrefixEnd(skip))
	default:
		ok = it.First()
	}

	page := &VersionsPage{}
	vers := getInfoBuf()
	for ok {
		rawKey, rest, err := index.DecodeEscaped(it.Key()[len(base):])
		if err != nil || len(rest) != 8 {
			return nil, fmt.Errorf("cellar: list versions %s: corrupt version key %x", b.name, it.Key())
		}
		key := string(rawKey)
		if opts.Delimiter != "" {
			if i := strings.Index(key[len(opts.Prefix):], opts.Delimiter); i >= 0 {
				if len(*vers)+len(page.CommonPrefixes) == maxKeys {
					page.IsTruncated = true
					break
				}
				cp := key[:len(opts.Prefix)+i+len(opts.Delimiter)]
				page.CommonPrefixes = append(page.CommonPrefixes, cp)
				page.NextKeyMarker, page.NextVersionIDMarker = cp, ""
				prevKey, havePrev = "", false
				ok = it.SeekGE(index.PrefixEnd(index.AppendEscapedPrefixString(bytes.Clone(base), cp)))
				continue
			}
		}
		if len(*vers)+len(page.CommonPrefixes) == maxKeys {
			page.IsTruncated = true
			break
		}
		rec, err := unmarshalRecord(it.Value())
		if err != nil {
			return nil, fmt.Errorf("cellar: list versions %s/%s: %w", b.name, key, err)
		}
		info := rec.info()
		info.Restore = restoreStatus(rec, b.s.now())
		info.IsLatest = !havePrev || prevKey != key
		prevKey, havePrev = key, true
		*vers = append(*vers, info)
		page.NextKeyMarker, page.NextVersionIDMarker = key, rec.VersionID
		ok = it.Next()
	}
	if err := it.Error(); err != nil {
		return nil, err
	}
	page.Versions = finishInfos(vers)
	if !page.IsTruncated {
		page.NextKeyMarker, page.NextVersionIDMarker = "", ""
	}
	return page, nil
}

// markerSeq finds the place in the order that a VersionIDMarker names. A
// version deleted since still marks its place, as its ID holds its
// sequence number.
func (b *Bucket) markerSeq(ctx context.Context, key, id string) (uint64, error) {
	if id != "null" {
		return versionSeq(id)
	}
	rec, err := b.s.findVersion(ctx, b.name, key, id)
	if err != nil {
		return 0, fmt.Errorf("%w: version ID marker null: key %q has no null version", ErrInvalidArgument, key)
	}
	return rec.Seq, nil
}

// Versions walks every version and delete marker that opts selects, page
// by page. Common prefixes are not yielded; use ListVersions for them.
func (b *Bucket) Versions(ctx context.Context, opts *ListVersionsOptions) iter.Seq2[ObjectInfo, error] {
	return func(yield func(ObjectInfo, error) bool) {
		o := ListVersionsOptions{}
		if opts != nil {
			o = *opts
		}
		for {
			page, err := b.ListVersions(ctx, &o)
			if err != nil {
				yield(ObjectInfo{}, err)
				return
			}
			for _, v := range page.Versions {
				if !yield(v, nil) {
					return
				}
			}
			if !page.IsTruncated {
				return
			}
			o.KeyMarker, o.VersionIDMarker = page.NextKeyMarker, page.NextVersionIDMarker
		}
	}
}
