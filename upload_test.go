package cellar_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cellarhq/cellar"
	"github.com/cellarhq/cellar/backend"
)

// failingReader returns the bytes of r up to n, then fails.
type failingReader struct {
	r io.Reader
	n int64
}

var errInterrupted = errors.New("connection reset (simulated)")

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errInterrupted
	}
	p = p[:min(int64(len(p)), f.n)]
	n, err := f.r.Read(p)
	f.n -= int64(n)
	return n, err
}

func TestUploadSmallBodiesUsePut(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "small")
	opts := &cellar.UploadOptions{PartSize: cellar.MinPartSize, OnPart: func(cellar.PartInfo) { t.Error("OnPart called for a put") }}
	for _, n := range []int{0, 1, 300_000, cellar.MinPartSize} {
		data := mpBytes(uint64(n), n)
		info, err := b.Upload(ctx, "k", bytes.NewReader(data), opts)
		if err != nil || info.ETag != md5hex(data) || info.PartsCount != 0 || info.Size != int64(n) {
			t.Fatalf("%d bytes: %+v %v", n, info, err)
		}
		if got := readAll(t, b, "k", nil); !bytes.Equal(got, data) {
			t.Fatalf("%d bytes: wrong bytes", n)
		}
	}
	if info, err := b.Upload(ctx, "nil", nil, nil); err != nil || info.Size != 0 {
		t.Fatalf("nil body: %+v %v", info, err)
	}
	if page, _ := b.ListMultipartUploads(ctx, nil); len(page.Uploads) != 0 {
		t.Fatalf("uploads left: %+v", page.Uploads)
	}
	for _, o := range []cellar.UploadOptions{{PartSize: cellar.MinPartSize - 1}, {PartSize: cellar.MaxPartSize + 1}, {Concurrency: -1}, {PutOptions: &cellar.PutOptions{Size: -1}}} {
		if _, err := b.Upload(ctx, "k", strings.NewReader("x"), &o); !errors.Is(err, cellar.ErrInvalidArgument) {
			t.Errorf("%+v: %v", o, err)
		}
	}
	assertNoGarbage(t, s)
}

func TestUploadParallelParts(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "parallel")
	data := mpBytes(7, 2*cellar.MinPartSize+12_345)
	var parts []int
	info, err := b.Upload(ctx, "k", bytes.NewReader(data), &cellar.UploadOptions{
		PartSize:    cellar.MinPartSize,
		Concurrency: 3,
		PutOptions:  &cellar.PutOptions{ContentType: "text/csv", Metadata: map[string]string{"a": "b"}, Size: int64(len(data)), IfNoneMatch: "*"},
		OnPart:      func(p cellar.PartInfo) { parts = append(parts, p.PartNumber) },
	})
	if err != nil {
		t.Fatal(err)
	}
	chunks := [][]byte{data[:5*mib], data[5*mib : 10*mib], data[10*mib:]}
	if info.ETag != mpETag(chunks...) || info.PartsCount != 3 || info.Size != int64(len(data)) || info.ContentType != "text/csv" || info.Metadata["a"] != "b" {
		t.Fatalf("info %+v", info)
	}
	if len(parts) != 3 {
		t.Fatalf("OnPart for parts %v", parts)
	}
	if got := readAll(t, b, "k", nil); !bytes.Equal(got, data) {
		t.Fatal("wrong bytes")
	}
	// The condition is checked at the commit: If-None-Match fails now,
	// and the error carries the upload, which is left to resume.
	_, err = b.Upload(ctx, "k", bytes.NewReader(data[:5*mib+1]), &cellar.UploadOptions{
		PartSize: cellar.MinPartSize, PutOptions: &cellar.PutOptions{IfNoneMatch: "*"},
	})
	var ue *cellar.UploadError
	if !errors.Is(err, cellar.ErrPreconditionFailed) || !errors.As(err, &ue) || ue.UploadID == "" {
		t.Fatalf("conditional upload onto an existing key: %v", err)
	}
	u, err := b.MultipartUpload(ctx, "k", ue.UploadID)
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	// A declared size that the body does not have: a body longer than
	// one part, declared to fit in one, fails before any upload starts.
	for _, size := range []int64{10, cellar.MinPartSize} {
		_, err = b.Upload(ctx, "k2", bytes.NewReader(data), &cellar.UploadOptions{
			PartSize: cellar.MinPartSize, PutOptions: &cellar.PutOptions{Size: size},
		})
		if !errors.Is(err, cellar.ErrIncompleteBody) || errors.As(err, &ue) {
			t.Fatalf("declared size %d: %v", size, err)
		}
	}
	if page, _ := b.ListMultipartUploads(ctx, nil); len(page.Uploads) != 0 {
		t.Fatalf("uploads left: %+v", page.Uploads)
	}
	if _, err := b.Upload(ctx, "k2", nil, &cellar.UploadOptions{PartSize: cellar.MinPartSize, PutOptions: &cellar.PutOptions{Size: cellar.MaxParts*cellar.MinPartSize + 1}}); !errors.Is(err, cellar.ErrInvalidArgument) {
		t.Fatalf("declared size over 10,000 parts: %v", err)
	}
	assertNoGarbage(t, s)
	if n := countBlobs(t, s); n != 3*6 {
		t.Fatalf("%d blobs, want the 18 of the object", n)
	}
}

