package erasure

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

// feed is one way of handing an object's bytes to a Writer.
type feed struct {
	name string
	// fn writes data to w; it may use rng to cut it.
	fn func(w *Writer, data []byte, rng *rand.Rand) error
}

// chunkReader returns pieces of random length, up to max, from data;
// with eofWithData the last piece comes with io.EOF.
type chunkReader struct {
	data        []byte
	rng         *rand.Rand
	max         int
	eofWithData bool
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.data[:min(len(r.data), 1+r.rng.IntN(r.max))])
	r.data = r.data[n:]
	if r.eofWithData && len(r.data) == 0 {
		return n, io.EOF
	}
	return n, nil
}

func readFrom(w *Writer, r io.Reader, want int) error {
	n, err := w.ReadFrom(r)
	if err == nil && n != int64(want) {
		err = fmt.Errorf("ReadFrom = %d, want %d", n, want)
	}
	return err
}

// feeds are the write patterns the Writer must treat alike: plain Writes
// (the reference), ReadFrom over readers that return whole, short, single
// byte and final-with-io.EOF reads, and the two mixed.
var feeds = []feed{
	{"write-whole", func(w *Writer, data []byte, _ *rand.Rand) error {
		_, err := w.Write(data)
		return err
	}},
	{"write-chunks", func(w *Writer, data []byte, rng *rand.Rand) error {
		for len(data) > 0 {
			c := min(len(data), 1+rng.IntN(5000))
			if _, err := w.Write(data[:c]); err != nil {
				return err
			}
			data = data[c:]
		}
		return nil
	}},
	{"readfrom", func(w *Writer, data []byte, _ *rand.Rand) error {
		return readFrom(w, bytes.NewBuffer(data), len(data))
	}},
	{"readfrom-short", func(w *Writer, data []byte, rng *rand.Rand) error {
		return readFrom(w, &chunkReader{data: data, rng: rng, max: 3000}, len(data))
	}},
	{"readfrom-eof-with-data", func(w *Writer, data []byte, rng *rand.Rand) error {
		return readFrom(w, &chunkReader{data: data, rng: rng, max: 70000, eofWithData: true}, len(data))
	}},
	{"readfrom-half", func(w *Writer, data []byte, _ *rand.Rand) error {
		return readFrom(w, iotest.HalfReader(bytes.NewReader(data)), len(data))
	}},
	{"readfrom-onebyte", func(w *Writer, data []byte, _ *rand.Rand) error {
		if len(data) > 20000 { // the rest in bigger pieces, to keep the test quick
			if err := readFrom(w, iotest.OneByteReader(bytes.NewReader(data[:20000])), 20000); err != nil {
				return err
			}
			return readFrom(w, bytes.NewBuffer(data[20000:]), len(data)-20000)
		}
		return readFrom(w, iotest.OneByteReader(bytes.NewReader(data)), len(data))
	}},
	{"io.Copy", func(w *Writer, data []byte, _ *rand.Rand) error {
		// A reader without WriteTo, so that io.Copy uses ReadFrom.
		_, err := io.Copy(w, struct{ io.Reader }{bytes.NewReader(data)})
		return err
	}},
	{"mixed", func(w *Writer, data []byte, rng *rand.Rand) error {
		for len(data) > 0 {
			c := min(len(data), 1+rng.IntN(40000))
			if rng.IntN(2) == 0 {
				if _, err := w.Write(data[:c]); err != nil {
					return err
				}
			} else if err := readFrom(w, &chunkReader{data: data[:c], rng: rng, max: 9000, eofWithData: rng.IntN(2) == 0}, c); err != nil {
				return err
			}
			data = data[c:]
		}
		return nil
	}},
}

