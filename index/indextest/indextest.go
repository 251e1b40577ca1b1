// Package indextest is a conformance suite for implementations of
// index.Index. Every implementation, fakes and wrappers included, runs it:
//
//	func TestConformance(t *testing.T) {
//		indextest.Run(t, func(t *testing.T) index.Index { return newMyIndex(t) })
//	}
//
// It checks the contract written in the documentation of package index.
package indextest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/cellarhq/cellar/index"
)

// Run runs the conformance suite. newIndex must return a new, empty index
// each time it is called; subtests call it in parallel. Run closes every
// index it gets.
func Run(t *testing.T, newIndex func(t *testing.T) index.Index) {
	tests := []struct {
		name string
		fn   func(t *testing.T, idx index.Index)
	}{
		{"GetSetDelete", testGetSetDelete},
		{"NotFound", testNotFound},
		{"EmptyValue", testEmptyValue},
		{"LargeKeyAndValue", testLargeKeyAndValue},
		{"BatchLaterOpWins", testBatchLaterOpWins},
		{"BatchInvalidOp", testBatchInvalidOp},
		{"BatchReuse", testBatchReuse},
		{"BatchAtomicVisibility", testBatchAtomicVisibility},
		{"IterBounds", testIterBounds},
		{"IterStates", testIterStates},
		{"IterSeekGE", testIterSeekGE},
		{"IterIsolation", testIterIsolation},
		{"BytewiseOrder", testBytewiseOrder},
		{"SnapshotIsolation", testSnapshotIsolation},
		{"ConcurrentApply", testConcurrentApply},
		{"NoAliasing", testNoAliasing},
		{"Closed", testClosed},
		{"ClosedWithOpenReaders", testClosedWithOpenReaders},
		{"SnapshotCloseClosesIters", testSnapshotCloseClosesIters},
		{"IterUseAfterClose", testIterUseAfterClose},
		{"ContextCancelled", testContextCancelled},
		{"IterContextCancelled", testIterContextCancelled},
		{"RandomAgainstModel", testRandomAgainstModel},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			idx := newIndex(t)
			t.Cleanup(func() { closeIndex(t, idx) })
			tc.fn(t, idx)
		})
	}
}

// RunPersistence checks that applied batches survive closing and reopening.
// open must open the index kept in dir, creating it if it does not exist.
func RunPersistence(t *testing.T, open func(t *testing.T, dir string) index.Index) {
	ctx := t.Context()
	dir := t.TempDir()
	m := model{}

	idx := open(t, dir)
	var b index.Batch
	for i := range 2000 {
		k := fmt.Appendf(nil, "key/%05d", i)
		v := fmt.Appendf(nil, "value %d", i)
		b.Set(k, v)
		m.set(k, v)
		if b.Len() == 100 {
			apply(t, idx, &b)
			b.Reset()
		}
	}
	for _, k := range [][]byte{{0}, {0, 0}, {0xff}, {0xff, 0xff}, []byte("a\x00b"), []byte("a\xffb")} {
		b.Set(k, k)
		m.set(k, k)
	}
	b.Set([]byte("empty"), nil)
	m.set([]byte("empty"), nil)
	for i := 0; i < 2000; i += 3 {
		k := fmt.Appendf(nil, "key/%05d", i)
		b.Delete(k)
		m.del(k)
	}
	b.Set([]byte("key/00001"), []byte("overwritten"))
	m.set([]byte("key/00001"), []byte("overwritten"))
	apply(t, idx, &b)
	if err := idx.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	idx = open(t, dir)
	checkModel(t, idx, m)
	if _, err := idx.Get(ctx, []byte("key/00000")); !errors.Is(err, index.ErrNotFound) {
		t.Fatalf("Get of a key deleted before reopening: err = %v, want ErrNotFound", err)
	}
	b.Reset()
	for i := 1; i < 2000; i += 3 {
		k := fmt.Appendf(nil, "key/%05d", i)
		b.Delete(k)
		m.del(k)
	}
	b.Set([]byte("after reopen"), []byte("yes"))
	m.set([]byte("after reopen"), []byte("yes"))
	apply(t, idx, &b)
	if err := idx.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	idx = open(t, dir)
	defer closeIndex(t, idx)
	checkModel(t, idx, m)
}

func testGetSetDelete(t *testing.T, idx index.Index) {
	setKV(t, idx, "a", "1", "b", "2")
	wantGet(t, idx, "a", "1")
	wantGet(t, idx, "b", "2")
	setKV(t, idx, "a", "3")
	wantGet(t, idx, "a", "3")
	deleteKeys(t, idx, "a")
	wantMissing(t, idx, "a")
	wantGet(t, idx, "b", "2")
	// Deleting a missing key is not an error.
	deleteKeys(t, idx, "never set")
	wantMissing(t, idx, "never set")
}

