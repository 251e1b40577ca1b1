package cellar_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/cellarhq/cellar"
	"github.com/cellarhq/cellar/backend"
	"github.com/cellarhq/cellar/backend/faulty"
)

// storeConfigs are the configurations every state-machine test runs under:
// the same history must give the same answers in each (metamorphic).
func storeConfigs() map[string]func(t *testing.T) *cellar.Store {
	return map[string]func(t *testing.T) *cellar.Store{
		"memory-rs4-2": func(t *testing.T) *cellar.Store { return newStore(t, nil) },
		"memory-rs6-3": func(t *testing.T) *cellar.Store {
			o := smallOpts()
			o.DataShards, o.ParityShards = 6, 3
			return newStore(t, o)
		},
		"memory-zone-offline": func(t *testing.T) *cellar.Store {
			s, zones := faultyStore(t, nil)
			zones[1].SetOffline(true)
			return s
		},
		"one-zone": func(t *testing.T) *cellar.Store {
			o := smallOpts()
			o.Zones = []backend.Backend{faulty.Wrap(backend.NewMemory())}
			o.AllowWeakPlacement = true
			return newStore(t, o)
		},
		"disk-default": func(t *testing.T) *cellar.Store {
			s, err := cellar.Open(context.Background(), &cellar.Options{Dir: t.TempDir(), SweepInterval: -1, DeleteGrace: -1})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
}

// errName names an error by the sentinel it matches.
func errName(err error, sym func(string) string) string {
	var dm *cellar.DeleteMarkerError
	marker := ""
	if errors.As(err, &dm) {
		marker = " (delete marker " + sym(dm.VersionID) + ")"
	}
	for _, e := range []struct {
		err  error
		name string
	}{
		{cellar.ErrNoSuchKey, "NoSuchKey"},
		{cellar.ErrNoSuchVersion, "NoSuchVersion"},
		{cellar.ErrNoSuchBucket, "NoSuchBucket"},
		{cellar.ErrMethodNotAllowed, "MethodNotAllowed"},
		{cellar.ErrInvalidArgument, "InvalidArgument"},
		{cellar.ErrPreconditionFailed, "PreconditionFailed"},
		{cellar.ErrBucketNotEmpty, "BucketNotEmpty"},
		{cellar.ErrTooManyKeys, "TooManyKeys"},
	} {
		if errors.Is(err, e.err) {
			return "error: " + e.name + marker
		}
	}
	return "error: " + err.Error()
}

// versionSyms gives version IDs short stable names in order of appearance.
type versionSyms struct {
	byID  map[string]string
	bySym map[string]string
}

func (v *versionSyms) sym(id string) string {
	if id == "" || id == "null" {
		return id
	}
	if s, ok := v.byID[id]; ok {
		return s
	}
	s := "v" + strconv.Itoa(len(v.byID)+1)
	v.byID[id], v.bySym[s] = s, id
	return s
}

func (v *versionSyms) id(sym string) string {
	if id, ok := v.bySym[sym]; ok {
		return id
	}
	return sym // "null", or a made-up ID to test bad input
}

func TestVersioningDataDriven(t *testing.T) {
	for name, open := range storeConfigs() {
		t.Run(name, func(t *testing.T) {
			datadriven.Walk(t, "testdata/versioning", func(t *testing.T, path string) {
				s := open(t)
				syms := &versionSyms{byID: map[string]string{}, bySym: map[string]string{}}
				datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
					return runVersioningCmd(t, s, syms, d)
				})
			})
		})
	}
}

