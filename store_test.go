package cellar_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/cellarhq/cellar"
	"github.com/cellarhq/cellar/backend"
)

// smallOpts keeps tests fast: small blocks so that several blocks and a
// partial last block are cheap to make.
func smallOpts() *cellar.Options {
	return &cellar.Options{BlockSize: 64 << 10, SweepInterval: -1, DeleteGrace: -1}
}

func newStore(t testing.TB, opts *cellar.Options) *cellar.Store {
	t.Helper()
	if opts == nil {
		opts = smallOpts()
	}
	s, err := cellar.OpenMemory(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newBucket(t testing.TB, s *cellar.Store, name string) *cellar.Bucket {
	t.Helper()
	if err := s.CreateBucket(context.Background(), name, nil); err != nil {
		t.Fatal(err)
	}
	return s.Bucket(name)
}

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func md5hex(b []byte) string {
	h := md5.Sum(b)
	return hex.EncodeToString(h[:])
}

func readAll(t testing.TB, b *cellar.Bucket, key string, opts *cellar.GetOptions) []byte {
	t.Helper()
	obj, err := b.Get(context.Background(), key, opts)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer obj.Close()
	got, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return got
}

func TestPutGetRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "roundtrip")
	const block = 64 << 10
	for _, size := range []int{0, 1, 3, block - 1, block, block + 1, 5*block + 7} {
		data := randBytes(uint64(size), size)
		key := "obj/" + strings.Repeat("x", size%7) + "/k"
		info, err := b.Put(ctx, key, bytes.NewReader(data), &cellar.PutOptions{ContentType: "text/plain", Metadata: map[string]string{"Color": "blue"}})
		if err != nil {
			t.Fatalf("put %d: %v", size, err)
		}
		if info.Size != int64(size) || info.ETag != md5hex(data) || info.VersionID != "null" {
			t.Fatalf("put %d: info %+v", size, info)
		}
		got := readAll(t, b, key, nil)
		if !bytes.Equal(got, data) {
			t.Fatalf("size %d: read back %d bytes, differ", size, len(got))
		}
		h, err := b.Head(ctx, key, nil)
		if err != nil {
			t.Fatal(err)
		}
		if h.ContentType != "text/plain" || h.Metadata["color"] != "blue" || h.ETag != info.ETag || h.StorageClass != "STANDARD" || !h.LastModified.Equal(info.LastModified) {
			t.Fatalf("head: %+v", h)
		}
	}
}

func TestNilBodyAndUnknownSize(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "nil")
	info, err := b.Put(ctx, "empty", nil, nil)
	if err != nil || info.Size != 0 || info.ETag != md5hex(nil) {
		t.Fatalf("nil body: %+v %v", info, err)
	}
	data := randBytes(7, 200_000)
	// A reader that returns one byte at a time still gives the whole body.
	info, err = b.Put(ctx, "slow", iotest.OneByteReader(bytes.NewReader(data)), nil)
	if err != nil || info.Size != int64(len(data)) {
		t.Fatalf("one byte reader: %+v %v", info, err)
	}
	if got := readAll(t, b, "slow", nil); !bytes.Equal(got, data) {
		t.Fatal("one byte reader: bytes differ")
	}
	if info, _ := b.Head(ctx, "slow", nil); info.ContentType != "binary/octet-stream" {
		t.Fatalf("default content type %q", info.ContentType)
	}
}

func TestDeclaredSize(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "sized")
	data := randBytes(1, 100_000)
	if _, err := b.Put(ctx, "k", bytes.NewReader(data), &cellar.PutOptions{Size: int64(len(data))}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		size int64
	}{{"shorter body", int64(len(data)) + 1}, {"longer body", int64(len(data)) - 1}, {"much longer", 10}} {
		_, err := b.Put(ctx, "k", bytes.NewReader(randBytes(2, len(data))), &cellar.PutOptions{Size: tc.size})
		if !errors.Is(err, cellar.ErrIncompleteBody) {
			t.Fatalf("%s: err %v, want ErrIncompleteBody", tc.name, err)
		}
	}
	if _, err := b.Put(ctx, "k", nil, &cellar.PutOptions{Size: -1}); !errors.Is(err, cellar.ErrInvalidArgument) {
		t.Fatalf("negative size: %v", err)
	}
	if _, err := b.Put(ctx, "k", nil, &cellar.PutOptions{Size: cellar.MaxPutSize + 1}); !errors.Is(err, cellar.ErrEntityTooLarge) {
		t.Fatalf("too large: %v", err)
	}
	// The failed puts left the first object intact.
	if got := readAll(t, b, "k", nil); !bytes.Equal(got, data) {
		t.Fatal("object changed by failed puts")
	}
	assertNoGarbage(t, s)
}

