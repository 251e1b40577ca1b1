package cellar_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"strings"

	"github.com/cellarhq/cellar"
)

func ExampleBucket_Put() {
	ctx := context.Background()
	st, err := cellar.OpenMemory(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	if err := st.CreateBucket(ctx, "notes", nil); err != nil {
		log.Fatal(err)
	}
	info, err := st.Bucket("notes").Put(ctx, "hello.txt", strings.NewReader("hello, cellar"), &cellar.PutOptions{ContentType: "text/plain"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Key, info.Size, info.ETag)
	// Output: hello.txt 13 d5ac9a2b8b48a385ae362807b0966b8e
}

func ExampleBucket_Get() {
	ctx := context.Background()
	st, _ := cellar.OpenMemory(ctx, nil)
	defer st.Close()
	st.CreateBucket(ctx, "notes", nil)
	b := st.Bucket("notes")
	b.Put(ctx, "hello.txt", strings.NewReader("hello, cellar"), nil)

	obj, err := b.Get(ctx, "hello.txt", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer obj.Close()
	obj.Seek(7, io.SeekStart) // an Object is an io.ReadSeeker and an io.ReaderAt
	rest, _ := io.ReadAll(obj)
	fmt.Printf("%s (%d bytes)\n", rest, obj.Info().Size)

	_, err = b.Get(ctx, "missing.txt", nil)
	fmt.Println(errors.Is(err, cellar.ErrNoSuchKey))
	// Output:
	// cellar (13 bytes)
	// true
}

func ExampleBucket_List() {
	ctx := context.Background()
	st, _ := cellar.OpenMemory(ctx, nil)
	defer st.Close()
	st.CreateBucket(ctx, "photos", nil)
	b := st.Bucket("photos")
	for _, k := range []string{"2025/a.jpg", "2026/b.jpg", "2026/c.jpg", "index.html"} {
		b.Put(ctx, k, nil, nil)
	}
	page, err := b.List(ctx, &cellar.ListOptions{Delimiter: "/"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(page.CommonPrefixes)
	for _, o := range page.Objects {
		fmt.Println(o.Key)
	}
	for o, err := range b.Objects(ctx, &cellar.ListOptions{Prefix: "2026/"}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(o.Key)
	}
	// Output:
	// [2025/ 2026/]
	// index.html
	// 2026/b.jpg
	// 2026/c.jpg
}

func ExampleBucket_ListVersions() {
	ctx := context.Background()
	st, _ := cellar.OpenMemory(ctx, nil)
	defer st.Close()
	st.CreateBucket(ctx, "docs", &cellar.BucketOptions{Versioning: cellar.VersioningEnabled})
	b := st.Bucket("docs")
	b.Put(ctx, "report.txt", strings.NewReader("draft"), nil)
	b.Put(ctx, "report.txt", strings.NewReader("final"), nil)
	b.Delete(ctx, "report.txt", nil)

	page, _ := b.ListVersions(ctx, nil)
	for _, v := range page.Versions {
		fmt.Printf("latest=%v marker=%v size=%d\n", v.IsLatest, v.DeleteMarker, v.Size)
	}
	old := page.Versions[2].VersionID
	obj, _ := b.Get(ctx, "report.txt", &cellar.GetOptions{VersionID: old})
	body, _ := io.ReadAll(obj)
	obj.Close()
	fmt.Printf("oldest version: %s\n", body)
	// Output:
	// latest=true marker=true size=0
	// latest=false marker=false size=5
	// latest=false marker=false size=5
	// oldest version: draft
}
