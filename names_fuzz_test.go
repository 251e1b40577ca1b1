package cellar_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/cellarhq/cellar"
)

// fuzzStore is one in-memory store per fuzzing process, with a bucket
// that every FuzzNames input puts into.
var fuzzStore = sync.OnceValues(func() (*cellar.Store, error) {
	s, err := cellar.OpenMemory(context.Background(), &cellar.Options{SweepInterval: -1, ProbeInterval: -1, ScrubInterval: -1, LifecycleInterval: -1, DeleteGrace: -1})
	if err != nil {
		return nil, err
	}
	return s, s.CreateBucket(context.Background(), "fuzz-names", nil)
})

// bucketNameOK is S3's bucket naming rules, written out again for the
// fuzzer to check ValidBucketName against.
func bucketNameOK(name string) bool {
	if len(name) < 3 || len(name) > 63 || strings.Contains(name, "..") {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
		if !alnum && c != '.' && c != '-' || (i == 0 || i == len(name)-1) && !alnum {
			return false
		}
	}
	return true
}

// FuzzNames sends bucket names, object keys and user metadata through the
// Go API: what the validators accept must work end to end and read back
// as it went in; what they refuse must fail with the matching error and
// leave nothing behind.
func FuzzNames(f *testing.F) {
	f.Add("my-bucket", "photos/2026/cat.jpg", "Color", "black")
	f.Add("a.b-c", "key with spaces & ünïcode", "x-Custom_Name", "tab\there")
	f.Add("192.168.1.1", "\xff\xfe", "bad name", "v")
	f.Add("xn--bucket", strings.Repeat("k", 1025), "n", "\x00")
	f.Add("ab", "", "", "")
	f.Add("bucket--x-s3", "a/../b", "UPPER", strings.Repeat("v", 3000))
	f.Fuzz(func(t *testing.T, bucket, key, mdName, mdValue string) {
		ctx := context.Background()
		s, err := fuzzStore()
		if err != nil {
			t.Fatal(err)
		}
		berr := cellar.ValidBucketName(bucket)
		if berr == nil && !bucketNameOK(bucket) {
			t.Fatalf("ValidBucketName accepted %q", bucket)
		}
		if berr != nil && !errors.Is(berr, cellar.ErrInvalidBucketName) {
			t.Fatalf("ValidBucketName(%q): %v is not ErrInvalidBucketName", bucket, berr)
		}
		err = s.CreateBucket(ctx, bucket, nil)
		switch {
		case berr != nil && !errors.Is(err, cellar.ErrInvalidBucketName):
			t.Fatalf("CreateBucket(%q): %v, want ErrInvalidBucketName", bucket, err)
		case berr == nil && err != nil && !errors.Is(err, cellar.ErrBucketAlreadyExists):
			t.Fatalf("CreateBucket(%q): %v", bucket, err)
		case berr == nil && bucket != "fuzz-names":
			if err := s.DeleteBucket(ctx, bucket); err != nil {
				t.Fatalf("DeleteBucket(%q): %v", bucket, err)
			}
		}

		b := s.Bucket("fuzz-names")
		body := []byte(key)
		md := map[string]string{mdName: mdValue}
		kerr := cellar.ValidKey(key)
		if kerr == nil && (len(key) == 0 || len(key) > cellar.MaxKeyLength || !utf8.ValidString(key)) {
			t.Fatalf("ValidKey accepted %q", key)
		}
		info, err := b.Put(ctx, key, bytes.NewReader(body), &cellar.PutOptions{Metadata: md})
		if kerr != nil {
			if !errors.Is(err, cellar.ErrInvalidKey) {
				t.Fatalf("Put(%q): %v, want ErrInvalidKey", key, err)
			}
			return
		}
		if err != nil {
			if !errors.Is(err, cellar.ErrInvalidMetadata) && !errors.Is(err, cellar.ErrMetadataTooLarge) {
				t.Fatalf("Put(%q) with metadata %q=%q: %v", key, mdName, mdValue, err)
			}
			if _, herr := b.Head(ctx, key, nil); !errors.Is(herr, cellar.ErrNoSuchKey) {
				t.Fatalf("refused Put(%q) left an object: %v", key, herr)
			}
			return
		}
		defer b.Delete(ctx, key, nil)
		got, err := b.Head(ctx, key, nil)
		if err != nil || got.Key != key || got.Size != int64(len(body)) || got.ETag != info.ETag {
			t.Fatalf("Head(%q): %+v %v", key, got, err)
		}
		if v, ok := got.Metadata[strings.ToLower(mdName)]; !ok || v != mdValue || len(got.Metadata) != 1 {
			t.Fatalf("Head(%q) metadata %q, want %q=%q", key, got.Metadata, strings.ToLower(mdName), mdValue)
		}
		page, err := b.List(ctx, &cellar.ListOptions{Prefix: key, MaxKeys: 1})
		if err != nil || len(page.Objects) != 1 || page.Objects[0].Key != key {
			t.Fatalf("List(prefix %q): %+v %v", key, page, err)
		}
		obj, err := b.Get(ctx, key, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer obj.Close()
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(obj); err != nil || !bytes.Equal(buf.Bytes(), body) {
			t.Fatalf("Get(%q): %q %v", key, buf.Bytes(), err)
		}
	})
}