// TestHashesAndReadFrom writes objects of many sizes in every feed, with
// MD5 and SHA-256 in Hashes: the sums must be those of exactly the
// object's bytes, and every blob must equal, byte for byte, the one plain
// Writes make.
func TestHashesAndReadFrom(t *testing.T) {
	t.Parallel()
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(31, uint64(c.p.BlockSize)))
			sizes := sizesFor(c.p)
			sizes = append(sizes, 2*c.p.BlockSize-1, 5*c.p.BlockSize+c.p.DataShards+1)
			if c.p.BlockSize > stageMax {
				sizes = append(sizes, stageMax+2)
			}
			for _, size := range sizes {
				data := randBytes(rng, size)
				wantMD5, wantSHA := md5.Sum(data), sha256.Sum256(data)
				var ref []string // the blobs of "write-whole", in shard order
				for _, f := range feeds {
					zones := memZones(c.zones)
					place, err := Place(c.zones, c.p, 0, true)
					if err != nil {
						t.Fatal(err)
					}
					hm, hs := md5.New(), sha256.New()
					w, err := NewWriter(context.Background(), &WriteOptions{
						Params: c.p, Zones: zones, Placement: place, DataID: "h", Hashes: []hash.Hash{hm, hs},
					})
					if err != nil {
						t.Fatal(err)
					}
					if err := f.fn(w, data, rand.New(rand.NewPCG(uint64(size), 3))); err != nil {
						t.Fatalf("size %d, %s: %v", size, f.name, err)
					}
					if err := w.CloseWrite(); err != nil {
						t.Fatalf("size %d, %s: CloseWrite: %v", size, f.name, err)
					}
					if got := hm.Sum(nil); !bytes.Equal(got, wantMD5[:]) {
						t.Errorf("size %d, %s: MD5 %x, want %x", size, f.name, got, wantMD5)
					}
					if got := hs.Sum(nil); !bytes.Equal(got, wantSHA[:]) {
						t.Errorf("size %d, %s: SHA-256 %x, want %x", size, f.name, got, wantSHA)
					}
					res, err := w.Commit([]byte("rec"))
					if err != nil {
						t.Fatalf("size %d, %s: Commit: %v", size, f.name, err)
					}
					if res.Size != int64(size) {
						t.Errorf("size %d, %s: committed size %d", size, f.name, res.Size)
					}
					var blobs []string
					for i := range c.p.Shards() {
						blobs = append(blobs, string(getBlob(t, zones[place[i]], BlobName("h", i))))
					}
					if ref == nil {
						ref = blobs
						r, err := Open(context.Background(), &ReadOptions{Params: c.p, Zones: zones, Placement: place, DataID: "h", Size: int64(size)})
						if err != nil {
							t.Fatal(err)
						}
						got, err := readSeq(r, 4096)
						r.Close()
						if err != nil {
							t.Fatal(err)
						}
						checkBytes(t, fmt.Sprintf("size %d, %s: read back", size, f.name), got, data)
						continue
					}
					for i := range blobs {
						if blobs[i] != ref[i] {
							t.Fatalf("size %d, %s: shard %d differs from the one plain Writes make", size, f.name, i)
						}
					}
				}
			}
		})
	}
}

