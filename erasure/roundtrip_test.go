package erasure

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/reedsolomon"
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, c := range configs {
		for _, size := range sizesFor(c.p) {
			t.Run(fmt.Sprintf("%s/%d", c.name, size), func(t *testing.T) {
				t.Parallel()
				rng := rand.New(rand.NewPCG(uint64(size), 1))
				o := writeObject(t, c.p, memZones(c.zones), "obj1", randBytes(rng, size), uint64(size))
				for _, bufSize := range []int{7, 32 << 10, c.p.BlockSize + 1} {
					r, err := Open(context.Background(), o.readOptions())
					if err != nil {
						t.Fatal(err)
					}
					got, err := readSeq(r, bufSize)
					if err != nil {
						t.Fatalf("read with %d-byte buffer: %v", bufSize, err)
					}
					checkBytes(t, "read", got, o.data)
					if bad := r.BadShards(); len(bad) != 0 {
						t.Errorf("BadShards = %v on a healthy object", bad)
					}
					if err := r.Close(); err != nil {
						t.Fatal(err)
					}
					if _, err := r.ReadAt(make([]byte, 1), 0); !errors.Is(err, ErrClosed) {
						t.Errorf("ReadAt after Close = %v, want ErrClosed", err)
					}
				}
				for i := range c.p.Shards() {
					z, name := o.zones[o.place[i]], BlobName(o.id, i)
					if err := VerifyShard(context.Background(), z, name); err != nil {
						t.Errorf("VerifyShard(%s): %v", name, err)
					}
					h, tr, err := ReadHeaderTrailer(context.Background(), z, name)
					if err != nil {
						t.Fatal(err)
					}
					want := Header{Params: c.p, Shard: i, DataID: o.id}
					if h != want || tr.Size != int64(size) || string(tr.Record) != "record:"+o.id {
						t.Errorf("ReadHeaderTrailer(%s) = %+v, %+v", name, h, tr)
					}
					l := newLayout(c.p, len(o.id), int64(size))
					if got, want := int64(len(getBlob(t, z, name))), l.blocksEnd()+int64(tr.Len()); got != want {
						t.Errorf("blob %s is %d bytes, layout says %d", name, got, want)
					}
				}
			})
		}
	}
}

// TestReadAtRandom checks random ranges, which take the partial-block fast
// path, against bytes.Reader, the plain implementation, with readahead on
// and off and with a degraded object.
func TestReadAtRandom(t *testing.T) {
	t.Parallel()
	for _, c := range configs {
		for _, degraded := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/degraded=%v", c.name, degraded), func(t *testing.T) {
				t.Parallel()
				rng := rand.New(rand.NewPCG(3, 4))
				size := 5*c.p.BlockSize + 123
				o := writeObject(t, c.p, memZones(c.zones), "rand", randBytes(rng, size), 9)
				if degraded {
					if c.p.ParityShards == 0 {
						t.Skip("no parity")
					}
					deleteBlob(t, o.zones[o.place[1]], BlobName(o.id, 1))
				}
				plain := bytes.NewReader(o.data)
				for _, ahead := range []int{-1, 0, 3} {
					ro := o.readOptions()
					ro.Readahead = ahead
					r, err := Open(context.Background(), ro)
					if err != nil {
						t.Fatal(err)
					}
					for range 300 {
						off := rng.Int64N(int64(size) + 10)
						n := rng.IntN(3 * c.p.BlockSize)
						if rng.IntN(4) == 0 {
							n = rng.IntN(20)
						}
						got, want := make([]byte, n), make([]byte, n)
						wn, werr := plain.ReadAt(want, off)
						if rng.IntN(2) == 0 {
							gn, gerr := r.ReadAt(got, off)
							if gn != wn || gerr != werr || !bytes.Equal(got[:gn], want[:wn]) {
								t.Fatalf("ReadAt(%d bytes at %d) = %d, %v; bytes.Reader: %d, %v", n, off, gn, gerr, wn, werr)
							}
							continue
						}
						var buf bytes.Buffer
						gn, gerr := r.WriteRange(&buf, off, int64(n))
						if gn != int64(wn) || gerr != werr || !bytes.Equal(buf.Bytes(), want[:wn]) {
							t.Fatalf("WriteRange(%d bytes at %d) = %d, %v, %d bytes written; bytes.Reader: %d, %v", n, off, gn, gerr, buf.Len(), wn, werr)
						}
					}
					if degraded {
						if bad := r.BadShards(); len(bad) != 1 || bad[0].Shard != 1 || bad[0].Zone != o.place[1] {
							t.Errorf("BadShards = %v, want shard 1", bad)
						}
					}
					r.Close()
				}
			})
		}
	}
}

