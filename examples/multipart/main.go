// Command multipart uploads a large file into cellar's embedded store with
// Bucket.Upload: the file is cut into parts that are uploaded in parallel
// with bounded memory. The first attempt is interrupted midway (a reader
// that fails, as a dropped connection would); the store is closed and
// opened again, as a restarted process would, and the upload is resumed
// by its ID: the parts stored before the failure are kept, only the rest
// is uploaded. Finally the object is read back and compared with the file.
//
//	go run ./examples/multipart            # in a fresh temporary directory
//	go run ./examples/multipart -dir data  # in ./data (kept afterwards)
package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"

	"github.com/cellarhq/cellar"
)

const (
	fileSize    = 64 << 20 // the file to upload
	partSize    = 8 << 20  // Bucket.Upload's part size
	concurrency = 4        // parts uploaded at once
	failAt      = 37 << 20 // the first attempt's body breaks here
)

func main() {
	dir := flag.String("dir", "", "directory for the store and the file (default: a temporary directory, removed afterwards)")
	flag.Parse()
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "cellar-multipart-")
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

// errDropped is what the interrupted body fails with.
var errDropped = errors.New("connection dropped (simulated)")

// breakingReader passes n bytes of r through, then fails.
type breakingReader struct {
	r io.Reader
	n int64
}

func (b *breakingReader) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, errDropped
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.r.Read(p)
	b.n -= int64(n)
	return n, err
}

func run(ctx context.Context, out io.Writer, dir string) error {
	file := filepath.Join(dir, "big.bin")
	sum, err := makeFile(file, fileSize)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "made %s: %d MiB, MD5 %x\n", file, fileSize>>20, sum)

	storeDir := filepath.Join(dir, "store")
	st, err := cellar.Open(ctx, &cellar.Options{Dir: storeDir})
	if err != nil {
		return err
	}
	if err := st.CreateBucket(ctx, "backups", nil); err != nil {
		st.Close()
		return err
	}
	fmt.Fprintf(out, "opened the store in %s and made bucket backups\n", storeDir)

	// First attempt: the body breaks after failAt bytes.
	var mu sync.Mutex
	onPart := func(p cellar.PartInfo) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, "  part %d stored: %d bytes, ETag %s\n", p.PartNumber, p.Size, p.ETag)
	}
	f, err := os.Open(file)
	if err != nil {
		st.Close()
		return err
	}
	fmt.Fprintf(out, "uploading in %d MiB parts, %d at a time; the body breaks after %d MiB\n", partSize>>20, concurrency, failAt>>20)
	_, err = st.Bucket("backups").Upload(ctx, "big.bin", &breakingReader{r: f, n: failAt}, &cellar.UploadOptions{
		PartSize: partSize, Concurrency: concurrency, OnPart: onPart,
		PutOptions: &cellar.PutOptions{ContentType: "application/octet-stream"},
	})
	f.Close()
	var ue *cellar.UploadError
	if !errors.As(err, &ue) || !errors.Is(err, errDropped) {
		st.Close()
		return fmt.Errorf("first attempt: want an interrupted upload, got %v", err)
	}
	fmt.Fprintf(out, "first attempt failed: %v\n", err)
	if err := st.Close(); err != nil {
		return err
	}

	// A new process: open the store again and find the upload.
	st, err = cellar.Open(ctx, &cellar.Options{Dir: storeDir})
	if err != nil {
		return err
	}
	defer st.Close()
	bucket := st.Bucket("backups")
	page, err := bucket.ListMultipartUploads(ctx, nil)
	if err != nil {
		return err
	}
	for _, u := range page.Uploads {
		up, err := bucket.MultipartUpload(ctx, u.Key, u.UploadID)
		if err != nil {
			return err
		}
		parts, err := up.ListParts(ctx, nil)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "after reopening: upload %s of %s in progress with %d parts stored\n", u.UploadID, u.Key, len(parts.Parts))
	}

	// Resume: the file is read from the start again, the stored parts are
	// checked (size and MD5) and kept.
	f, err = os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	uploaded := 0
	info, err := bucket.Upload(ctx, "big.bin", f, &cellar.UploadOptions{
		PartSize: partSize, Concurrency: concurrency, UploadID: ue.UploadID,
		OnPart: func(p cellar.PartInfo) { onPart(p); uploaded++ },
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "resumed upload %s: uploaded %d parts, kept %d\n", ue.UploadID, uploaded, info.PartsCount-uploaded)
	fmt.Fprintf(out, "stored %s: %d bytes in %d parts, ETag %s\n", info.Key, info.Size, info.PartsCount, info.ETag)

	// Read it back and compare with the file.
	obj, err := bucket.Get(ctx, "big.bin", nil)
	if err != nil {
		return err
	}
	defer obj.Close()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := sameBytes(obj, f); err != nil {
		return err
	}
	fmt.Fprintf(out, "verified: the object's %d bytes equal the file's\n", obj.Size())

	// One part on its own, as S3's GET ?partNumber= reads it.
	h, err := bucket.Head(ctx, "big.bin", &cellar.GetOptions{PartNumber: info.PartsCount})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "part %d of %d alone: %d bytes\n", info.PartsCount, h.PartsCount, h.Size)
	return nil
}

// makeFile writes size pseudo-random bytes to name and returns their MD5.
func makeFile(name string, size int64) ([]byte, error) {
	f, err := os.Create(name)
	if err != nil {
		return nil, err
	}
	rng := rand.NewChaCha8([32]byte{'c', 'e', 'l', 'l', 'a', 'r'})
	h := md5.New()
	buf := make([]byte, 1<<20)
	for left := size; left > 0; left -= int64(len(buf)) {
		b := buf[:min(int64(len(buf)), left)]
		rng.Read(b)
		h.Write(b)
		if _, err := f.Write(b); err != nil {
			f.Close()
			return nil, err
		}
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// sameBytes reads a and b to the end and reports where they differ.
func sameBytes(a, b io.Reader) error {
	ba, bb := make([]byte, 1<<20), make([]byte, 1<<20)
	var off int64
	for {
		na, ea := io.ReadFull(a, ba)
		nb, eb := io.ReadFull(b, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return fmt.Errorf("the object differs from the file in the MiB at %d", off)
		}
		off += int64(na)
		endA := ea == io.EOF || ea == io.ErrUnexpectedEOF
		endB := eb == io.EOF || eb == io.ErrUnexpectedEOF
		switch {
		case ea != nil && !endA:
			return ea
		case eb != nil && !endB:
			return eb
		case endA || endB:
			if endA != endB {
				return fmt.Errorf("the object and the file differ in length (at %d)", off)
			}
			return nil
		}
	}
}
