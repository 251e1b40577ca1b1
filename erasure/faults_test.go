package erasure

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/cellarhq/cellar/backend"
	"github.com/cellarhq/cellar/backend/faulty"
)

// damage is one way a stored shard blob goes bad.
type damage int

const (
	dMissing    damage = iota // deleted
	dHeader                   // bit flip in the header
	dBlock                    // bit flip in a shard block
	dHash                     // bit flip in a block's stored hash
	dTrailer                  // bit flip in the trailer or footer
	dTruncate                 // cut short
	dWrongShard               // another shard's blob under this name
	nDamage
)

func (d damage) String() string {
	return [...]string{"missing", "header", "block", "hash", "trailer", "truncate", "wrongshard"}[d]
}

// hard reports whether d makes block j of the shard unusable. A damaged
// trailer leaves the blocks, which carry their own hashes, usable.
func (d damage) hard() bool { return d != dTrailer }

// cloneZones copies memory zones so each case starts from the pristine
// object.
func cloneZones(t testing.TB, zones []backend.Backend) []backend.Backend {
	t.Helper()
	out := memZones(len(zones))
	for i, z := range zones {
		z.List(context.Background(), "", func(info backend.Info) error {
			putBlob(t, out[i], info.Name, getBlob(t, z, info.Name))
			return nil
		})
	}
	return out
}

// applyDamage damages shard i of o (in zones) so that block j, at least,
// cannot be used unless d is soft.
func applyDamage(t testing.TB, o *object, zones []backend.Backend, i int, j int64, d damage, rng *rand.Rand) {
	t.Helper()
	z, name := zones[o.place[i]], BlobName(o.id, i)
	if d == dMissing {
		deleteBlob(t, z, name)
		return
	}
	b := getBlob(t, z, name)
	l := newLayout(o.p, len(o.id), int64(len(o.data)))
	flip := func(from, to int64) {
		pos := from + rng.Int64N(to-from)
		b[pos] ^= 1 << rng.IntN(8)
	}
	off := l.blockOff(j)
	switch d {
	case dHeader:
		flip(0, l.hdrLen)
	case dBlock:
		flip(off+hashLen, off+hashLen+l.shardLen(j))
	case dHash:
		flip(off, off+hashLen)
	case dTrailer:
		flip(l.blocksEnd(), int64(len(b)))
	case dTruncate:
		b = b[:rng.Int64N(off+hashLen+l.shardLen(j))]
	case dWrongShard:
		other := (i + 1) % o.p.Shards()
		b = getBlob(t, o.zones[o.place[other]], BlobName(o.id, other)) // pristine copy
	}
	putBlob(t, z, name, b)
}

// subsets calls fn with every subset of [0,n) of size lo..hi.
func subsets(n, lo, hi int, fn func([]int)) {
	var rec func(start int, cur []int)
	rec = func(start int, cur []int) {
		if len(cur) >= lo {
			fn(slices.Clone(cur))
		}
		if len(cur) == hi {
			return
		}
		for i := start; i < n; i++ {
			rec(i+1, append(cur, i))
		}
	}
	rec(0, nil)
}

