package cellar_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cellarhq/cellar"
)

// s3Model is a plain model of S3's versioning semantics: per key, its
// versions newest first.
type s3Model struct {
	state cellar.VersioningState
	keys  map[string][]modelVersion
}

type modelVersion struct {
	id     string
	body   string
	marker bool
}

func (m *s3Model) removeNull(key string) {
	vs := m.keys[key]
	for i, v := range vs {
		if v.id == "null" {
			m.keys[key] = append(vs[:i:i], vs[i+1:]...)
			return
		}
	}
}

func (m *s3Model) push(key string, v modelVersion) {
	m.keys[key] = append([]modelVersion{v}, m.keys[key]...)
}

// TestRandomizedAgainstModel runs thousands of random operations against
// the store and the model and compares every answer.
func TestRandomizedAgainstModel(t *testing.T) {
	ops := 3000
	if testing.Short() {
		ops = 500
	}
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "model")
	m := &s3Model{keys: map[string][]modelVersion{}}
	r := rand.New(rand.NewPCG(11, 12))
	keys := []string{"a", "b", "c", "d/e", "d/f"}
	seen := map[string]bool{}

	for i := range ops {
		key := keys[r.IntN(len(keys))]
		switch op := r.IntN(100); {
		case op < 3:
			state := []cellar.VersioningState{cellar.VersioningEnabled, cellar.VersioningSuspended}[r.IntN(2)]
			if err := b.SetVersioning(ctx, state); err != nil {
				t.Fatal(err)
			}
			m.state = state
		case op < 40:
			body := fmt.Sprintf("op%d", i)
			info, err := b.Put(ctx, key, strings.NewReader(body), nil)
			if err != nil {
				t.Fatalf("op %d put: %v", i, err)
			}
			if m.state == cellar.VersioningEnabled {
				if info.VersionID == "null" || seen[info.VersionID] {
					t.Fatalf("op %d: put in a versioned bucket gave version %q", i, info.VersionID)
				}
				seen[info.VersionID] = true
			} else {
				if info.VersionID != "null" {
					t.Fatalf("op %d: put with versioning %q gave version %q", i, m.state, info.VersionID)
				}
				m.removeNull(key)
			}
			m.push(key, modelVersion{id: info.VersionID, body: body})
		case op < 55:
			res, err := b.Delete(ctx, key, nil)
			if err != nil {
				t.Fatalf("op %d delete: %v", i, err)
			}
			var want cellar.DeleteResult
			switch m.state {
			case cellar.VersioningUnversioned:
				m.removeNull(key)
			case cellar.VersioningSuspended:
				m.removeNull(key)
				m.push(key, modelVersion{id: "null", marker: true})
				want = cellar.DeleteResult{VersionID: "null", DeleteMarker: true}
			case cellar.VersioningEnabled:
				if !res.DeleteMarker || seen[res.VersionID] {
					t.Fatalf("op %d: versioned delete gave %+v", i, res)
				}
				seen[res.VersionID] = true
				m.push(key, modelVersion{id: res.VersionID, marker: true})
				want = res
			}
			if res != want {
				t.Fatalf("op %d: delete %s gave %+v, want %+v", i, key, res, want)
			}
		case op < 70:
			vs := m.keys[key]
			id := "0000000000000001ffffffffffffffff" // well-formed, never issued
			if len(vs) > 0 && r.IntN(4) > 0 {
				id = vs[r.IntN(len(vs))].id
			}
			res, err := b.Delete(ctx, key, &cellar.DeleteOptions{VersionID: id})
			if err != nil {
				t.Fatalf("op %d delete version: %v", i, err)
			}
			want := cellar.DeleteResult{VersionID: id}
			for j, v := range vs {
				if v.id == id {
					want.DeleteMarker = v.marker
					m.keys[key] = append(vs[:j:j], vs[j+1:]...)
					break
				}
			}
			if res != want {
				t.Fatalf("op %d: delete version gave %+v, want %+v", i, res, want)
			}
		case op < 85:
			checkGet(t, b, m, key, "")
		default:
			vs := m.keys[key]
			if len(vs) > 0 {
				checkGet(t, b, m, key, vs[r.IntN(len(vs))].id)
			}
		}
		if i%100 == 99 {
			checkVersions(t, b, m, keys)
		}
	}
	checkVersions(t, b, m, keys)
	assertNoGarbage(t, s)
}

func checkGet(t *testing.T, b *cellar.Bucket, m *s3Model, key, id string) {
	t.Helper()
	vs := m.keys[key]
	obj, err := b.Get(context.Background(), key, &cellar.GetOptions{VersionID: id})
	var want *modelVersion
	if id == "" && len(vs) > 0 {
		want = &vs[0]
	}
	for j := range vs {
		if id != "" && vs[j].id == id {
			want = &vs[j]
		}
	}
	var dm *cellar.DeleteMarkerError
	switch {
	case want == nil:
		if !errors.Is(err, cellar.ErrNoSuchKey) || errors.As(err, &dm) {
			t.Fatalf("get %s: err %v, want plain NoSuchKey", key, err)
		}
	case want.marker:
		var wantErr error = cellar.ErrNoSuchKey
		if id != "" {
			wantErr = cellar.ErrMethodNotAllowed
		}
		if !errors.Is(err, wantErr) || !errors.As(err, &dm) || dm.VersionID != want.id {
			t.Fatalf("get %s %s: err %v, want %v for marker %s", key, id, err, wantErr, want.id)
		}
	default:
		if err != nil {
			t.Fatalf("get %s %s: %v", key, id, err)
		}
		body, err := io.ReadAll(obj)
		obj.Close()
		if err != nil || string(body) != want.body || obj.Info().VersionID != want.id {
			t.Fatalf("get %s %s: %q version %s, want %q version %s", key, id, body, obj.Info().VersionID, want.body, want.id)
		}
	}
}

func checkVersions(t *testing.T, b *cellar.Bucket, m *s3Model, keys []string) {
	t.Helper()
	var want, got []string
	sorted := append([]string(nil), keys...)
	for _, k := range sorted {
		for j, v := range m.keys[k] {
			want = append(want, fmt.Sprintf("%s %s latest=%v marker=%v", k, v.id, j == 0, v.marker))
		}
	}
	for v, err := range b.Versions(context.Background(), &cellar.ListVersionsOptions{MaxKeys: 3}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %s latest=%v marker=%v", v.Key, v.VersionID, v.IsLatest, v.DeleteMarker))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("versions differ:\n got %q\nwant %q", got, want)
	}
	var live []string
	for _, k := range sorted {
		if vs := m.keys[k]; len(vs) > 0 && !vs[0].marker {
			live = append(live, k)
		}
	}
	var listed []string
	for o, err := range b.Objects(context.Background(), &cellar.ListOptions{MaxKeys: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		listed = append(listed, o.Key)
	}
	if strings.Join(listed, ",") != strings.Join(live, ",") {
		t.Fatalf("list: %q, want %q", listed, live)
	}
}