func runVersioningCmd(t *testing.T, s *cellar.Store, syms *versionSyms, d *datadriven.TestData) string {
	ctx := context.Background()
	arg := func(key string) string {
		if d.HasArg(key) {
			var v string
			d.ScanArgs(t, key, &v)
			return v
		}
		return ""
	}
	bucket := arg("bucket")
	if bucket == "" {
		bucket = "bkt"
	}
	b := s.Bucket(bucket)
	var out strings.Builder
	switch d.Cmd {
	case "create-bucket":
		opts := &cellar.BucketOptions{Versioning: cellar.VersioningState(arg("versioning"))}
		if err := s.CreateBucket(ctx, bucket, opts); err != nil {
			return errName(err, syms.sym)
		}
		return "ok"
	case "delete-bucket":
		if err := s.DeleteBucket(ctx, bucket); err != nil {
			return errName(err, syms.sym)
		}
		return "ok"
	case "set-versioning":
		if err := b.SetVersioning(ctx, cellar.VersioningState(arg("state"))); err != nil {
			return errName(err, syms.sym)
		}
		return "ok"
	case "put":
		info, err := b.Put(ctx, arg("key"), strings.NewReader(d.Input), nil)
		if err != nil {
			return errName(err, syms.sym)
		}
		return "version " + syms.sym(info.VersionID)
	case "delete":
		res, err := b.Delete(ctx, arg("key"), &cellar.DeleteOptions{VersionID: syms.id(arg("version"))})
		if err != nil {
			return errName(err, syms.sym)
		}
		return fmt.Sprintf("deleted version=%s marker=%v", syms.sym(res.VersionID), res.DeleteMarker)
	case "delete-objects":
		var objs []cellar.ObjectToDelete
		var asked []string
		for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
			key, ver, _ := strings.Cut(line, " ")
			objs = append(objs, cellar.ObjectToDelete{Key: key, VersionID: syms.id(ver)})
			asked = append(asked, ver)
		}
		results, err := b.DeleteObjects(ctx, objs)
		if err != nil {
			return errName(err, syms.sym)
		}
		for i, r := range results {
			if r.Err != nil {
				fmt.Fprintf(&out, "%s %s %s\n", r.Key, asked[i], errName(r.Err, syms.sym))
			} else {
				fmt.Fprintf(&out, "%s deleted version=%s marker=%v\n", r.Key, syms.sym(r.DeleteResult.VersionID), r.DeleteMarker)
			}
		}
		return out.String()
	case "get":
		obj, err := b.Get(ctx, arg("key"), &cellar.GetOptions{VersionID: syms.id(arg("version"))})
		if err != nil {
			return errName(err, syms.sym)
		}
		defer obj.Close()
		body, err := io.ReadAll(obj)
		if err != nil {
			return errName(err, syms.sym)
		}
		info := obj.Info()
		return fmt.Sprintf("%s version=%s latest=%v", body, syms.sym(info.VersionID), info.IsLatest)
	case "head":
		info, err := b.Head(ctx, arg("key"), &cellar.GetOptions{VersionID: syms.id(arg("version"))})
		if err != nil {
			return errName(err, syms.sym)
		}
		return fmt.Sprintf("size=%d version=%s latest=%v", info.Size, syms.sym(info.VersionID), info.IsLatest)
	case "list":
		max, _ := strconv.Atoi(arg("max"))
		page, err := b.List(ctx, &cellar.ListOptions{Prefix: arg("prefix"), Delimiter: arg("delimiter"), MaxKeys: max})
		if err != nil {
			return errName(err, syms.sym)
		}
		for _, o := range page.Objects {
			fmt.Fprintf(&out, "%s size=%d version=%s\n", o.Key, o.Size, syms.sym(o.VersionID))
		}
		for _, p := range page.CommonPrefixes {
			fmt.Fprintf(&out, "prefix %s\n", p)
		}
		if page.IsTruncated {
			out.WriteString("truncated\n")
		}
		return out.String()
	case "list-versions":
		max, _ := strconv.Atoi(arg("max"))
		page, err := b.ListVersions(ctx, &cellar.ListVersionsOptions{
			Prefix: arg("prefix"), Delimiter: arg("delimiter"), MaxKeys: max,
			KeyMarker: arg("key-marker"), VersionIDMarker: syms.id(arg("version-marker")),
		})
		if err != nil {
			return errName(err, syms.sym)
		}
		for _, v := range page.Versions {
			kind := "version"
			if v.DeleteMarker {
				kind = "marker"
			}
			fmt.Fprintf(&out, "%s %s %s latest=%v size=%d\n", kind, v.Key, syms.sym(v.VersionID), v.IsLatest, v.Size)
		}
		for _, p := range page.CommonPrefixes {
			fmt.Fprintf(&out, "prefix %s\n", p)
		}
		if page.IsTruncated {
			fmt.Fprintf(&out, "truncated next-key=%s next-version=%s\n", page.NextKeyMarker, syms.sym(page.NextVersionIDMarker))
		}
		return out.String()
	case "sweep":
		if _, err := s.Sweep(ctx); err != nil {
			return errName(err, syms.sym)
		}
		rep, err := s.Check(ctx)
		if err != nil {
			return errName(err, syms.sym)
		}
		if len(rep.Problems) > 0 {
			return strings.Join(rep.Problems, "\n")
		}
		return fmt.Sprintf("versions=%d", rep.Versions)
	}
	t.Fatalf("unknown command %q", d.Cmd)
	return ""
}
