package cellar

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Defaults of Bucket.Upload.
const (
	DefaultUploadPartSize    = 16 << 20
	DefaultUploadConcurrency = 4
)

// UploadOptions configure Bucket.Upload. A nil *UploadOptions is the zero
// value.
type UploadOptions struct {
	// PartSize is the size of every part but the last: MinPartSize to
	// MaxPartSize; 0 means DefaultUploadPartSize (16 MiB). A body of at
	// most PartSize bytes is stored with one Put.
	PartSize int64
	// Concurrency is how many parts are uploaded at once; 0 means
	// DefaultUploadConcurrency (4). Upload holds at most Concurrency
	// buffers of PartSize bytes.
	Concurrency int
	// UploadID resumes an upload that an earlier Upload of the same key
	// left unfinished (see UploadError). The body is read from its start
	// again; parts already stored with the same size and MD5 are kept, not
	// uploaded again.
	UploadID string
	// PutOptions give the object's content type, metadata and tags, its
	// expected Size (0: unknown) and the conditions (IfMatch, IfNoneMatch)
	// checked when the object is committed.
	PutOptions *PutOptions
	// OnPart, if set, is called after each part this call uploads (not for
	// parts kept from an earlier call, nor for a body stored with one
	// Put). Calls come one at a time, not necessarily in part order.
	OnPart func(PartInfo)
	// AbortOnError aborts the multipart upload when Upload fails, freeing
	// its parts at once. Without it the upload is left to be resumed with
	// UploadOptions.UploadID, or aborted by the caller.
	AbortOnError bool
}

// UploadError is the error of an Upload that failed after it started a
// multipart upload. The upload is left in place (unless
// UploadOptions.AbortOnError): pass UploadID as UploadOptions.UploadID to
// resume it, or abort it.
type UploadError struct {
	UploadID string
	Err      error
}

func (e *UploadError) Error() string {
	return fmt.Sprintf("cellar: multipart upload %s: %v", e.UploadID, e.Err)
}

func (e *UploadError) Unwrap() error { return e.Err }