// TestHashesWithoutCloseWrite: Commit alone ends the object and the hashes
// are complete after it, and a Writer without Hashes takes CloseWrite too.
func TestHashesWithoutCloseWrite(t *testing.T) {
	t.Parallel()
	c := configs[0]
	data := randBytes(rand.New(rand.NewPCG(32, 1)), 3*c.p.BlockSize+5)
	for _, withHash := range []bool{false, true} {
		zones := memZones(c.zones)
		place, _ := Place(c.zones, c.p, 0, false)
		o := &WriteOptions{Params: c.p, Zones: zones, Placement: place, DataID: "nc"}
		h := md5.New()
		if withHash {
			o.Hashes = []hash.Hash{h}
		}
		w, err := NewWriter(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.ReadFrom(bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		if !withHash {
			if err := w.CloseWrite(); err != nil {
				t.Fatalf("CloseWrite without Hashes: %v", err)
			}
		}
		if _, err := w.Commit(nil); err != nil {
			t.Fatal(err)
		}
		if want := md5.Sum(data); withHash && !bytes.Equal(h.Sum(nil), want[:]) {
			t.Errorf("MD5 after Commit = %x, want %x", h.Sum(nil), want)
		}
	}
}

var errBody = errors.New("body broke")

// TestReadFromReaderError: an error of the reader, after some bytes or at
// once, comes back as it is, with the count of bytes read; those bytes are
// part of the object and the Writer goes on.
func TestReadFromReaderError(t *testing.T) {
	t.Parallel()
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(33, uint64(c.p.BlockSize)))
			for _, before := range []int{0, 1, c.p.BlockSize - 1, c.p.BlockSize, 2*c.p.BlockSize + 3} {
				data := randBytes(rng, before+1000)
				zones := memZones(c.zones)
				place, _ := Place(c.zones, c.p, 0, true)
				h := md5.New()
				w, err := NewWriter(context.Background(), &WriteOptions{Params: c.p, Zones: zones, Placement: place, DataID: "re", Hashes: []hash.Hash{h}})
				if err != nil {
					t.Fatal(err)
				}
				r := io.MultiReader(&chunkReader{data: data[:before], rng: rng, max: 5000, eofWithData: true}, iotest.ErrReader(errBody))
				n, err := w.ReadFrom(r)
				if n != int64(before) || !errors.Is(err, errBody) {
					t.Fatalf("ReadFrom after %d bytes = %d, %v; want %d, %v", before, n, err, before, errBody)
				}
				// A reader that fails with its data: the data counts.
				n, err = w.ReadFrom(iotest.DataErrReader(iotest.TimeoutReader(bytes.NewReader(data[before:]))))
				if n == 0 || !errors.Is(err, iotest.ErrTimeout) {
					t.Fatalf("ReadFrom of a timing-out reader = %d, %v", n, err)
				}
				got := before + int(n)
				if _, err := w.Write(data[got:]); err != nil {
					t.Fatal(err)
				}
				if err := w.CloseWrite(); err != nil {
					t.Fatal(err)
				}
				if want := md5.Sum(data); !bytes.Equal(h.Sum(nil), want[:]) {
					t.Errorf("MD5 = %x, want %x", h.Sum(nil), want)
				}
				res, err := w.Commit(nil)
				if err != nil || res.Size != int64(len(data)) {
					t.Fatalf("Commit = %+v, %v; want size %d", res, err, len(data))
				}
			}
		})
	}
}

// cancelReader cancels a context once it has returned after bytes, then
// keeps returning data.
type cancelReader struct {
	r      io.Reader
	after  int
	cancel context.CancelFunc
}

func (r *cancelReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if r.after -= n; r.after <= 0 {
		r.cancel()
	}
	return n, err
}

// TestReadFromCancel cancels the Writer's context during a ReadFrom: it
// stops with the context's error and nothing is published.
func TestReadFromCancel(t *testing.T) {
	t.Parallel()
	c := configs[0]
	zones := memZones(c.zones)
	place, _ := Place(c.zones, c.p, 0, false)
	ctx, cancel := context.WithCancel(context.Background())
	w, err := NewWriter(ctx, &WriteOptions{Params: c.p, Zones: zones, Placement: place, DataID: "rc", Hashes: []hash.Hash{md5.New()}})
	if err != nil {
		t.Fatal(err)
	}
	endless := &cancelReader{r: rand.NewChaCha8([32]byte{}), after: 5 * c.p.BlockSize, cancel: cancel}
	n, err := w.ReadFrom(endless)
	if !errors.Is(err, context.Canceled) || n < int64(5*c.p.BlockSize) {
		t.Fatalf("ReadFrom cancelled = %d, %v", n, err)
	}
	if err := w.CloseWrite(); !errors.Is(err, context.Canceled) {
		t.Errorf("CloseWrite after cancel = %v", err)
	}
	if _, err := w.Commit(nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Commit after cancel = %v", err)
	}
	if err := w.Abort(); err != nil {
		t.Error(err)
	}
	if names := blobNames(t, zones); len(names) != 0 {
		t.Fatalf("cancelled write left %v", names)
	}
}

