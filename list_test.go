package cellar_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/cellarhq/cellar"
)

// modelList is the plain listing: every key, sorted, grouped by delimiter.
func modelList(keys []string, o cellar.ListOptions) (objs, prefixes []string) {
	sorted := append([]string(nil), keys...)
	sort.Strings(sorted)
	seen := map[string]bool{}
	for _, k := range sorted {
		if !strings.HasPrefix(k, o.Prefix) || k <= o.StartAfter {
			continue
		}
		if o.Delimiter != "" {
			if i := strings.Index(k[len(o.Prefix):], o.Delimiter); i >= 0 {
				cp := k[:len(o.Prefix)+i+len(o.Delimiter)]
				if !seen[cp] {
					seen[cp] = true
					prefixes = append(prefixes, cp)
					objs = append(objs, "\x00cp:"+cp)
				}
				continue
			}
		}
		objs = append(objs, k)
	}
	return objs, prefixes
}

// walk lists every page and returns keys and common prefixes in the order
// the pages gave them, interleaved as the model does.
func walk(t *testing.T, b *cellar.Bucket, o cellar.ListOptions) []string {
	t.Helper()
	var out []string
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatal("listing does not end")
		}
		page, err := b.List(context.Background(), &o)
		if err != nil {
			t.Fatal(err)
		}
		max := o.MaxKeys
		if max == 0 {
			max = 1000
		}
		if n := len(page.Objects) + len(page.CommonPrefixes); n > max || (page.IsTruncated && n != max) {
			t.Fatalf("page of %d entries for MaxKeys %d, truncated %v", n, o.MaxKeys, page.IsTruncated)
		}
		// Merge the page's objects and prefixes in key order.
		var entries []string
		for _, obj := range page.Objects {
			entries = append(entries, obj.Key)
		}
		for _, cp := range page.CommonPrefixes {
			entries = append(entries, "\x00cp:"+cp)
		}
		sort.Slice(entries, func(i, j int) bool {
			return strings.TrimPrefix(entries[i], "\x00cp:") < strings.TrimPrefix(entries[j], "\x00cp:")
		})
		out = append(out, entries...)
		if !page.IsTruncated {
			return out
		}
		o.ContinuationToken = page.NextContinuationToken
	}
}

func TestListAgainstModel(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "list")
	r := rand.New(rand.NewPCG(5, 6))
	alphabet := []string{"a", "b", "/", "-", "\x00", "é", "z", "//"}
	var keys []string
	seen := map[string]bool{}
	for len(keys) < 300 {
		var sb strings.Builder
		for range 1 + r.IntN(6) {
			sb.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		k := sb.String()
		if seen[k] {
			continue
		}
		seen[k] = true
		keys = append(keys, k)
		if _, err := b.Put(ctx, k, strings.NewReader(k), nil); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 200 {
		o := cellar.ListOptions{MaxKeys: []int{0, 1, 2, 7, 1000}[r.IntN(5)]}
		if r.IntN(2) == 0 {
			o.Prefix = alphabet[r.IntN(len(alphabet))]
		}
		if r.IntN(2) == 0 {
			o.Delimiter = []string{"/", "b", "//", "\x00"}[r.IntN(4)]
		}
		if r.IntN(3) == 0 {
			o.StartAfter = keys[r.IntN(len(keys))]
		}
		want, _ := modelList(keys, o)
		got := walk(t, b, o)
		if !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("case %d %+v:\n got %q\nwant %q", i, o, got, want)
		}
	}
	// The iterator walks everything.
	n := 0
	for info, err := range b.Objects(ctx, &cellar.ListOptions{MaxKeys: 7}) {
		if err != nil {
			t.Fatal(err)
		}
		if info.Size != int64(len(info.Key)) {
			t.Fatalf("%q: size %d", info.Key, info.Size)
		}
		n++
	}
	if n != len(keys) {
		t.Fatalf("Objects yielded %d, want %d", n, len(keys))
	}
}

func TestListBadInput(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "lbad")
	for _, o := range []cellar.ListOptions{{MaxKeys: -1}, {ContinuationToken: "!!"}, {ContinuationToken: "eA"}, {Prefix: strings.Repeat("p", 1025)}} {
		if _, err := b.List(ctx, &o); !errors.Is(err, cellar.ErrInvalidArgument) {
			t.Errorf("%+v: err %v", o, err)
		}
	}
	if _, err := s.Bucket("nobucket").List(ctx, nil); !errors.Is(err, cellar.ErrNoSuchBucket) {
		t.Errorf("missing bucket: %v", err)
	}
	// MaxKeys over the cap lists 1000 and says truncated.
	for i := range 1001 {
		if _, err := b.Put(ctx, fmt.Sprintf("k%04d", i), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	page, err := b.List(ctx, &cellar.ListOptions{MaxKeys: 5000})
	if err != nil || len(page.Objects) != 1000 || !page.IsTruncated {
		t.Fatalf("MaxKeys 5000: %d objects, truncated %v, %v", len(page.Objects), page.IsTruncated, err)
	}
}

// TestListPagesIndependent: a page handed out is the caller's; later
// listings, of objects or versions, do not change it.
func TestListPagesIndependent(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "pages")
	for i := range 5 {
		if _, err := b.Put(ctx, fmt.Sprintf("k%d", i), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	first, err := b.List(ctx, &cellar.ListOptions{MaxKeys: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint(first.Objects)
	if len(first.Objects) != 2 || cap(first.Objects) != 2 {
		t.Fatalf("first page: %d objects in a slice of %d", len(first.Objects), cap(first.Objects))
	}
	for range 3 {
		if _, err := b.List(ctx, &cellar.ListOptions{StartAfter: "k1"}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.ListVersions(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := fmt.Sprint(first.Objects); got != want {
		t.Fatalf("first page changed by later listings:\n%s\nwas\n%s", got, want)
	}
	empty, err := b.List(ctx, &cellar.ListOptions{Prefix: "none"})
	if err != nil || empty.Objects != nil {
		t.Fatalf("empty listing: %#v %v", empty.Objects, err)
	}
}
