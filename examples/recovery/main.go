// Command recovery loses a store's index and one of its zones at once, and
// gets every bucket, version and delete marker back: RebuildIndex makes the
// index again from what the surviving zones hold, and Heal rebuilds the
// lost zone's shards from the others.
//
//	go run ./examples/recovery            # in a fresh temporary directory
//	go run ./examples/recovery -dir data  # in ./data (kept afterwards)
package main

import (
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/cellarhq/cellar"
)

func main() {
	dir := flag.String("dir", "", "store directory (default: a temporary directory, removed afterwards)")
	flag.Parse()
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "cellar-recovery-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	}
	if err := run(context.Background(), os.Stdout, *dir); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, out io.Writer, dir string) error {
	st, err := cellar.Open(ctx, &cellar.Options{Dir: dir})
	if err != nil {
		return err
	}
	if err := fill(ctx, st); err != nil {
		st.Close()
		return err
	}
	before, err := describe(ctx, st)
	if err != nil {
		st.Close()
		return err
	}
	if err := st.Close(); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %d lines of state (buckets, versions, delete markers, tags)\n", strings.Count(before, "\n"))

	// Disaster: the index and a whole zone are gone.
	for _, lost := range []string{"index", "az2"} {
		if err := os.RemoveAll(filepath.Join(dir, lost)); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "deleted %s and %s\n", filepath.Join(dir, "index"), filepath.Join(dir, "az2"))

	rep, err := cellar.RebuildIndex(ctx, &cellar.Options{Dir: dir}, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "rebuilt the index from az1 and az3: %d buckets, %d versions, %d delete markers, %d uploads in progress dropped, %d shards to heal\n",
		rep.Buckets, rep.Versions, rep.DeleteMarkers, rep.UploadsDropped, rep.ShardsMissing)

	st, err = cellar.Open(ctx, &cellar.Options{Dir: dir})
	if err != nil {
		return err
	}
	defer st.Close()
	after, err := describe(ctx, st)
	if err != nil {
		return err
	}
	if after != before {
		return fmt.Errorf("the rebuilt store differs:\n%s\nwant:\n%s", after, before)
	}
	fmt.Fprintln(out, "every bucket, version, delete marker and tag is back, and every version reads back intact")

	hrep, err := st.Heal(ctx)
	if err != nil {
		return err
	}
	crep, err := st.Check(ctx)
	if err != nil {
		return err
	}
	if len(crep.Problems) > 0 || crep.Degraded > 0 || crep.MetaDegraded > 0 {
		return fmt.Errorf("check after heal: %+v", crep)
	}
	fmt.Fprintf(out, "healed %d shards (%d bytes) and %d metadata records into the new az2; Check: %d versions, %d shards, all at full redundancy\n",
		hrep.Healed, hrep.Bytes, hrep.MetaHealed, crep.Versions, crep.Shards)
	return nil
}

// fill writes a little of everything the index holds.
func fill(ctx context.Context, st *cellar.Store) error {
	if err := st.CreateBucket(ctx, "ledger", &cellar.BucketOptions{Versioning: cellar.VersioningEnabled}); err != nil {
		return err
	}
	if err := st.CreateBucket(ctx, "scratch", nil); err != nil {
		return err
	}
	ledger, scratch := st.Bucket("ledger"), st.Bucket("scratch")
	for day := 1; day <= 3; day++ {
		body := strings.Repeat(fmt.Sprintf("balance on day %d\n", day), 20_000*day)
		if _, err := ledger.Put(ctx, "balance.txt", strings.NewReader(body), nil); err != nil {
			return err
		}
	}
	if _, err := ledger.PutObjectTagging(ctx, "balance.txt", map[string]string{"audited": "yes"}, nil); err != nil {
		return err
	}
	if _, err := ledger.Put(ctx, "closed-account.txt", strings.NewReader("closed"), nil); err != nil {
		return err
	}
	if _, err := ledger.Delete(ctx, "closed-account.txt", nil); err != nil { // a delete marker
		return err
	}
	for i := range 5 {
		if _, err := scratch.Put(ctx, fmt.Sprintf("tmp/%d", i), strings.NewReader(strings.Repeat("x", 1000*i)), nil); err != nil {
			return err
		}
	}
	_, err := scratch.Delete(ctx, "tmp/3", nil) // gone for good: it must stay gone
	return err
}

// describe lists everything a client can see, with a hash of each
// version's bytes.
func describe(ctx context.Context, st *cellar.Store) (string, error) {
	var out strings.Builder
	buckets, err := st.ListBuckets(ctx)
	if err != nil {
		return "", err
	}
	for _, bi := range buckets {
		b := st.Bucket(bi.Name)
		v, err := b.Versioning(ctx)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&out, "bucket %s versioning %q\n", bi.Name, v)
		for v, err := range b.Versions(ctx, nil) {
			if err != nil {
				return "", err
			}
			if v.DeleteMarker {
				fmt.Fprintf(&out, "  %s %s delete marker, latest %v\n", v.Key, v.VersionID, v.IsLatest)
				continue
			}
			tags, _, err := b.GetObjectTagging(ctx, v.Key, &cellar.TaggingOptions{VersionID: v.VersionID})
			if err != nil {
				return "", err
			}
			obj, err := b.Get(ctx, v.Key, &cellar.GetOptions{VersionID: v.VersionID})
			if err != nil {
				return "", err
			}
			h := sha256.New()
			_, err = io.Copy(h, obj)
			obj.Close()
			if err != nil {
				return "", err
			}
			fmt.Fprintf(&out, "  %s %s %d bytes etag %s tags %v sha256 %x\n", v.Key, v.VersionID, v.Size, v.ETag, tags, h.Sum(nil))
		}
	}
	return out.String(), nil
}