func TestUploadResume(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "resume")
	const partSize = cellar.MinPartSize
	old := mpBytes(3, partSize+1000)
	var mu sync.Mutex
	var uploaded []int
	upload := func(body io.Reader, id string) (cellar.ObjectInfo, []int, error) {
		uploaded = nil
		info, err := b.Upload(ctx, "k", body, &cellar.UploadOptions{
			PartSize: partSize, Concurrency: 2, UploadID: id,
			OnPart: func(p cellar.PartInfo) { mu.Lock(); uploaded = append(uploaded, p.PartNumber); mu.Unlock() },
		})
		slices.Sort(uploaded)
		return info, uploaded, err
	}

	// The body breaks in part 2: part 1 is stored, the upload is left for
	// a resume.
	_, parts, err := upload(&failingReader{r: bytes.NewReader(old), n: partSize + 100}, "")
	var ue *cellar.UploadError
	if !errors.Is(err, errInterrupted) || !errors.As(err, &ue) || len(ue.UploadID) == 0 {
		t.Fatalf("interrupted upload: %v", err)
	}
	if !slices.Equal(parts, []int{1}) {
		t.Fatalf("parts stored before the interruption: %v", parts)
	}
	page, err := b.ListMultipartUploads(ctx, nil)
	if err != nil || len(page.Uploads) != 1 || page.Uploads[0].UploadID != ue.UploadID {
		t.Fatalf("uploads: %+v %v", page, err)
	}
	if _, err := b.Head(ctx, "k", nil); !errors.Is(err, cellar.ErrNoSuchKey) {
		t.Fatalf("object visible after a failed upload: %v", err)
	}
	assertNoGarbage(t, s)

	// Resume with a body changed in part 1, which breaks in part 2 again:
	// part 1 does not match the stored one and is uploaded again.
	data := bytes.Clone(old)
	data[7] ^= 1
	_, parts, err = upload(&failingReader{r: bytes.NewReader(data), n: partSize + 100}, ue.UploadID)
	if !errors.Is(err, errInterrupted) || !errors.As(err, &ue) {
		t.Fatalf("second interruption: %v", err)
	}
	if !slices.Equal(parts, []int{1}) {
		t.Fatalf("second attempt uploaded parts %v, want 1", parts)
	}

	// Resume with the whole body: part 1 matches and is kept, only part 2
	// is uploaded.
	info, parts, err := upload(bytes.NewReader(data), ue.UploadID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(parts, []int{2}) {
		t.Fatalf("resume uploaded parts %v, want 2", parts)
	}
	if info.PartsCount != 2 || info.Size != int64(len(data)) || info.ETag != mpETag(data[:partSize], data[partSize:]) {
		t.Fatalf("info %+v", info)
	}
	if got := readAll(t, b, "k", nil); !bytes.Equal(got, data) {
		t.Fatal("wrong bytes")
	}
	if _, _, err := upload(bytes.NewReader(data), ue.UploadID); !errors.Is(err, cellar.ErrNoSuchUpload) || !errors.As(err, &ue) {
		t.Fatalf("resume a completed upload: %v", err)
	}
	assertNoGarbage(t, s)
	if n := countBlobs(t, s); n != 6+3 {
		t.Fatalf("%d blobs, want 9: six shards of part 1, three of the small part 2", n)
	}
}

func TestUploadAbortOnError(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	b := newBucket(t, s, "abort")
	data := mpBytes(5, cellar.MinPartSize+10)
	_, err := b.Upload(ctx, "k", &failingReader{r: bytes.NewReader(data), n: cellar.MinPartSize + 5}, &cellar.UploadOptions{
		PartSize: cellar.MinPartSize, AbortOnError: true,
	})
	var ue *cellar.UploadError
	if !errors.Is(err, errInterrupted) || !errors.As(err, &ue) {
		t.Fatalf("interrupted upload: %v", err)
	}
	if _, err := b.MultipartUpload(ctx, "k", ue.UploadID); !errors.Is(err, cellar.ErrNoSuchUpload) {
		t.Fatalf("upload after AbortOnError: %v", err)
	}
	assertNoGarbage(t, s)
	if n := countBlobs(t, s); n != 0 {
		t.Fatalf("%d blobs left", n)
	}
	// A cancelled context stops the upload too.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := b.Upload(cctx, "k", bytes.NewReader(data), &cellar.UploadOptions{PartSize: cellar.MinPartSize, AbortOnError: true}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled upload: %v", err)
	}
	assertNoGarbage(t, s)
	if n := countBlobs(t, s); n != 0 {
		t.Fatalf("%d blobs left", n)
	}
}