// Upload stores the body read from r under key, whatever its size: a body
// of at most one part goes through Put; a longer one is split into parts
// of UploadOptions.PartSize that are uploaded in parallel through a
// multipart upload, with memory bounded by PartSize × Concurrency. A nil r
// is an empty body.
//
// When a multipart Upload fails (a read error, a part that could not be
// stored, a failed condition), the error is an *UploadError carrying the
// upload ID, and the parts already stored stay. Calling Upload again with
// UploadOptions.UploadID and the same body resumes: r is read through
// from its start (Upload never seeks, so any io.Reader will do) and each
// part already stored whose size and MD5 match is kept instead of being
// uploaded again.
func (b *Bucket) Upload(ctx context.Context, key string, r io.Reader, opts *UploadOptions) (ObjectInfo, error) {
	o := UploadOptions{}
	if opts != nil {
		o = *opts
	}
	if o.PartSize == 0 {
		o.PartSize = DefaultUploadPartSize
	}
	if o.PartSize < MinPartSize || o.PartSize > MaxPartSize {
		return ObjectInfo{}, fmt.Errorf("%w: UploadOptions.PartSize %d not in [%d, %d]", ErrInvalidArgument, o.PartSize, MinPartSize, int64(MaxPartSize))
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultUploadConcurrency
	}
	if o.Concurrency < 0 {
		return ObjectInfo{}, fmt.Errorf("%w: UploadOptions.Concurrency %d is negative", ErrInvalidArgument, o.Concurrency)
	}
	put := PutOptions{}
	if o.PutOptions != nil {
		put = *o.PutOptions
	}
	if put.Size < 0 {
		return ObjectInfo{}, fmt.Errorf("%w: PutOptions.Size %d is negative", ErrInvalidArgument, put.Size)
	}
	if put.Size > MaxObjectSize {
		return ObjectInfo{}, fmt.Errorf("%w: PutOptions.Size %d is over %d", ErrEntityTooLarge, put.Size, int64(MaxObjectSize))
	}
	if put.Size > MaxParts*o.PartSize {
		return ObjectInfo{}, fmt.Errorf("%w: PutOptions.Size %d needs over %d parts of %d bytes; use a larger PartSize", ErrInvalidArgument, put.Size, MaxParts, o.PartSize)
	}
	if r == nil {
		r = strings.NewReader("")
	}
	bufs := &partBuffers{size: o.PartSize, max: o.Concurrency, free: make(chan []byte, o.Concurrency)}

	var u *MultipartUpload
	var first []byte // the first part, read already
	if o.UploadID == "" {
		// Read a little first, so that a small body does not cost a
		// buffer of a whole part.
		small := make([]byte, min(o.PartSize, 256<<10))
		n, err := io.ReadFull(r, small)
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return b.Put(ctx, key, bytes.NewReader(small[:n]), &put)
		case err != nil:
			return ObjectInfo{}, fmt.Errorf("cellar: read body: %w", err)
		}
		buf, _ := bufs.get(ctx) // never waits: no buffer is out yet
		copy(buf, small)
		m, err := io.ReadFull(r, buf[n:])
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return b.Put(ctx, key, bytes.NewReader(buf[:n+m]), &put)
		case err != nil:
			return ObjectInfo{}, fmt.Errorf("cellar: read body: %w", err)
		}
		// A full part: is there more?
		var one [1]byte
		m, err = io.ReadFull(r, one[:])
		switch {
		case m == 0 && err == io.EOF:
			return b.Put(ctx, key, bytes.NewReader(buf), &put)
		case err != nil:
			return ObjectInfo{}, fmt.Errorf("cellar: read body: %w", err)
		}
		if put.Size > 0 && put.Size <= o.PartSize {
			return ObjectInfo{}, fmt.Errorf("%w: body longer than the declared %d bytes", ErrIncompleteBody, put.Size)
		}
		r = io.MultiReader(bytes.NewReader(one[:]), r)
		first = buf
		if u, err = b.CreateMultipartUpload(ctx, key, &PutOptions{ContentType: put.ContentType, Metadata: put.Metadata, Tags: put.Tags, StorageClass: put.StorageClass}); err != nil {
			return ObjectInfo{}, err
		}
	} else {
		var err error
		if u, err = b.MultipartUpload(ctx, key, o.UploadID); err != nil {
			return ObjectInfo{}, &UploadError{UploadID: o.UploadID, Err: err}
		}
	}
	info, err := b.uploadParts(ctx, u, r, first, bufs, &o, &put)
	if err != nil {
		if o.AbortOnError {
			if aerr := u.Abort(context.WithoutCancel(ctx)); aerr != nil && !errors.Is(aerr, ErrNoSuchUpload) {
				err = fmt.Errorf("%w (abort failed too: %v)", err, aerr)
			}
		}
		return ObjectInfo{}, &UploadError{UploadID: u.ID(), Err: err}
	}
	return info, nil
}

// partBuffers hands out at most max buffers of size bytes, made as they
// are first needed and then reused. get is called by one goroutine only.
type partBuffers struct {
	size int64
	max  int
	made int
	free chan []byte
}

