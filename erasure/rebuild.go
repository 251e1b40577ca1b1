package erasure

import (
	"context"
	"fmt"
	"io"
	"slices"
)

// Rebuild heals an object: it rewrites the given shards from the others.
// It reads the object through a Reader, so every block is verified and
// decoded from parity where needed, and re-encodes it with a Writer that
// writes only those shards, each replacing whatever blob had the name. The
// trailer's record is taken from a healthy shard. Rebuild fails unless every
// listed shard commits; it never publishes a shard built from unverified
// bytes (a block that cannot be decoded fails it with ErrTooManyBad).
//
// Encoding is deterministic, so a rebuilt blob is byte for byte the blob
// the original write made.
func Rebuild(ctx context.Context, o *ReadOptions, shards []int) error {
	if o == nil {
		return fmt.Errorf("%w: nil ReadOptions", ErrInvalidParams)
	}
	if err := o.Params.Validate(); err != nil {
		return err
	}
	only := slices.Sorted(slices.Values(shards))
	if len(only) == 0 {
		return fmt.Errorf("%w: no shards to rebuild", ErrInvalidParams)
	}
	for i, s := range only {
		if s < 0 || s >= o.Shards() || (i > 0 && only[i-1] == s) {
			return fmt.Errorf("%w: shards %v: %d is out of range or repeated", ErrInvalidParams, shards, s)
		}
	}
	r, err := Open(ctx, o)
	if err != nil {
		return err
	}
	defer r.Close()
	record, err := healthyRecord(ctx, o, only)
	if err != nil {
		return err
	}
	w, err := newWriter(ctx, &WriteOptions{Params: o.Params, Zones: o.Zones, Placement: o.Placement, DataID: o.DataID}, only, len(only))
	if err != nil {
		return err
	}
	buf := make([]byte, min(o.Size, int64(max(o.BlockSize, 1<<20))))
	for off := int64(0); off < o.Size; {
		n, err := r.ReadAt(buf, off)
		if err != nil && !(err == io.EOF && off+int64(n) == o.Size) {
			w.Abort()
			return fmt.Errorf("erasure: rebuild %s: read at %d: %w", o.DataID, off+int64(n), err)
		}
		if _, err := w.Write(buf[:n]); err != nil {
			w.Abort()
			return fmt.Errorf("erasure: rebuild %s: %w", o.DataID, err)
		}
		off += int64(n)
	}
	if _, err := w.Commit(record); err != nil {
		return fmt.Errorf("erasure: rebuild %s: %w", o.DataID, err)
	}
	return nil
}

// healthyRecord returns the record from the trailer of a shard that is not
// being rebuilt and whose header and trailer verify and match o.
func healthyRecord(ctx context.Context, o *ReadOptions, skip []int) ([]byte, error) {
	var errs []error
	for i := range o.Shards() {
		if slices.Contains(skip, i) {
			continue
		}
		h, t, err := ReadHeaderTrailer(ctx, o.Zones[o.Placement[i]], BlobName(o.DataID, i))
		if err == nil && (h.Params != o.Params || h.DataID != o.DataID || t.Size != o.Size) {
			err = fmt.Errorf("%w: shard blob is of %+v, size %d", ErrCorrupt, h, t.Size)
		}
		if err == nil {
			return t.Record, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		errs = append(errs, &ShardError{Zone: o.Placement[i], Shard: i, Err: err})
	}
	return nil, fmt.Errorf("%w: data %s: no shard left with a good trailer: %v", ErrTooManyBad, o.DataID, errs)
}
