package erasure

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/cellarhq/cellar/backend"
	"github.com/zeebo/blake3"
)

// ReadHeaderTrailer reads and verifies the header and trailer of one shard
// blob, and checks that the blob's length matches them, without the index:
// for scrubbing and for rebuilding a lost index from the zones.
func ReadHeaderTrailer(ctx context.Context, b backend.Backend, name string) (Header, Trailer, error) {
	br, err := b.Open(ctx, name)
	if err != nil {
		return Header{}, Trailer{}, err
	}
	defer br.Close()
	h, t, _, err := readHeaderTrailer(br, name)
	return h, t, err
}

// readHeaderTrailer also returns the blob's layout.
func readHeaderTrailer(br backend.Reader, name string) (Header, Trailer, layout, error) {
	size := br.Size()
	hb := make([]byte, min(size, maxHeaderLen))
	if err := readFullAt(br, hb, 0); err != nil {
		return Header{}, Trailer{}, layout{}, fmt.Errorf("%s: header: %w", name, err)
	}
	h, hl, err := ParseHeader(hb)
	if err != nil {
		return Header{}, Trailer{}, layout{}, fmt.Errorf("%s: %w", name, err)
	}
	if id, shard, ok := ParseBlobName(name); ok && (id != h.DataID || shard != h.Shard) {
		return Header{}, Trailer{}, layout{}, fmt.Errorf("%w: %s: header is of data %s shard %d", ErrCorrupt, name, h.DataID, h.Shard)
	}
	if size < int64(hl)+footerLen {
		return Header{}, Trailer{}, layout{}, fmt.Errorf("%w: %s: %d bytes, no room for a footer", ErrCorrupt, name, size)
	}
	fb := make([]byte, footerLen)
	if err := readFullAt(br, fb, size-footerLen); err != nil {
		return Header{}, Trailer{}, layout{}, fmt.Errorf("%s: footer: %w", name, err)
	}
	tl, err := parseFooter(fb)
	if err != nil {
		return Header{}, Trailer{}, layout{}, fmt.Errorf("%s: %w", name, err)
	}
	if int64(tl)+footerLen > size-int64(hl) {
		return Header{}, Trailer{}, layout{}, fmt.Errorf("%w: %s: trailer of %d bytes does not fit a %d-byte blob", ErrCorrupt, name, tl, size)
	}
	tb := make([]byte, tl+footerLen)
	if err := readFullAt(br, tb, size-int64(len(tb))); err != nil {
		return Header{}, Trailer{}, layout{}, fmt.Errorf("%s: trailer: %w", name, err)
	}
	t, _, err := ParseTrailer(tb)
	if err != nil {
		return Header{}, Trailer{}, layout{}, fmt.Errorf("%s: %w", name, err)
	}
	l := newLayout(h.Params, len(h.DataID), t.Size)
	if want := l.blocksEnd() + int64(len(tb)); want != size {
		return Header{}, Trailer{}, layout{}, fmt.Errorf("%w: %s: blob is %d bytes, header and trailer say %d", ErrCorrupt, name, size, want)
	}
	return h, t, l, nil
}

// readFullAt fills p from off; a short blob is ErrCorrupt.
func readFullAt(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		return fmt.Errorf("%w: blob truncated at %d", ErrCorrupt, off+int64(n))
	}
	return err
}

// VerifyShard checks a whole shard blob: header, the hash of every block,
// trailer and length. A failed check returns an error wrapping ErrCorrupt
// that names the blob and, for a block, its index. The next block is read
// while the current one is hashed.
func VerifyShard(ctx context.Context, b backend.Backend, name string) error {
	br, err := b.Open(ctx, name)
	if err != nil {
		return err
	}
	defer br.Close()
	_, _, l, err := readHeaderTrailer(br, name)
	if err != nil {
		return err
	}
	if l.nblocks == 0 {
		return nil
	}
	type chunk struct {
		j   int64
		buf []byte
		err error
	}
	bufs := make(chan []byte, 2)
	for range 2 {
		bufs <- make([]byte, hashLen+l.sbs)
	}
	chunks := make(chan chunk, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(chunks)
		for j := range l.nblocks {
			var buf []byte
			select {
			case buf = <-bufs:
			case <-ctx.Done():
				return
			}
			buf = buf[:hashLen+l.shardLen(j)]
			err := ctx.Err()
			if err == nil {
				err = readFullAt(br, buf, l.blockOff(j))
			}
			select {
			case chunks <- chunk{j, buf, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range chunks {
		if c.err != nil {
			return fmt.Errorf("%s: block %d: %w", name, c.j, c.err)
		}
		if sum := blake3.Sum256(c.buf[hashLen:]); !bytes.Equal(sum[:], c.buf[:hashLen]) {
			return fmt.Errorf("%w: %s: block %d: hash mismatch", ErrCorrupt, name, c.j)
		}
		bufs <- c.buf[:cap(c.buf)]
	}
	return ctx.Err()
}