// assertNoGarbage sweeps and checks that the zones hold exactly the shards
// of the current objects.
func assertNoGarbage(t testing.TB, s *cellar.Store) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SweepOrphans(ctx, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) > 0 {
		t.Fatalf("check found problems: %v", rep.Problems)
	}
}

func TestValidation(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	for _, name := range []string{"", "ab", strings.Repeat("a", 64), "Upper", "under_score", "-start", "end-", "a..b", "192.168.1.1", "xn--abc", "sthree-x", "amzn-s3-demo-x", "abc-s3alias", "abc--ol-s3", "abc.mrap", "abc--x-s3", "abc--table-s3", "sp ace", "ünï"} {
		if err := s.CreateBucket(ctx, name, nil); !errors.Is(err, cellar.ErrInvalidBucketName) {
			t.Errorf("bucket %q: err %v, want ErrInvalidBucketName", name, err)
		}
	}
	for _, name := range []string{"abc", "a.b-c", "123", strings.Repeat("a", 63), "1.2.3.4.5"} {
		if err := s.CreateBucket(ctx, name, nil); err != nil {
			t.Errorf("bucket %q: %v", name, err)
		}
	}
	if err := s.CreateBucket(ctx, "abc", nil); !errors.Is(err, cellar.ErrBucketAlreadyExists) {
		t.Errorf("duplicate bucket: %v", err)
	}
	b := s.Bucket("abc")
	for _, key := range []string{"", strings.Repeat("k", 1025), "bad\xff\xfe"} {
		if _, err := b.Put(ctx, key, strings.NewReader("x"), nil); !errors.Is(err, cellar.ErrInvalidKey) {
			t.Errorf("key %q: err %v, want ErrInvalidKey", key[:min(len(key), 10)], err)
		}
	}
	if _, err := b.Put(ctx, strings.Repeat("k", 1024), strings.NewReader("x"), nil); err != nil {
		t.Errorf("1024-byte key: %v", err)
	}
	big := map[string]string{"a": strings.Repeat("v", 2048)}
	if _, err := b.Put(ctx, "m", strings.NewReader("x"), &cellar.PutOptions{Metadata: big}); !errors.Is(err, cellar.ErrMetadataTooLarge) {
		t.Errorf("metadata 2049 bytes: %v", err)
	}
	ok := map[string]string{"a": strings.Repeat("v", 2047)}
	if _, err := b.Put(ctx, "m", strings.NewReader("x"), &cellar.PutOptions{Metadata: ok}); err != nil {
		t.Errorf("metadata 2048 bytes: %v", err)
	}
	for _, md := range []map[string]string{{"": "v"}, {"bad name": "v"}, {"k": "line\nbreak"}, {"A": "1", "a": "2"}} {
		if _, err := b.Put(ctx, "m", strings.NewReader("x"), &cellar.PutOptions{Metadata: md}); !errors.Is(err, cellar.ErrInvalidMetadata) {
			t.Errorf("metadata %q: %v", md, err)
		}
	}
	if _, err := s.Bucket("nope").Put(ctx, "k", nil, nil); !errors.Is(err, cellar.ErrNoSuchBucket) {
		t.Errorf("missing bucket: %v", err)
	}
	if _, err := b.Get(ctx, "missing", nil); !errors.Is(err, cellar.ErrNoSuchKey) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing key: %v", err)
	}
}