// TestDegraded damages every combination of up to m shards, in every way,
// and checks that the object reads back exactly, that BadShards names the
// damaged shards (all damaged data shards, and never a healthy shard), and
// that VerifyShard flags exactly the damaged blobs.
func TestDegraded(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		config
		mixedOnly bool // one case per subset with mixed damage, not one per kind
	}{
		{configs[0], false},
		{configs[1], true},
		{configs[2], false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(11, 12))
			size := 4*c.p.BlockSize + c.p.BlockSize/3
			o := writeObject(t, c.p, memZones(c.zones), "deg", randBytes(rng, size), 3)
			const j = 2 // the block that block-level damage hits
			k, n := c.p.DataShards, c.p.Shards()
			subsets(n, 1, c.p.ParityShards, func(set []int) {
				var cases [][]damage
				if !c.mixedOnly {
					for d := range nDamage {
						cases = append(cases, slices.Repeat([]damage{d}, len(set)))
					}
				}
				mixed := make([]damage, len(set))
				for x := range mixed {
					mixed[x] = damage(rng.IntN(int(nDamage)))
				}
				cases = append(cases, mixed)
				for _, ds := range cases {
					zones := cloneZones(t, o.zones)
					for x, i := range set {
						applyDamage(t, o, zones, i, j, ds[x], rng)
					}
					what := fmt.Sprintf("shards %v damaged %v", set, ds)
					oo := *o
					oo.zones = zones
					for _, whole := range []bool{true, false} {
						r, err := Open(context.Background(), oo.readOptions())
						if err != nil {
							t.Fatal(err)
						}
						if !whole {
							r.smallBlob = 0
						}
						got, err := readSeq(r, 32<<10)
						if err != nil {
							t.Fatalf("%s: read: %v", what, err)
						}
						checkBytes(t, what, got, o.data)
						var bad []int
						for _, se := range r.BadShards() {
							bad = append(bad, se.Shard)
							if se.Zone != o.place[se.Shard] || se.Err == nil {
								t.Errorf("%s: bad ShardError %+v", what, se)
							}
						}
						r.Close()
						for x, i := range set {
							if i < k && !slices.Contains(bad, i) {
								t.Errorf("%s: BadShards %v misses data shard %d (%v)", what, bad, i, ds[x])
							}
						}
						for _, i := range bad {
							if !slices.Contains(set, i) {
								t.Errorf("%s: BadShards %v names healthy shard %d", what, bad, i)
							}
						}
					}
					for i := range n {
						err := VerifyShard(context.Background(), zones[o.place[i]], BlobName(o.id, i))
						if (err != nil) != slices.Contains(set, i) {
							t.Errorf("%s: VerifyShard(shard %d) = %v", what, i, err)
						}
					}
				}
			})
		})
	}
}

// TestTooManyBad damages m+1 shards so that block 2 cannot be decoded: the
// read must fail with ErrTooManyBad after returning only correct bytes.
func TestTooManyBad(t *testing.T) {
	t.Parallel()
	for _, c := range configs[:3] {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(13, 14))
			size := 4*c.p.BlockSize + 5
			o := writeObject(t, c.p, memZones(c.zones), "toomany", randBytes(rng, size), 4)
			const j = 2
			m := c.p.ParityShards
			subsets(c.p.Shards(), m+1, m+1, func(set []int) {
				zones := cloneZones(t, o.zones)
				ds := make([]damage, len(set))
				for x, i := range set {
					for ds[x] = dTrailer; !ds[x].hard(); ds[x] = damage(rng.IntN(int(nDamage))) {
					}
					applyDamage(t, o, zones, i, j, ds[x], rng)
				}
				oo := *o
				oo.zones = zones
				for _, bufSize := range []int{100, 32 << 10} {
					r, err := Open(context.Background(), oo.readOptions())
					if err != nil {
						t.Fatal(err)
					}
					if bufSize == 100 {
						r.smallBlob = 0 // the ranged path too
					}
					got, err := readSeq(r, bufSize)
					if !errors.Is(err, ErrTooManyBad) {
						t.Fatalf("shards %v damaged %v: read error %v, want ErrTooManyBad", set, ds, err)
					}
					checkBytes(t, "prefix before the error", got, o.data[:len(got)])
					if len(got) > j*c.p.BlockSize {
						t.Fatalf("read %d bytes, past the broken block %d", len(got), j)
					}
					// Block 0 is intact when only block 2 was damaged.
					if !slices.ContainsFunc(ds, func(d damage) bool { return d != dBlock && d != dHash }) {
						buf := make([]byte, 10)
						if _, err := r.ReadAt(buf, 0); err != nil || !bytes.Equal(buf, o.data[:10]) {
							t.Fatalf("block 0 after failure: %v", err)
						}
					}
					r.Close()
				}
			})
		})
	}
}

