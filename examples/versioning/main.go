// Command versioning shows how a versioned bucket undoes mistakes: it
// overwrites a file by accident and restores the old contents from the
// previous version, then deletes a file and brings it back by removing
// the delete marker.
//
//	go run ./examples/versioning            # in a fresh temporary directory
//	go run ./examples/versioning -dir data  # in ./data (kept afterwards)
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"github.com/cellarhq/cellar"
)

func main() {
	dir := flag.String("dir", "", "store directory (default: a temporary directory, removed afterwards)")
	flag.Parse()
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "cellar-versioning-")
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

const (
	bucketName = "notes"
	todo       = "todo.txt"
	draft      = "draft.txt"
	todoBody   = "buy milk\nwalk the dog\n"
	draftBody  = "Dear diary,\n"
)

func run(ctx context.Context, out io.Writer, dir string) error {
	st, err := cellar.Open(ctx, &cellar.Options{Dir: dir})
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintf(out, "opened store in %s\n", dir)

	if err := st.CreateBucket(ctx, bucketName, &cellar.BucketOptions{Versioning: cellar.VersioningEnabled}); err != nil {
		return err
	}
	b := st.Bucket(bucketName)
	fmt.Fprintf(out, "created bucket %s with versioning Enabled\n", bucketName)

	// 1. Write a file, then overwrite it by mistake.
	good, err := b.Put(ctx, todo, strings.NewReader(todoBody), &cellar.PutOptions{ContentType: "text/plain"})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "put %s: version %s, %d bytes\n", todo, good.VersionID, good.Size)
	bad, err := b.Put(ctx, todo, strings.NewReader("oops\n"), &cellar.PutOptions{ContentType: "text/plain"})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "overwrote %s by mistake: version %s, %d bytes\n", todo, bad.VersionID, bad.Size)
	if err := printVersions(ctx, out, b); err != nil {
		return err
	}

	// 2. Read the older version by its ID, and make it current again by
	// copying it onto the key: a new version with the old contents.
	old, err := read(ctx, b, todo, good.VersionID)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "version %s of %s holds %q\n", good.VersionID, todo, old)
	res, err := b.CopyObject(ctx, todo, bucketName, todo, &cellar.CopyOptions{SourceVersionID: good.VersionID})
	if err != nil {
		return err
	}
	cur, err := read(ctx, b, todo, "")
	if err != nil {
		return err
	}
	if cur != todoBody {
		return fmt.Errorf("restored %s holds %q, want %q", todo, cur, todoBody)
	}
	fmt.Fprintf(out, "restored %s from version %s as new version %s: %q\n", todo, res.SourceVersionID, res.Object.VersionID, cur)

	// 3. Delete a file: in a versioned bucket that adds a delete marker.
	if _, err := b.Put(ctx, draft, strings.NewReader(draftBody), nil); err != nil {
		return err
	}
	del, err := b.Delete(ctx, draft, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "deleted %s: delete marker %s\n", draft, del.VersionID)
	if err := printVersions(ctx, out, b); err != nil {
		return err
	}
	_, err = b.Get(ctx, draft, nil)
	var dm *cellar.DeleteMarkerError
	if !errors.Is(err, cellar.ErrNoSuchKey) || !errors.As(err, &dm) {
		return fmt.Errorf("get of a deleted key: %v, want a delete marker error", err)
	}
	fmt.Fprintf(out, "get %s: ErrNoSuchKey, hidden by delete marker %s\n", draft, dm.VersionID)

	// 4. Undelete: remove the delete marker itself, by its version ID.
	undo, err := b.Delete(ctx, draft, &cellar.DeleteOptions{VersionID: dm.VersionID})
	if err != nil {
		return err
	}
	if !undo.DeleteMarker {
		return fmt.Errorf("deleting version %s removed an object, not a delete marker", dm.VersionID)
	}
	back, err := read(ctx, b, draft, "")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "removed delete marker %s: %s is back: %q\n", undo.VersionID, draft, back)
	return printVersions(ctx, out, b)
}

// read returns the contents of a key, or of one version of it.
func read(ctx context.Context, b *cellar.Bucket, key, versionID string) (string, error) {
	obj, err := b.Get(ctx, key, &cellar.GetOptions{VersionID: versionID})
	if err != nil {
		return "", err
	}
	defer obj.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, obj); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// printVersions lists every version and delete marker, newest first per key.
func printVersions(ctx context.Context, out io.Writer, b *cellar.Bucket) error {
	fmt.Fprintln(out, "versions:")
	for v, err := range b.Versions(ctx, nil) {
		if err != nil {
			return err
		}
		kind := fmt.Sprintf("%d bytes", v.Size)
		if v.DeleteMarker {
			kind = "delete marker"
		}
		latest := ""
		if v.IsLatest {
			latest = " (latest)"
		}
		fmt.Fprintf(out, "  %-10s %s  %s%s\n", v.Key, v.VersionID, kind, latest)
	}
	return nil
}
