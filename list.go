package cellar

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"

	"github.com/cellarhq/cellar/index"
)

// ListOptions configure Bucket.List and Bucket.Objects. A nil *ListOptions
// lists everything.
type ListOptions struct {
	// Prefix limits the listing to keys that begin with it.
	Prefix string
	// Delimiter groups keys that contain it after Prefix into one common
	// prefix each: the key up to and including the first Delimiter.
	Delimiter string
	// StartAfter lists only keys after it. A ContinuationToken overrides it.
	StartAfter string
	// ContinuationToken resumes a listing where the previous page ended.
	ContinuationToken string
	// MaxKeys caps the objects plus common prefixes of a page: 1 to 1000;
	// 0 means 1000. More than 1000 is treated as 1000, as S3 does; the page
	// then says IsTruncated.
	MaxKeys int
}

// ListPage is one page of a listing, shaped as S3's ListObjectsV2 reports it.
type ListPage struct {
	Objects        []ObjectInfo
	CommonPrefixes []string
	// IsTruncated says that more keys follow; pass NextContinuationToken
	// to get them.
	IsTruncated           bool
	NextContinuationToken string
}

// Tokens are base64url of a kind byte and a key: 'k' resumes after that
// key, 'p' after every key with that common prefix.
func encodeToken(kind byte, key string) string {
	return base64.RawURLEncoding.EncodeToString(append([]byte{kind}, key...))
}

func decodeToken(tok string) (kind byte, key string, err error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) < 2 || (b[0] != 'k' && b[0] != 'p') || len(b) > 1+MaxKeyLength {
		return 0, "", fmt.Errorf("%w: the continuation token is not valid", ErrInvalidArgument)
	}
	return b[0], string(b[1:]), nil
}

// List returns one page of the bucket's current objects in key order, as
// S3's ListObjectsV2 does. Delete markers and noncurrent versions are not
// listed. A page costs time in proportion to its size, not the bucket's.
func (b *Bucket) List(ctx context.Context, opts *ListOptions) (*ListPage, error) {
	s := b.s
	if err := s.check(); err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &ListOptions{}
	}
	it, base, maxKeys, err := b.listScan(ctx, spaceLatest, opts.Prefix, opts.MaxKeys, MaxListKeys, "MaxKeys")
	if err != nil {
		return nil, err
	}
	defer it.Close()

	// Position after StartAfter or the continuation token.
	var ok bool
	switch {
	case opts.ContinuationToken != "":
		kind, key, err := decodeToken(opts.ContinuationToken)
		if err != nil {
			return nil, err
		}
		if kind == 'p' {
			ok = it.SeekGE(index.PrefixEnd(index.AppendEscapedPrefix(bytes.Clone(base), []byte(key))))
		} else {
			ok = seekAfter(it, index.AppendEscapedString(bytes.Clone(base), key))
		}
	case opts.StartAfter != "":
		ok = seekAfter(it, index.AppendEscapedString(bytes.Clone(base), opts.StartAfter))
	default:
		ok = it.First()
	}

	page := &ListPage{}
	objs := getInfoBuf()
	var lastKind byte
	var last string
	for ok {
		if len(*objs)+len(page.CommonPrefixes) == maxKeys {
			page.IsTruncated = true
			page.NextContinuationToken = encodeToken(lastKind, last)
			break
		}
		rawKey, _, err := index.DecodeEscaped(it.Key()[len(base):])
		if err != nil {
			return nil, fmt.Errorf("cellar: list %s: %w", b.name, err)
		}
		key := string(rawKey)
		if opts.Delimiter != "" {
			if i := strings.Index(key[len(opts.Prefix):], opts.Delimiter); i >= 0 {
				cp := key[:len(opts.Prefix)+i+len(opts.Delimiter)]
				page.CommonPrefixes = append(page.CommonPrefixes, cp)
				lastKind, last = 'p', cp
				// Skip every other key under this common prefix with one seek.
				ok = it.SeekGE(index.PrefixEnd(index.AppendEscapedPrefix(bytes.Clone(base), []byte(cp))))
				continue
			}
		}
		rec, err := unmarshalRecord(it.Value())
		if err != nil {
			return nil, fmt.Errorf("cellar: list %s/%s: %w", b.name, key, err)
		}
		info := rec.info()
		info.IsLatest = true
		info.Restore = restoreStatus(rec, b.s.now())
		*objs = append(*objs, info)
		lastKind, last = 'k', key
		ok = it.Next()
	}
	if err := it.Error(); err != nil {
		return nil, err
	}
	page.Objects = finishInfos(objs)
	return page, nil
}