// TestReadBitFlips corrupts reads at random in flight: a read returns
// exact bytes or ErrTooManyBad, never anything else.
func TestReadBitFlips(t *testing.T) {
	t.Parallel()
	c := configs[0]
	rng := rand.New(rand.NewPCG(15, 16))
	o := writeObject(t, c.p, memZones(c.zones), "flip", randBytes(rng, 10*c.p.BlockSize+77), 5)
	big := writeObject(t, c.p, memZones(c.zones), "flipbig", randBytes(rng, 70*c.p.BlockSize+77), 5)
	for _, p := range []float64{0.05, 0.2, 0.6} {
		zones := make([]backend.Backend, len(o.zones))
		for i, z := range o.zones {
			zones[i] = faulty.Wrap(z, faulty.BitFlip(p), faulty.Seed(uint64(i)+uint64(p*100)))
		}
		var ok, failed int
		for try := range 20 {
			o := o
			if try%2 == 1 {
				o = big
			}
			oo := *o
			for i, z := range o.zones {
				zones[i] = faulty.Wrap(z, faulty.BitFlip(p), faulty.Seed(uint64(try*10+i)+uint64(p*1000)))
			}
			oo.zones = zones
			r, err := Open(context.Background(), oo.readOptions())
			if err != nil {
				t.Fatal(err)
			}
			got, err := readSeq(r, 4096)
			checkBytes(t, "bytes before any error", got, o.data[:len(got)])
			switch {
			case err == nil:
				ok++
				checkBytes(t, "read", got, o.data)
			case errors.Is(err, ErrTooManyBad):
				failed++
			default:
				t.Fatalf("read: %v", err)
			}
			for _, se := range r.BadShards() {
				if !errors.Is(se.Err, ErrCorrupt) {
					t.Errorf("bad shard %d: %v, want ErrCorrupt", se.Shard, se.Err)
				}
			}
			r.Close()
		}
		t.Logf("bit flip p=%v: %d reads ok, %d ErrTooManyBad", p, ok, failed)
	}
}

// wrapZones wraps each zone with faulty.
func wrapZones(zones []backend.Backend, opts ...faulty.Option) []*faulty.Backend {
	f := make([]*faulty.Backend, len(zones))
	for i, z := range zones {
		f[i] = faulty.Wrap(z, opts...)
	}
	return f
}

func asBackends(f []*faulty.Backend) []backend.Backend {
	z := make([]backend.Backend, len(f))
	for i := range f {
		z[i] = f[i]
	}
	return z
}

// writeAll writes data in 1000-byte pieces and commits.
func writeAll(ctx context.Context, o *WriteOptions, data []byte) (*WriteResult, error) {
	w, err := NewWriter(ctx, o)
	if err != nil {
		return nil, err
	}
	for rest := data; len(rest) > 0; {
		c := min(len(rest), 1000)
		if _, err := w.Write(rest[:c]); err != nil {
			w.Abort()
			return nil, err
		}
		rest = rest[c:]
	}
	return w.Commit([]byte("rec"))
}