func testNotFound(t *testing.T, idx index.Index) {
	ctx := t.Context()
	v, err := idx.Get(ctx, []byte("missing"))
	if !errors.Is(err, index.ErrNotFound) {
		t.Fatalf("Get(missing) = %q, %v; want error matching ErrNotFound", v, err)
	}
	setKV(t, idx, "b", "x")
	for _, k := range []string{"a", "b\x00", "ba", "c", "\x00", "\xff"} {
		wantMissing(t, idx, k)
	}
}

func testEmptyValue(t *testing.T, idx index.Index) {
	ctx := t.Context()
	var b index.Batch
	b.Set([]byte("empty"), []byte{})
	b.Set([]byte("nil"), nil)
	apply(t, idx, &b)
	for _, k := range []string{"empty", "nil"} {
		v, err := idx.Get(ctx, []byte(k))
		if err != nil || len(v) != 0 {
			t.Errorf("Get(%q) = %q, %v; want an empty value and no error", k, v, err)
		}
	}
	wantMissing(t, idx, "missing")
	got := scan(t, idx, nil, nil)
	want := []kv{{"empty", ""}, {"nil", ""}}
	if !slices.Equal(got, want) {
		t.Errorf("scan = %q, want %q", got, want)
	}
	// Deleting an empty value makes the key missing.
	deleteKeys(t, idx, "empty")
	wantMissing(t, idx, "empty")
}

func testLargeKeyAndValue(t *testing.T, idx index.Index) {
	key := bytes.Repeat([]byte{'k', 0, 0xff}, 700)
	val := make([]byte, 1<<20)
	for i := range val {
		val[i] = byte(i * 7)
	}
	var b index.Batch
	b.Set(key, val)
	apply(t, idx, &b)
	got, err := idx.Get(t.Context(), key)
	if err != nil || !bytes.Equal(got, val) {
		t.Fatalf("Get of a 2100-byte key with a 1 MiB value: len %d, err %v; want the value back", len(got), err)
	}
}

func testBatchLaterOpWins(t *testing.T, idx index.Index) {
	var b index.Batch
	b.Set([]byte("set-set"), []byte("1"))
	b.Set([]byte("set-set"), []byte("2"))
	b.Set([]byte("set-del"), []byte("1"))
	b.Delete([]byte("set-del"))
	b.Delete([]byte("del-set"))
	b.Set([]byte("del-set"), []byte("1"))
	b.Set([]byte("set-del-set"), []byte("1"))
	b.Delete([]byte("set-del-set"))
	b.Set([]byte("set-del-set"), []byte("3"))
	apply(t, idx, &b)
	wantGet(t, idx, "set-set", "2")
	wantMissing(t, idx, "set-del")
	wantGet(t, idx, "del-set", "1")
	wantGet(t, idx, "set-del-set", "3")
	want := []kv{{"del-set", "1"}, {"set-del-set", "3"}, {"set-set", "2"}}
	if got := scan(t, idx, nil, nil); !slices.Equal(got, want) {
		t.Errorf("scan = %q, want %q", got, want)
	}
}

func testBatchInvalidOp(t *testing.T, idx index.Index) {
	setKV(t, idx, "old", "1")
	for _, kind := range []index.OpKind{0, index.OpDelete + 1, 255} {
		b := &index.Batch{Ops: []index.Op{
			{Kind: index.OpSet, Key: []byte("new"), Value: []byte("x")},
			{Kind: index.OpDelete, Key: []byte("old")},
			{Kind: kind, Key: []byte("bad")},
		}}
		if err := idx.Apply(t.Context(), b); !errors.Is(err, index.ErrInvalidOp) {
			t.Errorf("Apply of a batch with an op of kind %d: err = %v, want ErrInvalidOp", kind, err)
		}
		wantMissing(t, idx, "new")
		wantMissing(t, idx, "bad")
		wantGet(t, idx, "old", "1")
	}
}

func testBatchReuse(t *testing.T, idx index.Index) {
	var b index.Batch
	apply(t, idx, &b) // the zero Batch is empty and valid
	b.Set([]byte("a"), []byte("1"))
	apply(t, idx, &b)
	b.Reset()
	if b.Len() != 0 {
		t.Fatalf("Len after Reset = %d", b.Len())
	}
	b.Set([]byte("b"), []byte("2"))
	apply(t, idx, &b)
	want := []kv{{"a", "1"}, {"b", "2"}}
	if got := scan(t, idx, nil, nil); !slices.Equal(got, want) {
		t.Errorf("scan = %q, want %q", got, want)
	}
}

