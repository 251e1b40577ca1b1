package erasure

import (
	"bytes"
	"errors"
	"testing"

	"github.com/cellarhq/cellar/backend"
)

func TestHeaderRoundTrip(t *testing.T) {
	t.Parallel()
	for _, h := range []Header{
		{Params{4, 2, 1 << 20}, 5, "0123456789abcdef"},
		{Params{1, 0, 1}, 0, "a"},
		{Params{200, 56, MaxBlockSize}, 255, string(bytes.Repeat([]byte("z"), MaxDataIDLen))},
	} {
		b, err := h.AppendBinary([]byte("prefix"))
		if err != nil {
			t.Fatal(err)
		}
		if len(b)-6 != h.Len() {
			t.Errorf("encoded %d bytes, Len %d", len(b)-6, h.Len())
		}
		got, n, err := ParseHeader(append(b[6:], "blocks..."...))
		if err != nil || got != h || n != h.Len() {
			t.Errorf("ParseHeader = %+v, %d, %v; want %+v, %d", got, n, err, h, h.Len())
		}
		for i := range n {
			bad := bytes.Clone(b[6:])
			bad[i] ^= 0x10
			if _, _, err := ParseHeader(bad); !errors.Is(err, ErrCorrupt) {
				t.Errorf("flip in byte %d: %v, want ErrCorrupt", i, err)
			}
			if _, _, err := ParseHeader(b[6 : 6+i]); !errors.Is(err, ErrCorrupt) {
				t.Errorf("%d-byte prefix: %v, want ErrCorrupt", i, err)
			}
		}
	}
	for _, h := range []Header{
		{Params{4, 2, 1 << 20}, 6, "abc"},
		{Params{4, 2, 1 << 20}, 0, "ABC"},
		{Params{0, 2, 1 << 20}, 0, "abc"},
	} {
		if _, err := h.AppendBinary(nil); !errors.Is(err, ErrInvalidParams) {
			t.Errorf("AppendBinary(%+v) = %v", h, err)
		}
	}
}

func TestTrailerRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tr := range []Trailer{
		{0, nil},
		{12345, []byte("record")},
		{maxObjectSize, bytes.Repeat([]byte{7}, 5000)},
	} {
		b, err := tr.AppendBinary([]byte("blocks"))
		if err != nil {
			t.Fatal(err)
		}
		got, n, err := ParseTrailer(b)
		if err != nil || got.Size != tr.Size || !bytes.Equal(got.Record, tr.Record) || n != tr.Len() {
			t.Errorf("ParseTrailer = %+v, %d, %v; want %+v, %d", got, n, err, tr, tr.Len())
		}
		for i := len(b) - n; i < len(b); i++ {
			bad := bytes.Clone(b)
			bad[i] ^= 0x01
			if _, _, err := ParseTrailer(bad); !errors.Is(err, ErrCorrupt) {
				t.Errorf("flip in byte %d: %v, want ErrCorrupt", i, err)
			}
			if _, _, err := ParseTrailer(b[i:]); !errors.Is(err, ErrCorrupt) && i > len(b)-n {
				t.Errorf("suffix from %d: %v, want ErrCorrupt", i, err)
			}
		}
	}
	if _, err := (Trailer{Size: -1}).AppendBinary(nil); !errors.Is(err, ErrInvalidParams) {
		t.Errorf("negative size: %v", err)
	}
}

func TestBlobName(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"a", "0f3a9c", string(bytes.Repeat([]byte("9"), MaxDataIDLen))} {
		for _, shard := range []int{0, 7, 255} {
			name := BlobName(id, shard)
			if err := backend.ValidName(name); err != nil {
				t.Errorf("BlobName(%q, %d) = %q: %v", id, shard, name, err)
			}
			gid, gs, ok := ParseBlobName(name)
			if !ok || gid != id || gs != shard {
				t.Errorf("ParseBlobName(%q) = %q, %d, %v", name, gid, gs, ok)
			}
			if name[:len(BlobPrefix(id))] != BlobPrefix(id) {
				t.Errorf("BlobPrefix(%q) does not prefix %q", id, name)
			}
		}
	}
	for _, name := range []string{"data/abc/", "data/abc/01", "data/abc/256", "data/ABC/1", "data/abc/1/x", "meta/abc/1", "data//1"} {
		if _, _, ok := ParseBlobName(name); ok {
			t.Errorf("ParseBlobName(%q) accepted", name)
		}
	}
}

func FuzzParseHeader(f *testing.F) {
	for _, h := range []Header{
		{Params{4, 2, 1 << 20}, 5, "0123456789abcdef"},
		{Params{1, 0, 1}, 0, "a"},
		{Params{6, 3, 1000}, 8, "zz"},
	} {
		b, _ := h.AppendBinary(nil)
		f.Add(b)
		f.Add(b[:len(b)-1])
	}
	f.Add([]byte("CELLARSH"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := ParseHeader(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if n > len(b) || n != h.Len() {
			t.Fatalf("consumed %d of %d bytes, Len %d", n, len(b), h.Len())
		}
		enc, err := h.AppendBinary(nil)
		if err != nil {
			t.Fatalf("parsed header %+v does not encode: %v", h, err)
		}
		if !bytes.Equal(enc, b[:n]) {
			t.Fatalf("re-encoding differs: %x vs %x", enc, b[:n])
		}
	})
}

func FuzzParseTrailer(f *testing.F) {
	for _, tr := range []Trailer{{0, nil}, {1 << 40, []byte("bucket/key v1 etag")}, {7, make([]byte, 300)}} {
		b, _ := tr.AppendBinary(nil)
		f.Add(b)
		f.Add(b[1:])
		f.Add(append([]byte("junk"), b...))
	}
	f.Add([]byte("CELLARTR"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, n, err := ParseTrailer(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if n > len(b) || n != tr.Len() {
			t.Fatalf("consumed %d of %d bytes, Len %d", n, len(b), tr.Len())
		}
		enc, err := tr.AppendBinary(nil)
		if err != nil {
			t.Fatalf("parsed trailer %+v does not encode: %v", tr, err)
		}
		if !bytes.Equal(enc, b[len(b)-n:]) {
			t.Fatalf("re-encoding differs")
		}
	})
}