// infoBufs holds the scratch slices that List and ListVersions collect a
// page's objects in. A page of 1,000 then costs one allocation of its final
// size, where a slice grown by append costs a dozen and copies every
// ObjectInfo (some 300 bytes) about twice: that growth was most of a
// listing's time.
var infoBufs = sync.Pool{New: func() any {
	s := make([]ObjectInfo, 0, MaxListKeys)
	return &s
}}

func getInfoBuf() *[]ObjectInfo { return infoBufs.Get().(*[]ObjectInfo) }

// finishInfos returns what buf collected, in a slice of its own (nil if
// nothing), and gives buf back to the pool.
func finishInfos(buf *[]ObjectInfo) []ObjectInfo {
	s := *buf
	var out []ObjectInfo
	if len(s) > 0 {
		out = slices.Clone(s)
	}
	clear(s) // no references kept for the GC to follow
	*buf = s[:0]
	infoBufs.Put(buf)
	return out
}

// listScan is what every listing starts with: it checks the page size
// asked for (named field; 0 means limit, more than limit is limit, as S3
// does) and the prefix, checks the bucket, and opens an iterator over the
// keys of space in the bucket that begin with prefix. base is the
// bucket's key prefix in space.
func (b *Bucket) listScan(ctx context.Context, space byte, prefix string, max, limit int, field string) (it index.Iterator, base []byte, n int, err error) {
	if max < 0 {
		return nil, nil, 0, fmt.Errorf("%w: %s %d is negative", ErrInvalidArgument, field, max)
	}
	if max == 0 || max > limit {
		max = limit
	}
	if len(prefix) > MaxKeyLength {
		return nil, nil, 0, fmt.Errorf("%w: prefix of %d bytes", ErrInvalidArgument, len(prefix))
	}
	if _, err := b.s.bucketRecord(ctx, b.name); err != nil {
		return nil, nil, 0, err
	}
	base = objectPrefix(space, b.name)
	lower := index.AppendEscapedPrefixString(bytes.Clone(base), prefix)
	it, err = b.s.idx.NewIter(ctx, lower, index.PrefixEnd(lower))
	if err != nil {
		return nil, nil, 0, err
	}
	return it, base, max, nil
}

// seekAfter positions it at the first key after k.
func seekAfter(it index.Iterator, k []byte) bool {
	ok := it.SeekGE(k)
	if ok && bytes.Equal(it.Key(), k) {
		ok = it.Next()
	}
	return ok
}

// Objects walks every current object that opts selects, page by page, in
// key order. With a Delimiter, common prefixes are not yielded; use List
// for them. The walk stops at the first error, which it yields.
func (b *Bucket) Objects(ctx context.Context, opts *ListOptions) iter.Seq2[ObjectInfo, error] {
	return func(yield func(ObjectInfo, error) bool) {
		o := ListOptions{}
		if opts != nil {
			o = *opts
		}
		for {
			page, err := b.List(ctx, &o)
			if err != nil {
				yield(ObjectInfo{}, err)
				return
			}
			for _, info := range page.Objects {
				if !yield(info, nil) {
					return
				}
			}
			if !page.IsTruncated {
				return
			}
			o.ContinuationToken = page.NextContinuationToken
		}
	}
}