// testBatchAtomicVisibility has one writer set every key of a group to the
// same counter in each batch while readers check, through snapshots,
// iterators and single Gets, that they never see two counters at once and
// never see the counter go back.
func testBatchAtomicVisibility(t *testing.T, idx index.Index) {
	const keys, rounds, readers = 16, 60, 3
	write := func(round uint64) {
		var b index.Batch
		v := index.AppendUint64(nil, round)
		for k := range keys {
			b.Set(fmt.Appendf(nil, "k%02d", k), v)
		}
		// Deleting and setting keys in the same batch must be atomic too.
		if round%2 == 0 {
			b.Delete([]byte("odd"))
			b.Set([]byte("even"), v)
		} else {
			b.Delete([]byte("even"))
			b.Set([]byte("odd"), v)
		}
		apply(t, idx, &b)
	}
	write(0)

	ctx := t.Context()
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range readers {
		wg.Go(func() {
			var last uint64
			see := func(how string, vals [][]byte) bool {
				if len(vals) != keys+1 {
					t.Errorf("%s: saw %d keys, want %d", how, len(vals), keys+1)
					return false
				}
				for _, v := range vals {
					if !bytes.Equal(v, vals[0]) {
						t.Errorf("%s: saw a partial batch: %x", how, vals)
						return false
					}
				}
				n, _, err := index.DecodeUint64(vals[0])
				if err != nil {
					t.Errorf("%s: %v", how, err)
					return false
				}
				if n < last {
					t.Errorf("%s: saw round %d after round %d", how, n, last)
					return false
				}
				last = n
				return true
			}
			for {
				select {
				case <-done:
					return
				default:
				}
				// An iterator on the index.
				it, err := idx.NewIter(ctx, nil, nil)
				if err != nil {
					t.Errorf("NewIter: %v", err)
					return
				}
				vals := collectValues(t, it)
				if !see("iterator", vals) {
					return
				}
				// Gets in a snapshot, then an iterator on it.
				snap, err := idx.Snapshot(ctx)
				if err != nil {
					t.Errorf("Snapshot: %v", err)
					return
				}
				var gets [][]byte
				for k := keys - 1; k >= 0; k-- {
					v, err := snap.Get(ctx, fmt.Appendf(nil, "k%02d", k))
					if err != nil {
						t.Errorf("snapshot Get: %v", err)
					}
					gets = append(gets, v)
				}
				for _, k := range []string{"even", "odd"} {
					if v, err := snap.Get(ctx, []byte(k)); err == nil {
						gets = append(gets, v)
					} else if !errors.Is(err, index.ErrNotFound) {
						t.Errorf("snapshot Get: %v", err)
					}
				}
				if !see("snapshot Get", gets) {
					snap.Close()
					return
				}
				it, err = snap.NewIter(ctx, nil, nil)
				if err != nil {
					t.Errorf("snapshot NewIter: %v", err)
					snap.Close()
					return
				}
				vals = collectValues(t, it)
				if err := snap.Close(); err != nil {
					t.Errorf("snapshot Close: %v", err)
				}
				if !see("snapshot iterator", vals) {
					return
				}
				// Plain Gets, last key first: the first key, read later,
				// may only be newer.
				vz, err1 := idx.Get(ctx, []byte(fmt.Sprintf("k%02d", keys-1)))
				va, err2 := idx.Get(ctx, []byte("k00"))
				if err1 != nil || err2 != nil {
					t.Errorf("Get: %v, %v", err1, err2)
					return
				}
				if bytes.Compare(va, vz) < 0 {
					t.Errorf("Get of k00 saw round %x after k%02d saw round %x", va, keys-1, vz)
					return
				}
			}
		})
	}
	for r := uint64(1); r <= rounds; r++ {
		write(r)
	}
	close(done)
	wg.Wait()
}

func collectValues(t *testing.T, it index.Iterator) [][]byte {
	t.Helper()
	var vals [][]byte
	for ok := it.First(); ok; ok = it.Next() {
		vals = append(vals, bytes.Clone(it.Value()))
	}
	if err := it.Error(); err != nil {
		t.Errorf("iterator Error: %v", err)
	}
	if err := it.Close(); err != nil {
		t.Errorf("iterator Close: %v", err)
	}
	return vals
}

var boundKeys = []string{"a", "b", "b\x00", "ba", "bb", "c", "d\x00", "d\xff", "e"}

func testIterBounds(t *testing.T, idx index.Index) {
	m := model{}
	var b index.Batch
	for i, k := range boundKeys {
		v := fmt.Appendf(nil, "v%d", i)
		b.Set([]byte(k), v)
		m.set([]byte(k), v)
	}
	apply(t, idx, &b)
	bounds := [][]byte{nil, {}, []byte("\x00"), []byte("a"), []byte("a\x00"), []byte("b"), []byte("b\x00"),
		[]byte("b\x00\x00"), []byte("bb"), []byte("c"), []byte("d"), []byte("d\xff"), []byte("e"), []byte("z"), []byte("\xff")}
	for _, lower := range bounds {
		for _, upper := range bounds {
			got := scan(t, idx, lower, upper)
			want := m.scan(lower, upper)
			if !slices.Equal(got, want) {
				t.Errorf("scan [%s, %s) = %q, want %q", fmtBound(lower), fmtBound(upper), got, want)
			}
		}
	}
}

