// Command quickstart opens cellar's embedded default layout in a directory,
// stores and lists a few objects, then destroys one whole availability
// zone and reads every object back intact.
//
//	go run ./examples/quickstart            # in a fresh temporary directory
//	go run ./examples/quickstart -dir data  # in ./data (kept afterwards)
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	"github.com/cellarhq/cellar"
)

func main() {
	dir := flag.String("dir", "", "store directory (default: a temporary directory, removed afterwards)")
	flag.Parse()
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "cellar-quickstart-")
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
	fmt.Fprintf(out, "opened %s: index in %s, zones az1 az2 az3, RS(4,2)\n", dir, filepath.Join(dir, "index"))

	if err := st.CreateBucket(ctx, "photos", nil); err != nil {
		st.Close()
		return err
	}
	bucket := st.Bucket("photos")
	objects := map[string][]byte{
		"2026/cat.jpg":    randomBytes(3 << 20),
		"2026/dog.jpg":    randomBytes(700 << 10),
		"2025/fish.jpg":   randomBytes(123_457),
		"readme.txt":      []byte("hello from cellar\n"),
		"empty-file.dat":  nil,
		"2026/bird.jpg":   randomBytes(5<<20 + 3),
		"2025/lizard.jpg": randomBytes(1 << 20),
	}
	for key, data := range objects {
		info, err := bucket.Put(ctx, key, bytes.NewReader(data), &cellar.PutOptions{ContentType: "image/jpeg"})
		if err != nil {
			st.Close()
			return err
		}
		fmt.Fprintf(out, "put %-16s %8d bytes  etag %s\n", key, info.Size, info.ETag)
	}

	page, err := bucket.List(ctx, &cellar.ListOptions{Delimiter: "/"})
	if err != nil {
		st.Close()
		return err
	}
	fmt.Fprintf(out, "list with delimiter \"/\": prefixes %v, objects", page.CommonPrefixes)
	for _, o := range page.Objects {
		fmt.Fprintf(out, " %s", o.Key)
	}
	fmt.Fprintln(out)
	if err := st.Close(); err != nil {
		return err
	}

	// Take one availability zone away for good: delete its directory.
	lost := filepath.Join(dir, "az2")
	if err := os.RemoveAll(lost); err != nil {
		return err
	}
	fmt.Fprintf(out, "deleted zone %s\n", lost)

	st, err = cellar.Open(ctx, &cellar.Options{Dir: dir})
	if err != nil {
		return err
	}
	defer st.Close()
	bucket = st.Bucket("photos")
	intact := 0
	for info, err := range bucket.Objects(ctx, nil) {
		if err != nil {
			return err
		}
		obj, err := bucket.Get(ctx, info.Key, nil)
		if err != nil {
			return err
		}
		got, err := io.ReadAll(obj)
		obj.Close()
		if err != nil {
			return fmt.Errorf("read %s: %w", info.Key, err)
		}
		if !bytes.Equal(got, objects[info.Key]) {
			return fmt.Errorf("%s: read back different bytes", info.Key)
		}
		intact++
	}
	if intact != len(objects) {
		return fmt.Errorf("listed %d objects, stored %d", intact, len(objects))
	}
	fmt.Fprintf(out, "with one zone gone, all %d objects read back intact\n", intact)
	return nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