func (p *partBuffers) get(ctx context.Context) ([]byte, error) {
	select {
	case buf := <-p.free:
		return buf, nil
	default:
	}
	if p.made < p.max {
		p.made++
		return make([]byte, p.size), nil
	}
	select {
	case buf := <-p.free:
		return buf, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *partBuffers) put(buf []byte) { p.free <- buf[:cap(buf)] }

// uploadParts reads the body into parts, uploads them with o.Concurrency
// workers and completes the upload. first, if set, is part 1, read
// already.
func (b *Bucket) uploadParts(ctx context.Context, u *MultipartUpload, r io.Reader, first []byte, bufs *partBuffers, o *UploadOptions, put *PutOptions) (ObjectInfo, error) {
	// Parts stored by an earlier call, to keep if they match.
	stored := make(map[int]PartInfo)
	if o.UploadID != "" {
		lo := &ListPartsOptions{}
		for {
			page, err := u.ListParts(ctx, lo)
			if err != nil {
				return ObjectInfo{}, err
			}
			for _, p := range page.Parts {
				stored[p.PartNumber] = p
			}
			if !page.IsTruncated {
				break
			}
			lo.PartNumberMarker = page.NextPartNumberMarker
		}
	}

	// A failed part cancels the others; a failed read only stops reading,
	// so that the parts already read are stored for a resume.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu      sync.Mutex
		partErr error
		etags   = make(map[int]string)
	)
	type job struct {
		n   int
		buf []byte
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	for range o.Concurrency {
		wg.Go(func() {
			for j := range jobs {
				info, uploaded, err := uploadOnePart(wctx, u, j.n, j.buf, stored)
				bufs.put(j.buf)
				mu.Lock()
				switch {
				case err != nil:
					if partErr == nil {
						partErr = err
						cancel()
					}
				default:
					etags[j.n] = info.ETag
					if uploaded && o.OnPart != nil {
						o.OnPart(info)
					}
				}
				mu.Unlock()
			}
		})
	}

	var readErr error
	var total int64
	n := 0
	send := func(buf []byte) bool {
		n++
		total += int64(len(buf))
		if put.Size > 0 && total > put.Size {
			readErr = fmt.Errorf("%w: body longer than the declared %d bytes", ErrIncompleteBody, put.Size)
			bufs.put(buf)
			return false
		}
		if n > MaxParts {
			readErr = fmt.Errorf("%w: body over %d parts of %d bytes; use a larger PartSize", ErrEntityTooLarge, MaxParts, o.PartSize)
			bufs.put(buf)
			return false
		}
		select {
		case jobs <- job{n, buf}:
			return true
		case <-wctx.Done():
			bufs.put(buf)
			return false
		}
	}
	ok := true
	if first != nil {
		ok = send(first)
	}
	for ok {
		buf, err := bufs.get(wctx)
		if err != nil {
			break // a part failed
		}
		m, err := io.ReadFull(r, buf)
		end := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !end {
			readErr = fmt.Errorf("cellar: read body: %w", err)
			bufs.put(buf)
			break
		}
		if m > 0 || n == 0 {
			// An empty body still makes one (empty) part.
			ok = send(buf[:m])
		} else {
			bufs.put(buf)
		}
		if end {
			break
		}
	}
	close(jobs)
	wg.Wait()
	if partErr != nil {
		return ObjectInfo{}, partErr
	}
	if readErr != nil {
		return ObjectInfo{}, readErr
	}
	if err := ctx.Err(); err != nil {
		return ObjectInfo{}, err
	}
	if put.Size > 0 && total != put.Size {
		return ObjectInfo{}, fmt.Errorf("%w: body of %d bytes, PutOptions.Size %d", ErrIncompleteBody, total, put.Size)
	}
	parts := make([]CompletedPart, n)
	for i := range parts {
		parts[i] = CompletedPart{PartNumber: i + 1, ETag: etags[i+1]}
	}
	return u.Complete(ctx, parts, &CompleteOptions{IfMatch: put.IfMatch, IfNoneMatch: put.IfNoneMatch})
}

// uploadOnePart uploads part n unless stored holds it already with the
// same size and MD5.
func uploadOnePart(ctx context.Context, u *MultipartUpload, n int, buf []byte, stored map[int]PartInfo) (PartInfo, bool, error) {
	if p, ok := stored[n]; ok && p.Size == int64(len(buf)) {
		sum := md5.Sum(buf)
		if hex.EncodeToString(sum[:]) == p.ETag {
			return p, false, nil
		}
	}
	info, err := u.UploadPart(ctx, n, bytes.NewReader(buf), &PartOptions{Size: int64(len(buf))})
	return info, err == nil, err
}