// TestConcurrentReadAt reads one object from several goroutines at once.
func TestConcurrentReadAt(t *testing.T) {
	t.Parallel()
	c := configs[0]
	rng := rand.New(rand.NewPCG(5, 6))
	o := writeObject(t, c.p, memZones(c.zones), "conc", randBytes(rng, 20*c.p.BlockSize+5), 1)
	deleteBlob(t, o.zones[o.place[0]], BlobName(o.id, 0))
	r, err := Open(context.Background(), o.readOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	errs := make(chan error, 4)
	for g := range 4 {
		go func() {
			rng := rand.New(rand.NewPCG(uint64(g), 0))
			buf := make([]byte, 3000)
			for range 200 {
				off := rng.Int64N(int64(len(o.data)))
				n, err := r.ReadAt(buf, off)
				if err != nil && err != io.EOF {
					errs <- err
					return
				}
				if !bytes.Equal(buf[:n], o.data[off:off+int64(n)]) {
					errs <- fmt.Errorf("wrong bytes at %d", off)
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestParityMatchesPlainEncoder checks the parity written with the SIMD
// encoder against a reedsolomon encoder with every assembly path off.
func TestParityMatchesPlainEncoder(t *testing.T) {
	t.Parallel()
	for _, c := range configs {
		if c.p.ParityShards == 0 {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			plain, err := reedsolomon.New(c.p.DataShards, c.p.ParityShards,
				reedsolomon.WithAVX2(false), reedsolomon.WithSSSE3(false), reedsolomon.WithSSE2(false),
				reedsolomon.WithAVX512(false), reedsolomon.WithGFNI(false), reedsolomon.WithAVXGFNI(false),
				reedsolomon.WithMaxGoroutines(1))
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(8, 8))
			size := 3*c.p.BlockSize + 1001
			o := writeObject(t, c.p, memZones(c.zones), "par", randBytes(rng, size), 2)
			l := newLayout(c.p, len(o.id), int64(size))
			blobs := make([][]byte, c.p.Shards())
			for i := range blobs {
				blobs[i] = getBlob(t, o.zones[o.place[i]], BlobName(o.id, i))
			}
			for j := range l.nblocks {
				off, L := l.blockOff(j)+hashLen, l.shardLen(j)
				shards := make([][]byte, len(blobs))
				for i := range shards {
					shards[i] = bytes.Clone(blobs[i][off : off+L])
				}
				ok, err := plain.Verify(shards)
				if err != nil || !ok {
					t.Fatalf("block %d: plain encoder disagrees with stored parity (%v)", j, err)
				}
			}
		})
	}
}

func TestOptionsValidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	zones := memZones(3)
	p := Params{4, 2, 1 << 20}
	place, _ := Place(3, p, 0, false)
	good := WriteOptions{Params: p, Zones: zones, Placement: place, DataID: "abc"}
	for _, tc := range []struct {
		field string
		edit  func(*WriteOptions)
	}{
		{"DataShards", func(o *WriteOptions) { o.DataShards = 0 }},
		{"ParityShards", func(o *WriteOptions) { o.ParityShards = -1 }},
		{"BlockSize", func(o *WriteOptions) { o.BlockSize = 3 }},
		{"BlockSize", func(o *WriteOptions) { o.BlockSize = MaxBlockSize + 1 }},
		{"DataShards+ParityShards", func(o *WriteOptions) { o.ParityShards = 253 }},
		{"Placement", func(o *WriteOptions) { o.Placement = o.Placement[:5] }},
		{"Placement[2]", func(o *WriteOptions) { o.Placement = []int{0, 1, 3, 0, 1, 2} }},
		{"Zones", func(o *WriteOptions) { o.Zones = nil }},
		{"DataID", func(o *WriteOptions) { o.DataID = "ABC" }},
		{"DataID", func(o *WriteOptions) { o.DataID = "" }},
		{"Quorum", func(o *WriteOptions) { o.Quorum = 3 }},
		{"Quorum", func(o *WriteOptions) { o.Quorum = 7 }},
	} {
		o := good
		tc.edit(&o)
		_, err := NewWriter(ctx, &o)
		if !errors.Is(err, ErrInvalidParams) || !bytes.Contains([]byte(err.Error()), []byte(tc.field)) {
			t.Errorf("%s: NewWriter error %v, want ErrInvalidParams naming the field", tc.field, err)
		}
	}
	if _, err := Open(ctx, &ReadOptions{Params: p, Zones: zones, Placement: place, DataID: "abc", Size: -1}); !errors.Is(err, ErrInvalidParams) {
		t.Errorf("Open with negative Size: %v", err)
	}
	if err := (Params{1, 0, 1}).Validate(); err != nil {
		t.Errorf("RS(1,0) with 1-byte blocks: %v", err)
	}
	if got := (Params{6, 3, 1000}).ShardBlockSize(); got != 167 {
		t.Errorf("ShardBlockSize = %d, want 167", got)
	}
}

func TestWriterStates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := configs[0]
	zones := memZones(c.zones)
	place, _ := Place(c.zones, c.p, 0, false)
	o := &WriteOptions{Params: c.p, Zones: zones, Placement: place, DataID: "st"}

	// Abort before Commit leaves nothing and is idempotent.
	w, _ := NewWriter(ctx, o)
	w.Write(make([]byte, 3*c.p.BlockSize))
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	if _, err := w.Write([]byte{1}); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Abort = %v", err)
	}
	if _, err := w.Commit(nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Commit after Abort = %v", err)
	}
	if names := blobNames(t, zones); len(names) != 0 {
		t.Fatalf("blobs after Abort: %v", names)
	}

	// Abort after Commit deletes the committed shards.
	w, _ = NewWriter(ctx, o)
	w.Write(make([]byte, 100))
	if _, err := w.Commit(nil); err != nil {
		t.Fatal(err)
	}
	if names := blobNames(t, zones); len(names) != 6 {
		t.Fatalf("blobs after Commit: %v", names)
	}
	if _, err := w.Commit(nil); !errors.Is(err, ErrClosed) {
		t.Errorf("second Commit = %v", err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if names := blobNames(t, zones); len(names) != 0 {
		t.Fatalf("blobs after Abort after Commit: %v", names)
	}

	// A record larger than the limit fails the commit, leaving nothing.
	w, _ = NewWriter(ctx, o)
	w.Write(make([]byte, 100))
	if _, err := w.Commit(make([]byte, MaxRecordSize+1)); !errors.Is(err, ErrInvalidParams) {
		t.Errorf("Commit of a huge record = %v", err)
	}
	if names := blobNames(t, zones); len(names) != 0 {
		t.Fatalf("blobs after failed Commit: %v", names)
	}
}

// limitWriter takes n bytes, then fails.
type limitWriter struct {
	n   int
	got []byte
}

var errWriterFull = errors.New("writer full")

func (w *limitWriter) Write(p []byte) (int, error) {
	c := min(len(p), w.n-len(w.got))
	w.got = append(w.got, p[:c]...)
	if c < len(p) {
		return c, errWriterFull
	}
	return c, nil
}

// WriteRange returns its writer's error as it is, with the bytes the writer
// took.
func TestWriteRangeWriterFails(t *testing.T) {
	p := Params{DataShards: 4, ParityShards: 2, BlockSize: 64 << 10}
	data := randBytes(rand.New(rand.NewPCG(5, 6)), 3*p.BlockSize+77)
	o := writeObject(t, p, memZones(3), "wfail", data, 1)
	r, err := Open(context.Background(), o.readOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, limit := range []int{0, 1, 5000, p.BlockSize/4 + 3, p.BlockSize + 17} {
		w := &limitWriter{n: limit}
		n, err := r.WriteRange(w, 100, int64(len(data)-100))
		if !errors.Is(err, errWriterFull) || n != int64(limit) || !bytes.Equal(w.got, data[100:100+limit]) {
			t.Errorf("WriteRange into a writer full after %d bytes = %d, %v; took %d bytes", limit, n, err, len(w.got))
		}
	}
}