func fmtBound(b []byte) string {
	if b == nil {
		return "nil"
	}
	return fmt.Sprintf("%q", b)
}

func testIterStates(t *testing.T, idx index.Index) {
	ctx := t.Context()
	// An iterator over an empty range.
	it, err := idx.NewIter(ctx, nil, nil)
	if err != nil {
		t.Fatalf("NewIter: %v", err)
	}
	if it.Valid() {
		t.Errorf("new iterator is Valid")
	}
	if it.First() || it.Valid() || it.Next() || it.SeekGE([]byte("a")) {
		t.Errorf("iterator over an empty index found a key")
	}
	if err := it.Error(); err != nil {
		t.Errorf("Error on an empty iterator: %v", err)
	}
	if err := it.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}

	setKV(t, idx, "a", "1", "b", "2")
	it, err = idx.NewIter(ctx, nil, nil)
	if err != nil {
		t.Fatalf("NewIter: %v", err)
	}
	defer it.Close()
	if it.Valid() {
		t.Errorf("new iterator is Valid before positioning")
	}
	if !it.First() || !it.Valid() || string(it.Key()) != "a" || string(it.Value()) != "1" {
		t.Fatalf("First: at %q=%q, valid %v", it.Key(), it.Value(), it.Valid())
	}
	if !it.Next() || string(it.Key()) != "b" || string(it.Value()) != "2" {
		t.Fatalf("Next: at %q=%q, valid %v", it.Key(), it.Value(), it.Valid())
	}
	for range 3 {
		if it.Next() || it.Valid() {
			t.Fatalf("Next past the end reports a key %q", it.Key())
		}
	}
	if err := it.Error(); err != nil {
		t.Errorf("Error at the end: %v", err)
	}
	// An exhausted iterator can be positioned again.
	if !it.First() || string(it.Key()) != "a" {
		t.Fatalf("First after the end: at %q, valid %v", it.Key(), it.Valid())
	}
}