func TestBuckets(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	for _, n := range []string{"zeta", "alpha", "mid"} {
		if err := s.CreateBucket(ctx, n, &cellar.BucketOptions{Region: "eu-west-1"}); err != nil {
			t.Fatal(err)
		}
	}
	bs, err := s.ListBuckets(ctx)
	if err != nil || len(bs) != 3 || bs[0].Name != "alpha" || bs[2].Name != "zeta" || bs[0].Region != "eu-west-1" {
		t.Fatalf("list buckets: %+v %v", bs, err)
	}
	if _, err := s.Bucket("mid").Put(ctx, "k", strings.NewReader("v"), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteBucket(ctx, "mid"); !errors.Is(err, cellar.ErrBucketNotEmpty) {
		t.Fatalf("delete non-empty: %v", err)
	}
	if _, err := s.Bucket("mid").Delete(ctx, "k", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteBucket(ctx, "mid"); err != nil {
		t.Fatalf("delete emptied bucket: %v", err)
	}
	if err := s.DeleteBucket(ctx, "mid"); !errors.Is(err, cellar.ErrNoSuchBucket) {
		t.Fatalf("delete missing bucket: %v", err)
	}
	if _, err := s.Bucket("mid").Head(ctx, "k", nil); !errors.Is(err, cellar.ErrNoSuchBucket) {
		t.Fatalf("head in deleted bucket: %v", err)
	}
}

func TestOverwriteAndDelete(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "overwrite")
	for i := range 5 {
		if _, err := b.Put(ctx, "k", bytes.NewReader(randBytes(uint64(i), 100_000+i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := readAll(t, b, "k", nil); !bytes.Equal(got, randBytes(4, 100_004)) {
		t.Fatal("last put does not win")
	}
	assertNoGarbage(t, s)
	res, err := b.Delete(ctx, "k", nil)
	if err != nil || res.DeleteMarker {
		t.Fatalf("delete: %+v %v", res, err)
	}
	if _, err := b.Head(ctx, "k", nil); !errors.Is(err, cellar.ErrNoSuchKey) {
		t.Fatalf("head after delete: %v", err)
	}
	if _, err := b.Delete(ctx, "k", nil); err != nil {
		t.Fatalf("delete missing key: %v", err)
	}
	assertNoGarbage(t, s)
	if n := countBlobs(t, s); n != 0 {
		t.Fatalf("%d blobs left after deleting everything", n)
	}
}

// countBlobs counts the shard blobs on the store's zones (not the zone
// metadata records beside them).
func countBlobs(t testing.TB, s *cellar.Store) int {
	t.Helper()
	n := 0
	for _, z := range s.Zones() {
		z.List(context.Background(), "data/", func(info backend.Info) error { n++; return nil })
	}
	return n
}

func TestGetConditions(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	opts := smallOpts()
	opts.Clock = func() time.Time { return now }
	s := newStore(t, opts)
	b := newBucket(t, s, "cond")
	info, err := b.Put(ctx, "k", strings.NewReader("hello"), nil)
	if err != nil {
		t.Fatal(err)
	}
	etag := `"` + info.ETag + `"`
	before, after := now.Add(-time.Hour), now.Add(time.Hour)
	for _, tc := range []struct {
		name string
		o    cellar.GetOptions
		want error
	}{
		{"if-match ok", cellar.GetOptions{IfMatch: etag}, nil},
		{"if-match list", cellar.GetOptions{IfMatch: `"x", ` + etag}, nil},
		{"if-match star", cellar.GetOptions{IfMatch: "*"}, nil},
		{"if-match fails", cellar.GetOptions{IfMatch: `"nope"`}, cellar.ErrPreconditionFailed},
		{"if-none-match hits", cellar.GetOptions{IfNoneMatch: etag}, cellar.ErrNotModified},
		{"if-none-match misses", cellar.GetOptions{IfNoneMatch: `"nope"`}, nil},
		{"if-modified-since before", cellar.GetOptions{IfModifiedSince: before}, nil},
		{"if-modified-since after", cellar.GetOptions{IfModifiedSince: after}, cellar.ErrNotModified},
		{"if-unmodified-since after", cellar.GetOptions{IfUnmodifiedSince: after}, nil},
		{"if-unmodified-since before", cellar.GetOptions{IfUnmodifiedSince: before}, cellar.ErrPreconditionFailed},
		// If-Match true wins over a false If-Unmodified-Since.
		{"match beats unmodified", cellar.GetOptions{IfMatch: etag, IfUnmodifiedSince: before}, nil},
		// If-None-Match false gives 304 whatever If-Modified-Since says.
		{"none-match beats modified", cellar.GetOptions{IfNoneMatch: etag, IfModifiedSince: before}, cellar.ErrNotModified},
		// If-None-Match true wins over a false If-Modified-Since.
		{"none-match true ignores modified", cellar.GetOptions{IfNoneMatch: `"x"`, IfModifiedSince: after}, nil},
		{"match fails first", cellar.GetOptions{IfMatch: `"x"`, IfNoneMatch: etag}, cellar.ErrPreconditionFailed},
	} {
		_, err := b.Head(ctx, "k", &tc.o)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: head err %v, want %v", tc.name, err, tc.want)
		}
		obj, err := b.Get(ctx, "k", &tc.o)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: get err %v, want %v", tc.name, err, tc.want)
		}
		if obj != nil {
			obj.Close()
		}
	}
}

func TestConditionalPut(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "cput")
	if _, err := b.Put(ctx, "k", strings.NewReader("a"), &cellar.PutOptions{IfMatch: "abc"}); !errors.Is(err, cellar.ErrNoSuchKey) {
		t.Fatalf("if-match on missing key: %v", err)
	}
	first, err := b.Put(ctx, "k", strings.NewReader("a"), &cellar.PutOptions{IfNoneMatch: "*"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Put(ctx, "k", strings.NewReader("b"), &cellar.PutOptions{IfNoneMatch: "*"}); !errors.Is(err, cellar.ErrPreconditionFailed) {
		t.Fatalf("second create: %v", err)
	}
	if _, err := b.Put(ctx, "k", strings.NewReader("b"), &cellar.PutOptions{IfMatch: "0123"}); !errors.Is(err, cellar.ErrPreconditionFailed) {
		t.Fatalf("if-match wrong etag: %v", err)
	}
	if _, err := b.Put(ctx, "k", strings.NewReader("c"), &cellar.PutOptions{IfMatch: `"` + first.ETag + `"`}); err != nil {
		t.Fatalf("if-match right etag: %v", err)
	}
	if got := readAll(t, b, "k", nil); string(got) != "c" {
		t.Fatalf("got %q", got)
	}
	assertNoGarbage(t, s)
}

func TestObjectSeekAndReadAt(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "seek")
	data := randBytes(3, 700_001)
	if _, err := b.Put(ctx, "k", bytes.NewReader(data), nil); err != nil {
		t.Fatal(err)
	}
	obj, err := b.Get(ctx, "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	if err := iotest.TestReader(obj, data); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		off := r.Int64N(int64(len(data)) + 10)
		n := r.IntN(200_000)
		buf := make([]byte, n)
		got, err := obj.ReadAt(buf, off)
		wantN := max(0, min(n, len(data)-int(min(off, int64(len(data))))))
		if got != wantN || !bytes.Equal(buf[:got], data[min(off, int64(len(data))):int(min(off, int64(len(data))))+wantN]) {
			t.Fatalf("ReadAt(%d, %d) = %d, %v; want %d", n, off, got, err, wantN)
		}
		if got < n && err != io.EOF {
			t.Fatalf("short ReadAt without io.EOF: %v", err)
		}
	}
	if _, err := obj.Seek(-1, io.SeekStart); err == nil {
		t.Fatal("seek to negative offset succeeded")
	}
}

// failAtEOF returns its data, then err instead of io.EOF, as a reader that
// checks a digest of the body at its end does.
type failAtEOF struct {
	r   io.Reader
	err error
}

func (f *failAtEOF) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		err = f.err
	}
	return n, err
}

func TestBodyErrorAtEOFFailsPut(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "eoferr")
	bad := errors.New("digest mismatch")
	for _, size := range []int64{0, 5} {
		_, err := b.Put(ctx, "k", &failAtEOF{r: strings.NewReader("hello"), err: bad}, &cellar.PutOptions{Size: size})
		if !errors.Is(err, bad) {
			t.Fatalf("size %d: put err %v, want the reader's error", size, err)
		}
		if _, err := b.Head(ctx, "k", nil); !errors.Is(err, cellar.ErrNoSuchKey) {
			t.Fatalf("size %d: a put whose body failed was committed", size)
		}
	}
	assertNoGarbage(t, s)
}

func TestTruncatedBodyFailsPut(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "trunc")
	_, err := b.Put(ctx, "k", &failAtEOF{r: strings.NewReader("partial"), err: io.ErrUnexpectedEOF}, nil)
	if !errors.Is(err, cellar.ErrIncompleteBody) {
		t.Fatalf("truncated body: %v, want ErrIncompleteBody", err)
	}
	if _, err := b.Head(ctx, "k", nil); !errors.Is(err, cellar.ErrNoSuchKey) {
		t.Fatal("a truncated body was stored")
	}
}