// TestQuorum takes zones offline: with at most m shards lost the write
// succeeds and lists them Missing; with more it fails with ErrQuorum and
// leaves nothing behind.
func TestQuorum(t *testing.T) {
	t.Parallel()
	c := configs[0] // RS(4,2), two shards per zone
	rng := rand.New(rand.NewPCG(17, 18))
	data := randBytes(rng, 5*c.p.BlockSize+3)
	for offline := 0; offline <= 3; offline++ {
		t.Run(fmt.Sprint(offline, "-zones-offline"), func(t *testing.T) {
			t.Parallel()
			f := wrapZones(memZones(3))
			for z := range offline {
				f[z].SetOffline(true)
			}
			zones := asBackends(f)
			place, _ := Place(3, c.p, 0, false)
			o := &WriteOptions{Params: c.p, Zones: zones, Placement: place, DataID: "q"}
			res, err := writeAll(context.Background(), o, data)
			if offline >= 2 {
				if !errors.Is(err, ErrQuorum) {
					t.Fatalf("write with %d zones offline: %v, want ErrQuorum", offline, err)
				}
				if names := blobNames(t, zones); len(names) != 0 {
					t.Fatalf("failed write left %v", names)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var want []int
			for i, z := range place {
				if z < offline {
					want = append(want, i)
				}
			}
			if !slices.Equal(res.Missing, want) || len(res.Failed) != len(want) {
				t.Fatalf("Missing = %v (%v), want %v", res.Missing, res.Failed, want)
			}
			for _, se := range res.Failed {
				if !errors.Is(se.Err, faulty.ErrOffline) || se.Zone >= offline {
					t.Errorf("Failed entry %+v", se)
				}
			}
			r, err := Open(context.Background(), &ReadOptions{Params: c.p, Zones: zones, Placement: place, DataID: "q", Size: int64(len(data))})
			if err != nil {
				t.Fatal(err)
			}
			got, err := readSeq(r, 32<<10)
			if err != nil {
				t.Fatal(err)
			}
			checkBytes(t, "read", got, data)
			r.Close()
		})
	}
}

// TestQuorumDefault checks the default quorum k+1 when k == m.
func TestQuorumDefault(t *testing.T) {
	t.Parallel()
	p := Params{2, 2, 1024}
	f := wrapZones(memZones(4))
	f[0].SetOffline(true)
	f[1].SetOffline(true)
	place, _ := Place(4, p, 0, false)
	_, err := writeAll(context.Background(), &WriteOptions{Params: p, Zones: asBackends(f), Placement: place, DataID: "kq"}, make([]byte, 5000))
	if !errors.Is(err, ErrQuorum) {
		t.Fatalf("RS(2,2) with 2 of 4 shards: %v, want ErrQuorum (quorum k+1)", err)
	}
	_, err = writeAll(context.Background(), &WriteOptions{Params: p, Zones: asBackends(f), Placement: place, DataID: "kq", Quorum: 2}, make([]byte, 5000))
	if err != nil {
		t.Fatalf("RS(2,2) with 2 of 4 shards and Quorum 2: %v", err)
	}
}

// TestFailAfter lets two of three zones fail after n operations, raising n
// until the write succeeds, and checks at every step that a failed write
// leaves nothing in the working zone (a failing zone refuses the cleanup's
// Delete too; the store's sweeper removes that) and a successful one reads
// back.
func TestFailAfter(t *testing.T) {
	t.Parallel()
	c := configs[0]
	rng := rand.New(rand.NewPCG(19, 20))
	data := randBytes(rng, 3*c.p.BlockSize+100)
	for _, torn := range []bool{false, true} {
		t.Run(fmt.Sprint("torn=", torn), func(t *testing.T) {
			t.Parallel()
			for n := int64(0); ; n++ {
				f := wrapZones(memZones(3))
				f[0].SetFailAfter(n)
				f[1].SetFailAfter(n + 1)
				if torn {
					f[2].SetTorn(faulty.TornFail, 0.5)
				}
				zones := asBackends(f)
				place, _ := Place(3, c.p, 1, false)
				id := "fa"
				res, err := writeAll(context.Background(), &WriteOptions{Params: c.p, Zones: zones, Placement: place, DataID: id}, data)
				names := blobNames(t, zones)
				if err != nil {
					if !errors.Is(err, ErrQuorum) {
						t.Fatalf("n=%d: %v, want ErrQuorum", n, err)
					}
					if left := blobNames(t, zones[2:]); len(left) != 0 {
						t.Fatalf("n=%d: failed write left %v in the working zone", n, left)
					}
					for _, name := range names {
						_, shard, _ := ParseBlobName(name)
						if fz := f[place[shard]]; fz.Ops() <= n {
							t.Fatalf("n=%d: failed write left %s in a zone that did not fail", n, name)
						}
					}
					continue
				}
				var want []string
				for i := range c.p.Shards() {
					if !slices.Contains(res.Missing, i) {
						want = append(want, BlobName(id, i))
					}
				}
				slices.Sort(want)
				if !slices.Equal(names, want) {
					t.Fatalf("n=%d: blobs %v, want %v (Missing %v)", n, names, want, res.Missing)
				}
				for _, fz := range f {
					fz.SetFailAfter(-1)
				}
				r, _ := Open(context.Background(), &ReadOptions{Params: c.p, Zones: zones, Placement: place, DataID: id, Size: int64(len(data))})
				got, err := readSeq(r, 32<<10)
				if err != nil {
					t.Fatalf("n=%d: read: %v", n, err)
				}
				checkBytes(t, "read", got, data)
				r.Close()
				t.Logf("first success at n=%d, Missing %v", n, res.Missing)
				return
			}
		})
	}
}

// TestLyingDisk: a zone that acknowledges a torn blob; the reader finds
// the damage and decodes around it.
func TestLyingDisk(t *testing.T) {
	t.Parallel()
	c := configs[0]
	rng := rand.New(rand.NewPCG(21, 22))
	data := randBytes(rng, 6*c.p.BlockSize)
	f := wrapZones(memZones(3))
	f[1].SetTorn(faulty.TornSilent, 0.6)
	zones := asBackends(f)
	place, _ := Place(3, c.p, 0, false)
	res, err := writeAll(context.Background(), &WriteOptions{Params: c.p, Zones: zones, Placement: place, DataID: "ly"}, data)
	if err != nil || len(res.Missing) != 0 {
		t.Fatalf("write: %+v, %v", res, err)
	}
	r, _ := Open(context.Background(), &ReadOptions{Params: c.p, Zones: zones, Placement: place, DataID: "ly", Size: int64(len(data))})
	got, err := readSeq(r, 32<<10)
	if err != nil {
		t.Fatal(err)
	}
	checkBytes(t, "read", got, data)
	var bad []int
	for _, se := range r.BadShards() {
		bad = append(bad, se.Shard)
	}
	for i, z := range place {
		if z == 1 && i < c.p.DataShards && !slices.Contains(bad, i) {
			t.Errorf("BadShards %v misses torn data shard %d", bad, i)
		}
	}
	r.Close()
}

// TestCancelWrite cancels the context mid-write and mid-commit: nothing is
// published and the calls return the context's error.
func TestCancelWrite(t *testing.T) {
	t.Parallel()
	c := configs[0]
	place, _ := Place(3, c.p, 0, false)
	chunk := make([]byte, c.p.BlockSize)

	t.Run("mid-write", func(t *testing.T) {
		t.Parallel()
		zones := memZones(3)
		ctx, cancel := context.WithCancel(context.Background())
		w, err := NewWriter(ctx, &WriteOptions{Params: c.p, Zones: zones, Placement: place, DataID: "cw"})
		if err != nil {
			t.Fatal(err)
		}
		for range 5 {
			if _, err := w.Write(chunk); err != nil {
				t.Fatal(err)
			}
		}
		cancel()
		if _, err := w.Write(chunk); !errors.Is(err, context.Canceled) {
			t.Errorf("Write after cancel = %v", err)
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
	})

	t.Run("mid-commit", func(t *testing.T) {
		t.Parallel()
		f := wrapZones(memZones(3))
		zones := asBackends(f)
		ctx, cancel := context.WithCancel(context.Background())
		w, err := NewWriter(ctx, &WriteOptions{Params: c.p, Zones: zones, Placement: place, DataID: "cc"})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(chunk)
		f[2].SetLatency(time.Hour) // zone 2's commits hang until cancelled
		time.AfterFunc(50*time.Millisecond, cancel)
		if _, err := w.Commit(nil); !errors.Is(err, context.Canceled) {
			t.Errorf("Commit cancelled midway = %v", err)
		}
		f[2].SetLatency(0)
		if names := blobNames(t, zones); len(names) != 0 {
			t.Fatalf("cancelled commit left %v", names)
		}
	})
}

// TestHedge makes one data shard's zone slow: reads finish from parity
// well before the slow reads would, and a slow shard is not reported bad.
func TestHedge(t *testing.T) {
	t.Parallel()
	p := Params{4, 2, 4096}
	f := wrapZones(memZones(6))
	zones := asBackends(f)
	place, _ := Place(6, p, 0, false)
	rng := rand.New(rand.NewPCG(23, 24))
	data := randBytes(rng, 8*p.BlockSize+1)
	if _, err := writeAll(context.Background(), &WriteOptions{Params: p, Zones: zones, Placement: place, DataID: "hd"}, data); err != nil {
		t.Fatal(err)
	}
	f[place[2]].SetLatency(10 * time.Second)
	start := time.Now()
	r, _ := Open(context.Background(), &ReadOptions{Params: p, Zones: zones, Placement: place, DataID: "hd", Size: int64(len(data)), HedgeAfter: 20 * time.Millisecond})
	got, err := readSeq(r, 32<<10)
	if err != nil {
		t.Fatal(err)
	}
	checkBytes(t, "read", got, data)
	if bad := r.BadShards(); len(bad) != 0 {
		t.Errorf("BadShards = %v; slow is not bad", bad)
	}
	if err := r.Close(); err != nil {
		t.Error(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("hedged read took %v", d)
	}
}

// TestReaderContext: cancelling the Reader's context fails reads with the
// context's error, not ErrTooManyBad, and reports no shard.
func TestReaderContext(t *testing.T) {
	t.Parallel()
	c := configs[0]
	o := writeObject(t, c.p, memZones(3), "rc", make([]byte, 5*c.p.BlockSize), 1)
	ctx, cancel := context.WithCancel(context.Background())
	r, _ := Open(ctx, o.readOptions())
	if _, err := r.ReadAt(make([]byte, 10), 0); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := r.ReadAt(make([]byte, 10), int64(3*c.p.BlockSize)); !errors.Is(err, context.Canceled) {
		t.Errorf("ReadAt after cancel = %v", err)
	}
	if bad := r.BadShards(); len(bad) != 0 {
		t.Errorf("BadShards = %v", bad)
	}
	r.Close()
	if _, err := r.ReadAt(make([]byte, 10), 0); !errors.Is(err, ErrClosed) {
		t.Errorf("ReadAt after Close = %v", err)
	}
	if n, err := r.ReadAt(nil, o.res.Size); n != 0 || err == nil {
		t.Errorf("ReadAt at end after Close = %d, %v", n, err)
	}
	var _ io.ReaderAt = r
}

// TestRebuild damages up to m shards, rebuilds them, and checks that every
// blob is again byte for byte what the write made.
func TestRebuild(t *testing.T) {
	t.Parallel()
	for _, c := range configs {
		if c.p.ParityShards == 0 {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(25, 26))
			for _, size := range []int{0, 5, 3*c.p.BlockSize + 11} {
				o := writeObject(t, c.p, memZones(c.zones), "rb", randBytes(rng, size), uint64(size))
				n := c.p.Shards()
				pristine := make([][]byte, n)
				for i := range n {
					pristine[i] = getBlob(t, o.zones[o.place[i]], BlobName(o.id, i))
				}
				subsets(n, 1, c.p.ParityShards, func(set []int) {
					zones := cloneZones(t, o.zones)
					for _, i := range set {
						d := damage(rng.IntN(int(nDamage)))
						if size == 0 && (d == dBlock || d == dHash || d == dTruncate) {
							d = dMissing // no blocks to damage
						}
						applyDamage(t, o, zones, i, 0, d, rng)
					}
					oo := *o
					oo.zones = zones
					if err := Rebuild(context.Background(), oo.readOptions(), set); err != nil {
						t.Fatalf("size %d: Rebuild(%v): %v", size, set, err)
					}
					for i := range n {
						got := getBlob(t, zones[o.place[i]], BlobName(o.id, i))
						checkBytes(t, fmt.Sprintf("size %d shard %d after rebuilding %v", size, i, set), got, pristine[i])
					}
				})
			}
		})
	}
	// Too much damage: Rebuild fails and publishes nothing.
	c := configs[0]
	o := writeObject(t, c.p, memZones(c.zones), "rbx", make([]byte, 3*c.p.BlockSize), 1)
	for _, i := range []int{0, 1, 2} {
		deleteBlob(t, o.zones[o.place[i]], BlobName(o.id, i))
	}
	if err := Rebuild(context.Background(), o.readOptions(), []int{0, 1, 2}); !errors.Is(err, ErrTooManyBad) {
		t.Fatalf("Rebuild with 3 of 6 shards lost: %v, want ErrTooManyBad", err)
	}
	if names := blobNames(t, o.zones); len(names) != 3 {
		t.Fatalf("failed Rebuild left %v", names)
	}
	if err := Rebuild(context.Background(), o.readOptions(), []int{1, 1}); !errors.Is(err, ErrInvalidParams) {
		t.Errorf("Rebuild of a repeated shard: %v", err)
	}
}