func testIterSeekGE(t *testing.T, idx index.Index) {
	ctx := t.Context()
	for _, k := range boundKeys {
		setKV(t, idx, k, "v:"+k)
	}
	cases := []struct {
		lower, upper []byte
		seek         string
		want         []string // keys from the seek on; nil: not valid
	}{
		{nil, nil, "", boundKeys},
		{nil, nil, "b", boundKeys[1:]},
		{nil, nil, "b\x00", boundKeys[2:]},
		{nil, nil, "b\x00\x00", boundKeys[3:]},
		{nil, nil, "bc", boundKeys[5:]},
		{nil, nil, "d\xff", boundKeys[7:]},
		{nil, nil, "d\xff\x00", boundKeys[8:]},
		{nil, nil, "e", boundKeys[8:]},
		{nil, nil, "e\x00", nil},
		{nil, nil, "\xff", nil},
		{[]byte("b"), []byte("d"), "a", []string{"b", "b\x00", "ba", "bb", "c"}}, // below lower: as First
		{[]byte("b"), []byte("d"), "", []string{"b", "b\x00", "ba", "bb", "c"}},
		{[]byte("b"), []byte("d"), "bb", []string{"bb", "c"}},
		{[]byte("b"), []byte("d"), "c\x00", nil},
		{[]byte("b"), []byte("d"), "d", nil},
		{[]byte("b"), []byte("d"), "z", nil},
		{[]byte("b"), []byte("d\xff"), "d", []string{"d\x00"}},
	}
	for _, c := range cases {
		it, err := idx.NewIter(ctx, c.lower, c.upper)
		if err != nil {
			t.Fatalf("NewIter: %v", err)
		}
		var got []string
		for ok := it.SeekGE([]byte(c.seek)); ok; ok = it.Next() {
			got = append(got, string(it.Key()))
			if want := "v:" + string(it.Key()); string(it.Value()) != want {
				t.Errorf("value of %q = %q, want %q", it.Key(), it.Value(), want)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("[%s, %s) SeekGE(%q) then Next: %q, want %q", fmtBound(c.lower), fmtBound(c.upper), c.seek, got, c.want)
		}
		// Seeking backwards after the end works.
		if len(c.want) > 0 {
			if !it.SeekGE([]byte(c.seek)) || string(it.Key()) != c.want[0] {
				t.Errorf("second SeekGE(%q): at %q, valid %v; want %q", c.seek, it.Key(), it.Valid(), c.want[0])
			}
		}
		if err := it.Error(); err != nil {
			t.Errorf("Error: %v", err)
		}
		if err := it.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
}

func testIterIsolation(t *testing.T, idx index.Index) {
	setKV(t, idx, "a", "1", "b", "1")
	it, err := idx.NewIter(t.Context(), nil, nil)
	if err != nil {
		t.Fatalf("NewIter: %v", err)
	}
	setKV(t, idx, "a", "2", "c", "2")
	deleteKeys(t, idx, "b")
	var got []kv
	for ok := it.First(); ok; ok = it.Next() {
		got = append(got, kv{string(it.Key()), string(it.Value())})
	}
	if err := it.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if want := []kv{{"a", "1"}, {"b", "1"}}; !slices.Equal(got, want) {
		t.Errorf("iterator made before writes saw %q, want %q", got, want)
	}
	if got, want := scan(t, idx, nil, nil), []kv{{"a", "2"}, {"c", "2"}}; !slices.Equal(got, want) {
		t.Errorf("new iterator saw %q, want %q", got, want)
	}
}

func testBytewiseOrder(t *testing.T, idx index.Index) {
	alphabet := []byte{0x00, 0x01, 'a', 0x7f, 0x80, 0xfe, 0xff}
	m := model{}
	var b index.Batch
	// Every string of length 1 to 3 over the alphabet.
	var gen func(prefix []byte)
	gen = func(prefix []byte) {
		if len(prefix) > 0 {
			b.Set(prefix, prefix)
			m.set(prefix, prefix)
		}
		if len(prefix) == 3 {
			return
		}
		for _, c := range alphabet {
			gen(append(slices.Clip(prefix), c))
		}
	}
	gen(nil)
	apply(t, idx, &b)
	got := scan(t, idx, nil, nil)
	want := m.scan(nil, nil)
	if len(got) != len(want) {
		t.Fatalf("scan found %d keys, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("key %d of the scan is %q, want %q", i, got[i], want[i])
		}
	}
}

func testSnapshotIsolation(t *testing.T, idx index.Index) {
	ctx := t.Context()
	setKV(t, idx, "a", "1", "b", "1")
	snap, err := idx.Snapshot(ctx)
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	defer snap.Close()
	setKV(t, idx, "a", "2", "c", "2")
	deleteKeys(t, idx, "b")

	wantGet(t, snap, "a", "1")
	wantGet(t, snap, "b", "1")
	wantMissing(t, snap, "c")
	if got, want := scan(t, snap, nil, nil), []kv{{"a", "1"}, {"b", "1"}}; !slices.Equal(got, want) {
		t.Errorf("snapshot scan = %q, want %q", got, want)
	}
	if got, want := scan(t, snap, []byte("b"), nil), []kv{{"b", "1"}}; !slices.Equal(got, want) {
		t.Errorf("snapshot scan from b = %q, want %q", got, want)
	}
	wantGet(t, idx, "a", "2")
	wantMissing(t, idx, "b")
	wantGet(t, idx, "c", "2")

	snap2, err := idx.Snapshot(ctx)
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	if got, want := scan(t, snap2, nil, nil), []kv{{"a", "2"}, {"c", "2"}}; !slices.Equal(got, want) {
		t.Errorf("second snapshot scan = %q, want %q", got, want)
	}
	if err := snap2.Close(); err != nil {
		t.Errorf("snapshot Close: %v", err)
	}
	// The first snapshot is unaffected by closing the second.
	wantGet(t, snap, "b", "1")
	if err := snap.Close(); err != nil {
		t.Errorf("snapshot Close: %v", err)
	}
}

func testConcurrentApply(t *testing.T, idx index.Index) {
	const writers, batches = 8, 20
	ctx := t.Context()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range batches {
				var b index.Batch
				b.Set(fmt.Appendf(nil, "w%d/%03d/a", w, i), []byte("a"))
				b.Set(fmt.Appendf(nil, "w%d/%03d/b", w, i), []byte("b"))
				b.Set([]byte("shared"), fmt.Appendf(nil, "w%d", w))
				if i > 0 {
					b.Delete(fmt.Appendf(nil, "w%d/%03d/b", w, i-1))
				}
				if err := idx.Apply(ctx, &b); err != nil {
					t.Errorf("Apply: %v", err)
					return
				}
				// Read-after-write.
				if v, err := idx.Get(ctx, fmt.Appendf(nil, "w%d/%03d/a", w, i)); err != nil || string(v) != "a" {
					t.Errorf("Get after Apply = %q, %v", v, err)
					return
				}
			}
		})
	}
	wg.Wait()
	m := model{}
	for w := range writers {
		for i := range batches {
			m.set(fmt.Appendf(nil, "w%d/%03d/a", w, i), []byte("a"))
		}
		m.set(fmt.Appendf(nil, "w%d/%03d/b", w, batches-1), []byte("b"))
	}
	v, err := idx.Get(ctx, []byte("shared"))
	if err != nil || len(v) != 2 || v[0] != 'w' {
		t.Fatalf("Get(shared) = %q, %v", v, err)
	}
	m.set([]byte("shared"), v)
	checkModel(t, idx, m)
}