// TestReadFromQuorum: zones that go offline during a ReadFrom end it with
// ErrQuorum, not with an endless read.
func TestReadFromQuorum(t *testing.T) {
	t.Parallel()
	c := configs[0]
	f := wrapZones(memZones(3))
	f[0].SetOffline(true)
	f[1].SetOffline(true)
	zones := asBackends(f)
	place, _ := Place(3, c.p, 0, false)
	w, err := NewWriter(context.Background(), &WriteOptions{Params: c.p, Zones: zones, Placement: place, DataID: "rq", Hashes: []hash.Hash{md5.New()}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.ReadFrom(rand.NewChaCha8([32]byte{})); !errors.Is(err, ErrQuorum) {
		t.Fatalf("ReadFrom into a write that lost its quorum = %v", err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if names := blobNames(t, zones); len(names) != 0 {
		t.Fatalf("failed write left %v", names)
	}
}

// TestCloseWriteStates: after CloseWrite, Write and ReadFrom fail with
// ErrClosed, CloseWrite again does nothing, and Commit and Abort work.
func TestCloseWriteStates(t *testing.T) {
	t.Parallel()
	c := configs[0]
	zones := memZones(c.zones)
	place, _ := Place(c.zones, c.p, 0, false)
	o := &WriteOptions{Params: c.p, Zones: zones, Placement: place, DataID: "cs", Hashes: []hash.Hash{md5.New()}}
	for _, commit := range []bool{false, true} {
		w, err := NewWriter(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(make([]byte, 2*c.p.BlockSize+1))
		if err := w.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		if err := w.CloseWrite(); err != nil {
			t.Errorf("second CloseWrite = %v", err)
		}
		if _, err := w.Write([]byte{1}); !errors.Is(err, ErrClosed) {
			t.Errorf("Write after CloseWrite = %v", err)
		}
		if _, err := w.ReadFrom(bytes.NewReader([]byte{1})); !errors.Is(err, ErrClosed) {
			t.Errorf("ReadFrom after CloseWrite = %v", err)
		}
		if !commit {
			if err := w.Abort(); err != nil {
				t.Fatal(err)
			}
			if names := blobNames(t, zones); len(names) != 0 {
				t.Fatalf("Abort after CloseWrite left %v", names)
			}
			if err := w.CloseWrite(); !errors.Is(err, ErrClosed) {
				t.Errorf("CloseWrite after Abort = %v", err)
			}
			continue
		}
		if res, err := w.Commit(nil); err != nil || res.Size != int64(2*c.p.BlockSize+1) {
			t.Fatalf("Commit after CloseWrite = %+v, %v", res, err)
		}
		if names := blobNames(t, zones); len(names) != c.p.Shards() {
			t.Fatalf("Commit after CloseWrite made %v", names)
		}
	}
	o.Hashes = []hash.Hash{md5.New(), nil}
	if _, err := NewWriter(context.Background(), o); !errors.Is(err, ErrInvalidParams) {
		t.Errorf("NewWriter with a nil hash = %v", err)
	}
}

// TestReadFromSmallStaysStaged: ReadFrom of an object of up to stageMax
// bytes, like Write, never takes a stripe buffer.
func TestReadFromSmallStaysStaged(t *testing.T) {
	t.Parallel()
	c := configs[4] // block size above stageMax
	for _, size := range []int{0, 1, stageMax - 1, stageMax} {
		zones := memZones(c.zones)
		place, _ := Place(c.zones, c.p, 0, false)
		w, err := NewWriter(context.Background(), &WriteOptions{Params: c.p, Zones: zones, Placement: place, DataID: "ss"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.ReadFrom(bytes.NewReader(make([]byte, size))); err != nil {
			t.Fatal(err)
		}
		if w.nalloc != 0 {
			t.Errorf("ReadFrom of %d bytes took %d stripe buffers", size, w.nalloc)
		}
		if res, err := w.Commit(nil); err != nil || res.Size != int64(size) {
			t.Fatalf("Commit = %+v, %v", res, err)
		}
	}
}
