package erasure

import (
	"bytes"
	"context"
	"crypto/md5"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/cellarhq/cellar/backend"
)

// discard is a Backend whose writers drop the bytes: it measures the
// erasure pipeline without a backend's copying.
type discard struct{ backend.Backend }

type discardWriter struct{}

func (discard) Create(ctx context.Context, name string) (backend.Writer, error) {
	return discardWriter{}, nil
}
func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (discardWriter) Commit() error               { return nil }
func (discardWriter) Abort() error                { return nil }

const benchSize = 64 << 20

var benchParams = Params{4, 2, 1 << 20}

func benchZones(kind string) []backend.Backend {
	z := memZones(3)
	if kind == "discard" {
		for i := range z {
			z[i] = discard{z[i]}
		}
	}
	return z
}

// BenchmarkWriter writes a 64 MiB object, RS(4,2) with 1 MiB blocks over
// three zones, in chunks. With md5, the caller hashes every chunk before
// Write, as the store does for the ETag: the pipeline should hide encoding
// and BLAKE3 behind it.
func BenchmarkWriter(b *testing.B) {
	data := randBytes(rand.New(rand.NewPCG(1, 1)), benchSize)
	for _, kind := range []string{"memory", "discard"} {
		for _, withMD5 := range []bool{false, true} {
			for _, chunk := range []int{32 << 10, 1 << 20} {
				b.Run(fmt.Sprintf("%s/md5=%v/chunk=%dK", kind, withMD5, chunk>>10), func(b *testing.B) {
					zones := benchZones(kind)
					place, _ := Place(3, benchParams, 0, false)
					o := &WriteOptions{Params: benchParams, Zones: zones, Placement: place, DataID: "bench"}
					var h hash.Hash
					if withMD5 {
						h = md5.New()
					}
					b.SetBytes(benchSize)
					b.ReportAllocs()
					for b.Loop() {
						w, err := NewWriter(context.Background(), o)
						if err != nil {
							b.Fatal(err)
						}
						if h != nil {
							h.Reset()
						}
						for off := 0; off < len(data); off += chunk {
							p := data[off:min(off+chunk, len(data))]
							if h != nil {
								h.Write(p)
							}
							if _, err := w.Write(p); err != nil {
								b.Fatal(err)
							}
						}
						if _, err := w.Commit([]byte("record")); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}

// BenchmarkWriterReadFrom writes the same object with io.Copy from a
// reader, so that the Writer reads straight into its stripe buffers, and
// an MD5 of the body computed three ways: not at all, by the caller's
// goroutine (io.TeeReader), and by the Writer's hash goroutine (Hashes),
// where it overlaps encoding, BLAKE3 and the backend writes. With two or
// more cores, md5=hashes should take about as long as BenchmarkMD5 alone.
func BenchmarkWriterReadFrom(b *testing.B) {
	data := randBytes(rand.New(rand.NewPCG(1, 1)), benchSize)
	for _, kind := range []string{"memory", "discard"} {
		for _, md5Mode := range []string{"none", "tee", "hashes"} {
			b.Run(fmt.Sprintf("%s/md5=%s", kind, md5Mode), func(b *testing.B) {
				zones := benchZones(kind)
				place, _ := Place(3, benchParams, 0, false)
				h := md5.New()
				b.SetBytes(benchSize)
				b.ReportAllocs()
				for b.Loop() {
					h.Reset()
					o := &WriteOptions{Params: benchParams, Zones: zones, Placement: place, DataID: "bench"}
					// No WriteTo, so io.Copy calls ReadFrom.
					var r io.Reader = struct{ io.Reader }{bytes.NewReader(data)}
					switch md5Mode {
					case "tee":
						r = io.TeeReader(r, h)
					case "hashes":
						o.Hashes = []hash.Hash{h}
					}
					w, err := NewWriter(context.Background(), o)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := io.Copy(w, r); err != nil {
						b.Fatal(err)
					}
					if err := w.CloseWrite(); err != nil {
						b.Fatal(err)
					}
					h.Sum(nil)
					if _, err := w.Commit([]byte("record")); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkMD5 is the caller's own cost in the md5 variants above.
func BenchmarkMD5(b *testing.B) {
	data := randBytes(rand.New(rand.NewPCG(1, 1)), benchSize)
	b.SetBytes(benchSize)
	for b.Loop() {
		h := md5.New()
		h.Write(data)
		h.Sum(nil)
	}
}

// BenchmarkReader reads a 64 MiB object sequentially through ReadAt, as
// io.Copy over an io.SectionReader does, healthy and with one data shard
// missing (every block decoded from parity).
func BenchmarkReader(b *testing.B) {
	o := writeObject(b, benchParams, memZones(3), "bench", randBytes(rand.New(rand.NewPCG(2, 2)), benchSize), 0)
	degraded := *o
	degraded.zones = cloneZones(b, o.zones)
	deleteBlob(b, degraded.zones[o.place[1]], BlobName(o.id, 1))
	for _, c := range []struct {
		name string
		o    *object
	}{{"healthy", o}, {"degraded", &degraded}} {
		for _, bufSize := range []int{32 << 10, 1 << 20} {
			b.Run(fmt.Sprintf("%s/buf=%dK", c.name, bufSize>>10), func(b *testing.B) {
				buf := make([]byte, bufSize)
				b.SetBytes(benchSize)
				b.ReportAllocs()
				for b.Loop() {
					r, err := Open(context.Background(), c.o.readOptions())
					if err != nil {
						b.Fatal(err)
					}
					for off := int64(0); ; {
						n, err := r.ReadAt(buf, off)
						off += int64(n)
						if err == io.EOF {
							break
						}
						if err != nil {
							b.Fatal(err)
						}
					}
					r.Close()
				}
			})
		}
	}
}

// BenchmarkReaderRandom reads 4 KiB at random offsets of a 64 MiB object:
// each read fetches and verifies one shard block, not the stripe.
func BenchmarkReaderRandom(b *testing.B) {
	o := writeObject(b, benchParams, memZones(3), "bench", randBytes(rand.New(rand.NewPCG(3, 3)), benchSize), 0)
	r, err := Open(context.Background(), o.readOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	rng := rand.New(rand.NewPCG(4, 4))
	buf := make([]byte, 4096)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.ReadAt(buf, rng.Int64N(benchSize-4096)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSmallObject writes and reads back 4 KiB objects.
func BenchmarkSmallObject(b *testing.B) {
	zones := memZones(3)
	place, _ := Place(3, benchParams, 0, false)
	data := randBytes(rand.New(rand.NewPCG(5, 5)), 4096)
	buf := make([]byte, len(data))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		w, _ := NewWriter(context.Background(), &WriteOptions{Params: benchParams, Zones: zones, Placement: place, DataID: "small"})
		w.Write(data)
		if _, err := w.Commit(nil); err != nil {
			b.Fatal(err)
		}
		r, _ := Open(context.Background(), &ReadOptions{Params: benchParams, Zones: zones, Placement: place, DataID: "small", Size: int64(len(data))})
		if _, err := r.ReadAt(buf, 0); err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
}