func testNoAliasing(t *testing.T, idx index.Index) {
	ctx := t.Context()

	// Batch.Set copies its arguments.
	key, val := []byte("key1"), []byte("val1")
	var b index.Batch
	b.Set(key, val)
	key[3], val[3] = '9', '9'
	apply(t, idx, &b)
	wantGet(t, idx, "key1", "val1")
	wantMissing(t, idx, "key9")

	// Apply copies from Ops filled in directly.
	key, val = []byte("key2"), []byte("val2")
	b = index.Batch{Ops: []index.Op{{Kind: index.OpSet, Key: key, Value: val}}}
	apply(t, idx, &b)
	key[3], val[3] = '8', '8'
	wantGet(t, idx, "key2", "val2")
	wantMissing(t, idx, "key8")

	// A value returned by Get belongs to the caller.
	got, err := idx.Get(ctx, []byte("key2"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		got[i] = 'X'
	}
	wantGet(t, idx, "key2", "val2")
	snap, err := idx.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	got, err = snap.Get(ctx, []byte("key2"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		got[i] = 'X'
	}
	wantGet(t, snap, "key2", "val2")
	wantGet(t, idx, "key2", "val2")

	// The key passed to Get may be reused at once.
	key = []byte("key1")
	if v, err := idx.Get(ctx, key); err != nil || string(v) != "val1" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	key[0] = 'X'
	wantGet(t, idx, "key1", "val1")

	// Bounds passed to NewIter may be reused at once.
	setKV(t, idx, "a", "1", "b", "2", "c", "3", "d", "4")
	lower, upper := []byte("b"), []byte("d")
	it, err := idx.NewIter(ctx, lower, upper)
	if err != nil {
		t.Fatal(err)
	}
	lower[0], upper[0] = 'a', 'z'
	var keys []string
	for ok := it.First(); ok; ok = it.Next() {
		keys = append(keys, string(it.Key()))
	}
	if want := []string{"b", "c"}; !slices.Equal(keys, want) {
		t.Errorf("iterator whose bound slices were reused saw %q, want %q", keys, want)
	}

	// The key passed to SeekGE may be reused at once.
	seek := []byte("b")
	if !it.SeekGE(seek) {
		t.Fatalf("SeekGE(b) found nothing")
	}
	seek[0] = 'a'
	if string(it.Key()) != "b" || !it.Next() || string(it.Key()) != "c" || it.Next() {
		t.Errorf("iterator whose seek key was reused went wrong")
	}
	if err := it.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func testClosed(t *testing.T, idx index.Index) {
	ctx := t.Context()
	setKV(t, idx, "a", "1")
	if err := idx.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := idx.Get(ctx, []byte("a")); !errors.Is(err, index.ErrClosed) {
		t.Errorf("Get after Close: err = %v, want ErrClosed", err)
	}
	var b index.Batch
	b.Set([]byte("b"), []byte("2"))
	if err := idx.Apply(ctx, &b); !errors.Is(err, index.ErrClosed) {
		t.Errorf("Apply after Close: err = %v, want ErrClosed", err)
	}
	if it, err := idx.NewIter(ctx, nil, nil); !errors.Is(err, index.ErrClosed) {
		t.Errorf("NewIter after Close: err = %v, want ErrClosed", err)
		if it != nil {
			it.Close()
		}
	}
	if s, err := idx.Snapshot(ctx); !errors.Is(err, index.ErrClosed) {
		t.Errorf("Snapshot after Close: err = %v, want ErrClosed", err)
		if s != nil {
			s.Close()
		}
	}
	if err := idx.Close(); !errors.Is(err, index.ErrClosed) {
		t.Errorf("second Close: err = %v, want ErrClosed", err)
	}
}

// wantIterClosed checks that it behaves as a closed iterator.
func wantIterClosed(t *testing.T, what string, it index.Iterator) {
	t.Helper()
	if it.First() || it.SeekGE([]byte("a")) || it.Next() || it.Valid() {
		t.Errorf("%s: positions at a key after close", what)
	}
	if it.Key() != nil || it.Value() != nil {
		t.Errorf("%s: Key, Value = %q, %q after close; want nil", what, it.Key(), it.Value())
	}
	if err := it.Error(); !errors.Is(err, index.ErrClosed) {
		t.Errorf("%s: Error = %v after close, want ErrClosed", what, err)
	}
	if err := it.Close(); !errors.Is(err, index.ErrClosed) {
		t.Errorf("%s: Close = %v after close, want ErrClosed", what, err)
	}
}

func testClosedWithOpenReaders(t *testing.T, idx index.Index) {
	ctx := t.Context()
	setKV(t, idx, "a", "1", "b", "2")
	it, err := idx.NewIter(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !it.First() {
		t.Fatal("First found nothing")
	}
	snap, err := idx.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sit, err := snap.NewIter(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !sit.First() {
		t.Fatal("First found nothing")
	}
	if err := idx.Close(); err != nil {
		t.Fatalf("Close with an iterator and a snapshot open: %v", err)
	}
	wantIterClosed(t, "index iterator", it)
	wantIterClosed(t, "snapshot iterator", sit)
	if _, err := snap.Get(ctx, []byte("a")); !errors.Is(err, index.ErrClosed) {
		t.Errorf("snapshot Get after index Close: err = %v, want ErrClosed", err)
	}
	if it, err := snap.NewIter(ctx, nil, nil); !errors.Is(err, index.ErrClosed) {
		t.Errorf("snapshot NewIter after index Close: err = %v, want ErrClosed", err)
		if it != nil {
			it.Close()
		}
	}
	if err := snap.Close(); !errors.Is(err, index.ErrClosed) {
		t.Errorf("snapshot Close after index Close: err = %v, want ErrClosed", err)
	}
}

func testSnapshotCloseClosesIters(t *testing.T, idx index.Index) {
	ctx := t.Context()
	setKV(t, idx, "a", "1")
	snap, err := idx.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	it, err := snap.NewIter(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !it.First() {
		t.Fatal("First found nothing")
	}
	if err := snap.Close(); err != nil {
		t.Fatalf("snapshot Close: %v", err)
	}
	wantIterClosed(t, "iterator of a closed snapshot", it)
	if _, err := snap.Get(ctx, []byte("a")); !errors.Is(err, index.ErrClosed) {
		t.Errorf("Get on a closed snapshot: err = %v, want ErrClosed", err)
	}
	if err := snap.Close(); !errors.Is(err, index.ErrClosed) {
		t.Errorf("second snapshot Close: err = %v, want ErrClosed", err)
	}
	// The index is unaffected.
	wantGet(t, idx, "a", "1")
}

func testIterUseAfterClose(t *testing.T, idx index.Index) {
	setKV(t, idx, "a", "1")
	it, err := idx.NewIter(t.Context(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !it.First() {
		t.Fatal("First found nothing")
	}
	if err := it.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wantIterClosed(t, "closed iterator", it)
}

func testContextCancelled(t *testing.T, idx index.Index) {
	setKV(t, idx, "a", "1")
	ctx, cancel := context.WithCancel(t.Context())
	snap, err := idx.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	cancel()

	if _, err := idx.Get(ctx, []byte("a")); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with a cancelled context: err = %v, want context.Canceled", err)
	}
	var b index.Batch
	b.Set([]byte("b"), []byte("2"))
	if err := idx.Apply(ctx, &b); !errors.Is(err, context.Canceled) {
		t.Errorf("Apply with a cancelled context: err = %v, want context.Canceled", err)
	}
	wantMissing(t, idx, "b")
	if it, err := idx.NewIter(ctx, nil, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("NewIter with a cancelled context: err = %v, want context.Canceled", err)
		if it != nil {
			it.Close()
		}
	}
	if s, err := idx.Snapshot(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Snapshot with a cancelled context: err = %v, want context.Canceled", err)
		if s != nil {
			s.Close()
		}
	}
	if _, err := snap.Get(ctx, []byte("a")); !errors.Is(err, context.Canceled) {
		t.Errorf("snapshot Get with a cancelled context: err = %v, want context.Canceled", err)
	}
	if it, err := snap.NewIter(ctx, nil, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("snapshot NewIter with a cancelled context: err = %v, want context.Canceled", err)
		if it != nil {
			it.Close()
		}
	}
	// The index still works with a live context.
	wantGet(t, idx, "a", "1")
	wantGet(t, snap, "a", "1")
}

func testIterContextCancelled(t *testing.T, idx index.Index) {
	const n = 5000
	var b index.Batch
	for i := range n {
		b.Set(fmt.Appendf(nil, "%05d", i), nil)
	}
	apply(t, idx, &b)

	// Cancelled before the first seek.
	ctx, cancel := context.WithCancel(t.Context())
	it, err := idx.NewIter(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if it.First() {
		t.Errorf("First with a cancelled context found %q", it.Key())
	}
	if err := it.Error(); !errors.Is(err, context.Canceled) {
		t.Errorf("Error after First with a cancelled context = %v, want context.Canceled", err)
	}
	if err := it.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}

	// Cancelled while walking.
	ctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	it, err = idx.NewIter(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for ok := it.First(); ok; ok = it.Next() {
		if seen++; seen == 10 {
			cancel()
		}
	}
	if seen == n {
		t.Errorf("iterator walked all %d keys after its context was cancelled at key 10", n)
	}
	if err := it.Error(); !errors.Is(err, context.Canceled) {
		t.Errorf("Error after cancelling while walking = %v, want context.Canceled", err)
	}
	if err := it.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// testRandomAgainstModel applies random batches over a small key space and
// compares Gets and range scans with a map.
func testRandomAgainstModel(t *testing.T, idx index.Index) {
	ctx := t.Context()
	rng := newRand()
	keySpace := make([][]byte, 48)
	for i := range keySpace {
		k := make([]byte, 1+rng.IntN(4))
		for j := range k {
			k[j] = []byte{0x00, 0x01, 'm', 0xfe, 0xff}[rng.IntN(5)]
		}
		keySpace[i] = k
	}
	m := model{}
	for round := range 60 {
		var b index.Batch
		for range 1 + rng.IntN(12) {
			k := keySpace[rng.IntN(len(keySpace))]
			if rng.IntN(3) == 0 {
				b.Delete(k)
				m.del(k)
			} else {
				v := fmt.Appendf(nil, "%d.%d", round, rng.IntN(1000))
				b.Set(k, v)
				m.set(k, v)
			}
		}
		apply(t, idx, &b)
		for range 4 {
			k := keySpace[rng.IntN(len(keySpace))]
			v, err := idx.Get(ctx, k)
			want, ok := m[string(k)]
			switch {
			case !ok && !errors.Is(err, index.ErrNotFound):
				t.Fatalf("round %d: Get(%q) = %q, %v; want ErrNotFound", round, k, v, err)
			case ok && (err != nil || string(v) != want):
				t.Fatalf("round %d: Get(%q) = %q, %v; want %q", round, k, v, err, want)
			}
			lower, upper := keySpace[rng.IntN(len(keySpace))], keySpace[rng.IntN(len(keySpace))]
			if rng.IntN(4) == 0 {
				lower = nil
			}
			if rng.IntN(4) == 0 {
				upper = nil
			}
			if got, want := scan(t, idx, lower, upper), m.scan(lower, upper); !slices.Equal(got, want) {
				t.Fatalf("round %d: scan [%s, %s) = %q, want %q", round, fmtBound(lower), fmtBound(upper), got, want)
			}
		}
	}
	checkModel(t, idx, m)
}

// model is the reference: key → value.
type model map[string]string

func (m model) set(k, v []byte) { m[string(k)] = string(v) }
func (m model) del(k []byte)    { delete(m, string(k)) }

func (m model) scan(lower, upper []byte) []kv {
	var out []kv
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if (lower == nil || k >= string(lower)) && (upper == nil || k < string(upper)) {
			out = append(out, kv{k, m[k]})
		}
	}
	return out
}

type kv struct{ k, v string }

// checkModel checks r against m by a full scan and a Get of every key.
func checkModel(t *testing.T, r index.Reader, m model) {
	t.Helper()
	got, want := scan(t, r, nil, nil), m.scan(nil, nil)
	if !slices.Equal(got, want) {
		t.Fatalf("scan found %d keys, want %d; first difference: %s", len(got), len(want), firstDiff(got, want))
	}
	for k, v := range m {
		wantGet(t, r, k, v)
	}
}

func firstDiff(got, want []kv) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("at %d got %q, want %q", i, got[i], want[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(got), len(want))
}

// scan returns the pairs in [lower, upper), copied.
func scan(t *testing.T, r index.Reader, lower, upper []byte) []kv {
	t.Helper()
	it, err := r.NewIter(t.Context(), lower, upper)
	if err != nil {
		t.Fatalf("NewIter: %v", err)
	}
	var out []kv
	for ok := it.First(); ok; ok = it.Next() {
		if !it.Valid() {
			t.Fatalf("positioning returned true but Valid is false")
		}
		out = append(out, kv{string(it.Key()), string(it.Value())})
	}
	if err := it.Error(); err != nil {
		t.Fatalf("iterator Error: %v", err)
	}
	if err := it.Close(); err != nil {
		t.Fatalf("iterator Close: %v", err)
	}
	return out
}

func apply(t *testing.T, idx index.Index, b *index.Batch) {
	t.Helper()
	if err := idx.Apply(t.Context(), b); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

// setKV applies one batch setting key, value pairs.
func setKV(t *testing.T, idx index.Index, kvs ...string) {
	t.Helper()
	var b index.Batch
	for i := 0; i+1 < len(kvs); i += 2 {
		b.Set([]byte(kvs[i]), []byte(kvs[i+1]))
	}
	apply(t, idx, &b)
}

func deleteKeys(t *testing.T, idx index.Index, keys ...string) {
	t.Helper()
	var b index.Batch
	for _, k := range keys {
		b.Delete([]byte(k))
	}
	apply(t, idx, &b)
}

func wantGet(t *testing.T, r index.Reader, key, want string) {
	t.Helper()
	v, err := r.Get(t.Context(), []byte(key))
	if err != nil || string(v) != want {
		t.Fatalf("Get(%q) = %q, %v; want %q", key, v, err, want)
	}
}

func wantMissing(t *testing.T, r index.Reader, key string) {
	t.Helper()
	v, err := r.Get(t.Context(), []byte(key))
	if !errors.Is(err, index.ErrNotFound) {
		t.Fatalf("Get(%q) = %q, %v; want ErrNotFound", key, v, err)
	}
}

func closeIndex(t *testing.T, idx index.Index) {
	t.Helper()
	if err := idx.Close(); err != nil && !errors.Is(err, index.ErrClosed) {
		t.Errorf("Close: %v", err)
	}
}

// newRand returns a generator with a fixed seed, so that failures repeat.
func newRand() *rand.Rand {
	return rand.New(rand.NewPCG(1, 0x5eed))
}
