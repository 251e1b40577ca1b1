package erasure

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cellarhq/cellar/backend"
)

// config is one erasure configuration the tests run under.
type config struct {
	name  string
	p     Params
	zones int
}

// configs are the configurations most tests run under: RS(4,2) and
// RS(6,3) over three zones, RS(2,1) and RS(1,0) in one zone (weak
// placement), block sizes that divide by k and that do not, and one large
// enough (> stageMax) to use the small-object staging path.
var configs = []config{
	{"rs4+2/3z", Params{4, 2, 4096}, 3},
	{"rs6+3/3z/odd", Params{6, 3, 1000}, 3},
	{"rs2+1/1z", Params{2, 1, 777}, 1},
	{"rs1+0/1z", Params{1, 0, 512}, 1},
	{"rs4+2/6z/staged", Params{4, 2, stageMax + 3333}, 6},
}

func sizesFor(p Params) []int {
	bs, k := p.BlockSize, p.DataShards
	s := []int{0, 1, k - 1, k, k + 1, bs - 1, bs, bs + 1, 3*bs + 7}
	if bs > stageMax {
		s = append(s, stageMax-1, stageMax, stageMax+1)
	}
	slices.Sort(s)
	return slices.Compact(s)
}

func memZones(n int) []backend.Backend {
	z := make([]backend.Backend, n)
	for i := range z {
		z[i] = backend.NewMemory()
	}
	return z
}

func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// object is a written object and how to read it back.
type object struct {
	p     Params
	zones []backend.Backend
	place []int
	id    string
	data  []byte
	res   *WriteResult
}

func (o *object) readOptions() *ReadOptions {
	return &ReadOptions{Params: o.p, Zones: o.zones, Placement: o.place, DataID: o.id, Size: int64(len(o.data))}
}

// writeObject writes data in chunks of random size and commits it.
func writeObject(t testing.TB, p Params, zones []backend.Backend, id string, data []byte, seed uint64) *object {
	t.Helper()
	place, err := Place(len(zones), p, seed, true)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(context.Background(), &WriteOptions{Params: p, Zones: zones, Placement: place, DataID: id})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	for rest := data; len(rest) > 0; {
		c := min(len(rest), 1+rng.IntN(3*p.BlockSize/2+1))
		n, err := w.Write(rest[:c])
		if err != nil || n != c {
			t.Fatalf("Write(%d bytes) = %d, %v", c, n, err)
		}
		rest = rest[c:]
	}
	res, err := w.Commit([]byte("record:" + id))
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if res.Size != int64(len(data)) || len(res.Missing) != 0 {
		t.Fatalf("Commit = %+v, want size %d and nothing missing", res, len(data))
	}
	return &object{p: p, zones: zones, place: place, id: id, data: data, res: res}
}

// readSeq reads the whole object sequentially through ReadAt with buffers
// of bufSize, as io.Copy over an io.SectionReader would.
func readSeq(r *Reader, bufSize int) ([]byte, error) {
	var out []byte
	buf := make([]byte, bufSize)
	for off := int64(0); ; {
		n, err := r.ReadAt(buf, off)
		out = append(out, buf[:n]...)
		off += int64(n)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// blobNames lists every blob in the zones.
func blobNames(t testing.TB, zones []backend.Backend) []string {
	t.Helper()
	var names []string
	for _, z := range zones {
		if u, ok := z.(interface{ Unwrap() backend.Backend }); ok {
			z = u.Unwrap()
		}
		err := z.List(context.Background(), "", func(i backend.Info) error {
			names = append(names, i.Name)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(names)
	return names
}

func getBlob(t testing.TB, z backend.Backend, name string) []byte {
	t.Helper()
	r, err := z.Open(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b := make([]byte, r.Size())
	if _, err := r.ReadAt(b, 0); err != nil && !(err == io.EOF && len(b) == 0) {
		t.Fatal(err)
	}
	return b
}

func putBlob(t testing.TB, z backend.Backend, name string, b []byte) {
	t.Helper()
	w, err := z.Create(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}

func deleteBlob(t testing.TB, z backend.Backend, name string) {
	t.Helper()
	if err := z.Delete(context.Background(), name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
}

func checkBytes(t testing.TB, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("%s: got %d bytes, want %d; first difference at %d", what, len(got), len(want), i)
	}
}