// streamReader yields n pseudo-random bytes without holding them, and
// computes the ETag of a multipart upload of them in parts of partSize.
type streamReader struct {
	rng      *rand.ChaCha8
	n        int64
	partSize int64
	in       int64 // bytes in the current part
	cur      hash.Hash
	sums     []byte
	parts    int
}

func (r *streamReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.n, r.partSize-r.in)]
	r.rng.Read(p)
	if r.cur == nil {
		r.cur = md5.New()
	}
	r.cur.Write(p)
	r.n -= int64(len(p))
	if r.in += int64(len(p)); r.in == r.partSize || r.n == 0 {
		r.sums, r.cur, r.in = r.cur.Sum(r.sums), nil, 0
		r.parts++
	}
	return len(p), nil
}

func (r *streamReader) etag() string {
	sum := md5.Sum(r.sums)
	return hex.EncodeToString(sum[:]) + "-" + strconv.Itoa(r.parts)
}

// nullZone is a backend that keeps only the names and sizes of its blobs:
// enough to write objects, so that a test can measure the memory an
// upload takes without the stored bytes counting.
type nullZone struct {
	mu    sync.Mutex
	blobs map[string]int64
}

func (z *nullZone) Create(ctx context.Context, name string) (backend.Writer, error) {
	return &nullWriter{z: z, name: name}, nil
}

func (z *nullZone) Open(ctx context.Context, name string) (backend.Reader, error) {
	return nil, errors.New("nullZone keeps no data")
}

func (z *nullZone) Stat(ctx context.Context, name string) (backend.Info, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	n, ok := z.blobs[name]
	if !ok {
		return backend.Info{}, backend.ErrNotExist
	}
	return backend.Info{Name: name, Size: n}, nil
}

func (z *nullZone) Delete(ctx context.Context, name string) error {
	z.mu.Lock()
	defer z.mu.Unlock()
	if _, ok := z.blobs[name]; !ok {
		return backend.ErrNotExist
	}
	delete(z.blobs, name)
	return nil
}

func (z *nullZone) List(ctx context.Context, prefix string, fn func(backend.Info) error) error {
	z.mu.Lock()
	var infos []backend.Info
	for name, n := range z.blobs {
		if strings.HasPrefix(name, prefix) {
			infos = append(infos, backend.Info{Name: name, Size: n})
		}
	}
	z.mu.Unlock()
	for _, info := range infos {
		if err := fn(info); err != nil {
			return err
		}
	}
	return nil
}

func (z *nullZone) Probe(ctx context.Context) error { return nil }

type nullWriter struct {
	z    *nullZone
	name string
	n    int64
}

func (w *nullWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

func (w *nullWriter) Commit() error {
	w.z.mu.Lock()
	defer w.z.mu.Unlock()
	w.z.blobs[w.name] = w.n
	return nil
}

func (w *nullWriter) Abort() error { return nil }

// TestUploadBoundedMemory uploads 64 MiB in 5 MiB parts, four at a time,
// and checks that the heap never grows by more than a fraction of that:
// the parts' buffers (4 × 5 MiB) and the erasure pipelines.
func TestUploadBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 64 MiB")
	}
	ctx := context.Background()
	opts := smallOpts()
	for range 3 {
		opts.Zones = append(opts.Zones, &nullZone{blobs: map[string]int64{}})
	}
	s := newStore(t, opts)
	b := newBucket(t, s, "memory")

	defer debug.SetGCPercent(debug.SetGCPercent(25))
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
		}
	})

	const size = 64 << 20
	body := &streamReader{rng: rand.NewChaCha8([32]byte{1}), n: size, partSize: cellar.MinPartSize}
	var parts atomic.Int32
	info, err := b.Upload(ctx, "big", body, &cellar.UploadOptions{
		PartSize: cellar.MinPartSize, Concurrency: 4,
		OnPart: func(cellar.PartInfo) { parts.Add(1) },
	})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != size || info.PartsCount != 13 || parts.Load() != 13 || info.ETag != body.etag() {
		t.Fatalf("info %+v, %d parts, want ETag %s", info, parts.Load(), body.etag())
	}
	grew := int64(peak.Load()) - int64(base.HeapAlloc)
	t.Logf("heap grew by %d MiB at most while uploading %d MiB", grew>>20, size>>20)
	if grew > 40<<20 {
		t.Fatalf("heap grew by %d MiB uploading %d MiB in 5 MiB parts, 4 at a time", grew>>20, size>>20)
	}
}
