package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/cellarhq/cellar"
	"github.com/cellarhq/cellar/s3api"
)

// The S3 workloads: objects of two sizes put and read through cellar's S3
// handler on loopback with aws-sdk-go-v2, against the same work through
// the Go API on the same kind of store.
const (
	wS3Put = "s3-put"
	wS3Get = "s3-get"

	subS3 = "s3" // embedded default store of s3-put and s3-get

	// Default object count of --s3-small when --s3-count is 0. The
	// default count of --s3-large is --concurrency, so that that many
	// large objects are in flight at once.
	s3SmallCount = 64

	s3Region    = "us-east-1"
	s3AccessKey = "CELLARBENCHACCESSKEY"
	s3SecretKey = "cellar-bench-secret-key-0123456789abcdef"
)

// s3Class is one object size of the S3 workloads.
type s3Class struct {
	size  int64
	n     int
	label string // the row's second field: "64MiB"
}

func (c s3Class) key(i int) string { return fmt.Sprintf("s3/%s/%05d", c.label, i) }

// body returns object i's bytes as a seekable reader, which the SDK needs
// to know the length and retry.
func (c s3Class) body(g *generator, i int) *genSeeker {
	return &genSeeker{g: g, base: int64(i) * c.size, size: c.size}
}

func (b *bench) s3Classes() []s3Class {
	small, large := b.cfg.s3Count, b.cfg.s3Count
	if b.cfg.s3Count == 0 {
		small, large = s3SmallCount, b.cfg.concurrency
	}
	var out []s3Class
	for _, c := range []s3Class{{size: int64(b.cfg.s3Small), n: small}, {size: int64(b.cfg.s3Large), n: large}} {
		c.label = strings.ReplaceAll(byteSize(c.size).String(), " ", "")
		out = append(out, c)
	}
	return out
}

// rowLabels are the rows of workload w, in table order.
func (b *bench) rowLabels(w string) []string {
	if w == wLifecycle {
		return []string{wLifecycle, wLifecycleIdle}
	}
	if w != wS3Put && w != wS3Get {
		return []string{w}
	}
	var out []string
	for _, c := range b.s3Classes() {
		for _, t := range s3Transports {
			out = append(out, w+" "+c.label+t.tag)
		}
	}
	return out
}

// s3Transport is how the SDK client reaches the handler: plain HTTP, where
// aws-sdk-go-v2 signs the body's SHA-256 (both sides hash every byte), or
// TLS, where it sends STREAMING-UNSIGNED-PAYLOAD-TRAILER: an aws-chunked
// body with a CRC32 trailer and no payload hash, as against AWS itself.
type s3Transport struct {
	tls  bool
	tag  string // appended to the row label: "s3-put 64MiB/TLS"
	name string // for the notes
}

var s3Transports = []s3Transport{{tag: "", name: "plain HTTP"}, {tls: true, tag: "/TLS", name: "TLS (HTTP/1.1)"}}

// genSeeker is object bytes [base, base+size) of the generator, seekable.
type genSeeker struct {
	g               *generator
	base, size, pos int64
}

func (r *genSeeker) Read(p []byte) (int, error) {
	if r.pos >= r.size {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.size-r.pos)]
	r.g.fill(p, r.base+r.pos)
	r.pos += int64(len(p))
	return len(p), nil
}

func (r *genSeeker) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += r.pos
	case io.SeekEnd:
		off += r.size
	}
	if off < 0 {
		return 0, errors.New("genSeeker: negative position")
	}
	r.pos = off
	return off, nil
}

// swapHandler serves with whichever handler was set last, so that one
// listener, and the client's kept-alive connections, outlive each fresh
// store.
type swapHandler struct{ h atomic.Pointer[http.Handler] }

func (s *swapHandler) set(h http.Handler) { s.h.Store(&h) }

func (s *swapHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*s.h.Load()).ServeHTTP(w, r)
}

// headerTap records the payload hash and content encoding of the first
// PutObject the SDK sends, for the notes.
type headerTap struct {
	base http.RoundTripper
	once sync.Once
	put  string
}

func (t *headerTap) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut {
		t.once.Do(func() {
			payload := r.Header.Get("X-Amz-Content-Sha256")
			if len(payload) == 64 {
				payload = "the body's SHA-256 (signed payload)"
			}
			t.put = fmt.Sprintf("x-amz-content-sha256 %s; Content-Encoding %q; X-Amz-Trailer %q; x-amz-checksum-crc32 %q",
				payload, r.Header.Get("Content-Encoding"), r.Header.Get("X-Amz-Trailer"), r.Header.Get("X-Amz-Checksum-Crc32"))
		})
	}
	return t.base.RoundTrip(r)
}

// newS3Client is an SDK client for a loopback endpoint: path style, static
// credentials, no retries, and the checksum behaviour that
// config.LoadDefaultConfig gives (CRC32 where supported, responses
// validated), set explicitly. tlsConf, if set, is the TLS configuration
// that trusts the endpoint's certificate.
func newS3Client(url string, conc int, tap *headerTap, tlsConf *tls.Config) *s3.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if tlsConf != nil {
		tr.TLSClientConfig = tlsConf.Clone()
	}
	tr.MaxIdleConnsPerHost = conc
	tr.MaxIdleConns = 2 * conc
	tap.base = tr
	return s3.New(s3.Options{
		BaseEndpoint:               aws.String(url),
		UsePathStyle:               true,
		Region:                     s3Region,
		Credentials:                credentials.NewStaticCredentialsProvider(s3AccessKey, s3SecretKey, ""),
		HTTPClient:                 &http.Client{Transport: tap},
		RetryMaxAttempts:           1,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	})
}

// s3Env is cellar's S3 handler on loopback over the current store.
type s3Env struct {
	b      *bench
	t      s3Transport
	st     *cellar.Store
	swap   swapHandler
	srv    *http.Server
	ts     *httptest.Server // the TLS server, with its own certificate
	url    string
	client *s3.Client
	tap    headerTap
}

func (b *bench) startS3(t s3Transport) (*s3Env, error) {
	e := &s3Env{b: b, t: t}
	e.swap.set(http.NotFoundHandler())
	if t.tls {
		// httptest's certificate for 127.0.0.1; HTTP/1.1 only, as
		// EnableHTTP2 is left false, so that both rows use one protocol.
		e.ts = httptest.NewUnstartedServer(&e.swap)
		e.ts.Config.ReadHeaderTimeout = time.Minute
		e.ts.StartTLS()
		e.url = e.ts.URL
		e.client = newS3Client(e.url, b.cfg.concurrency, &e.tap, e.ts.Client().Transport.(*http.Transport).TLSClientConfig)
		return e, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e.srv = &http.Server{Handler: &e.swap, ReadHeaderTimeout: time.Minute}
	go e.srv.Serve(ln)
	e.url = "http://" + ln.Addr().String()
	e.client = newS3Client(e.url, b.cfg.concurrency, &e.tap, nil)
	return e, nil
}

// fresh replaces the store with an empty one holding the bench bucket.
func (e *s3Env) fresh(ctx context.Context) error {
	if err := e.closeStore(); err != nil {
		return err
	}
	if err := os.RemoveAll(e.b.path(subS3)); err != nil {
		return err
	}
	st, err := cellar.Open(ctx, &cellar.Options{Dir: e.b.path(subS3)})
	if err != nil {
		return err
	}
	e.st = st
	e.swap.set(s3api.New(st, &s3api.Options{Credentials: map[string]string{s3AccessKey: s3SecretKey}, Region: s3Region}))
	return st.CreateBucket(ctx, benchBucket, nil)
}

func (e *s3Env) closeStore() error {
	if e.st == nil {
		return nil
	}
	e.swap.set(http.NotFoundHandler())
	err := e.st.Close()
	e.st = nil
	return err
}

func (e *s3Env) close() error {
	var err error
	if e.ts != nil {
		e.ts.Close()
	} else {
		err = e.srv.Close()
	}
	return errors.Join(err, e.closeStore())
}

// s3 runs s3-put and s3-get for each object size, over plain HTTP and
// over TLS.
func (b *bench) s3(ctx context.Context) error {
	peer := b.startPeer()
	defer peer.close()
	for i, t := range s3Transports {
		p := peer
		if i > 0 {
			p = nil // the peer runs once, over plain HTTP
		}
		if err := b.s3Over(ctx, t, p); err != nil {
			return err
		}
	}
	return nil
}

// s3Over runs s3-put and s3-get for each object size over transport t.
func (b *bench) s3Over(ctx context.Context, t s3Transport, peer *s3Peer) error {
	e, err := b.startS3(t)
	if err != nil {
		return err
	}
	defer e.close()
	for _, c := range b.s3Classes() {
		if err := b.s3Class(ctx, e, peer, c); err != nil {
			return err
		}
		if err := e.closeStore(); err != nil {
			return err
		}
	}
	if b.sel[wS3Put] {
		b.note(wS3Put, "the first PutObject as the SDK sent it (RequestChecksumCalculation WhenSupported, %s): %s", t.name, e.tap.put)
	}
	return nil
}

func (b *bench) s3Class(ctx context.Context, e *s3Env, peer *s3Peer, c s3Class) error {
	conc := b.cfg.concurrency
	total := c.size * int64(c.n)
	what := fmt.Sprintf("%d objects of %s, %d at a time", c.n, byteSize(c.size), conc)
	row := func(w string) string { return w + " " + c.label + e.t.tag }
	label := c.label + e.t.tag

	httpPut := func() (sample, error) {
		if err := e.fresh(ctx); err != nil {
			return sample{}, err
		}
		s, err := b.measure(phase{w: wS3Put, cellar: true, run: func() error {
			return forEach(ctx, c.n, conc, func(ctx context.Context, i int) error {
				out, err := e.client.PutObject(ctx, &s3.PutObjectInput{
					Bucket: aws.String(benchBucket), Key: aws.String(c.key(i)),
					Body: c.body(b.gen, i), ContentLength: aws.Int64(c.size),
				})
				if err == nil && aws.ToString(out.ETag) == "" {
					err = fmt.Errorf("PutObject %s: no ETag", c.key(i))
				}
				return err
			})
		}})
		if err == nil {
			err = b.s3Verify(ctx, e.st, c)
		}
		return s, err
	}
	goPut := func() (sample, error) {
		if err := e.fresh(ctx); err != nil {
			return sample{}, err
		}
		bk := e.st.Bucket(benchBucket)
		s, err := b.measure(phase{w: wS3Put, run: func() error {
			return forEach(ctx, c.n, conc, func(ctx context.Context, i int) error {
				info, err := bk.Put(ctx, c.key(i), b.gen.reader(int64(i)*c.size, int64(i+1)*c.size), &cellar.PutOptions{Size: c.size})
				if err == nil && (info.Size != c.size || info.ETag == "") {
					err = fmt.Errorf("put %s: size %d, ETag %q; want size %d", c.key(i), info.Size, info.ETag, c.size)
				}
				return err
			})
		}})
		if err == nil {
			err = b.s3Verify(ctx, e.st, c)
		}
		return s, err
	}
	if b.sel[wS3Put] {
		cs, gs, err := b.pair(b.cfg.reps, httpPut, goPut)
		if err != nil {
			return fmt.Errorf("%s: %w", row(wS3Put), err)
		}
		b.rows[row(wS3Put)] = throughputRow(total, best(cs).d, best(gs).d, "MB/s")
		b.note(wS3Put, "%s: %s into a fresh embedded-default store in D/%s each run; %d runs a side, alternating, fastest shown; afterwards (untimed) every object's size checked and the first and last read back",
			label, what, subS3, b.cfg.reps)
		b.note(wS3Put, "%s: cellar-HTTP %s: aws-sdk-go-v2 PutObject (ContentLength set, seekable body) to s3api.New on 127.0.0.1 over %s", label, describe(cs), e.t.name)
		b.note(wS3Put, "%s: Go API %s: Bucket.Put (Size set)", label, describe(gs))
	}

	if b.sel[wS3Get] {
		// Whichever side of s3-put ran last left its objects, with its
		// checksum: the objects to read are put afresh, the same way
		// every time.
		if err := b.s3Fill(ctx, e, c); err != nil {
			return fmt.Errorf("%s: %w", row(wS3Get), err)
		}
	}

	if b.sel[wS3Get] {
		httpGet := func() (sample, error) {
			return b.measure(phase{w: wS3Get, cellar: true, prep: b.evict(b.path(subS3)), run: func() error {
				return forEach(ctx, c.n, conc, func(ctx context.Context, i int) error {
					out, err := e.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(benchBucket), Key: aws.String(c.key(i))})
					if err != nil {
						return err
					}
					n, err := drain(out.Body)
					if cerr := out.Body.Close(); err == nil {
						err = cerr
					}
					if err == nil && n != c.size {
						err = fmt.Errorf("GetObject %s: %d bytes, want %d", c.key(i), n, c.size)
					}
					return err
				})
			}})
		}
		bk := e.st.Bucket(benchBucket)
		goGet := func() (sample, error) {
			return b.measure(phase{w: wS3Get, prep: b.evict(b.path(subS3)), run: func() error {
				return forEach(ctx, c.n, conc, func(ctx context.Context, i int) error {
					obj, err := bk.Get(ctx, c.key(i), nil)
					if err != nil {
						return err
					}
					n, err := drain(obj)
					if cerr := obj.Close(); err == nil {
						err = cerr
					}
					if err == nil && n != c.size {
						err = fmt.Errorf("get %s: %d bytes, want %d", c.key(i), n, c.size)
					}
					return err
				})
			}})
		}
		cs, gs, err := b.pair(b.cfg.reps, httpGet, goGet)
		if err == nil {
			// Untimed: the first and last objects whole through the SDK.
			err = b.s3CheckSDK(ctx, e.client, c)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", row(wS3Get), err)
		}
		b.rows[row(wS3Get)] = throughputRow(total, best(cs).d, best(gs).d, "MB/s")
		b.note(wS3Get, "%s: %s, put untimed by the same SDK client into a fresh store (so each carries the SDK's default CRC32, which GetObject returns and the SDK validates); %s; afterwards (untimed) the first and last objects read whole through the SDK and compared with the generator",
			label, what, b.readMode())
		b.note(wS3Get, "%s: cellar-HTTP %s: aws-sdk-go-v2 GetObject over %s + drain (256 KiB reads), length checked", label, describe(cs), e.t.name)
		b.note(wS3Get, "%s: Go API %s: Bucket.Get + drain (256 KiB reads), length checked", label, describe(gs))
	}

	if peer != nil {
		peer.run(ctx, c)
	}
	return nil
}

// s3Fill puts c's objects untimed for s3-get, into a fresh store, with the
// SDK client, as an S3 user's objects are put: each then carries the
// CRC32 that the SDK sends by default, which GetObject returns and the SDK
// validates. (An object put without a checksum, through Bucket.Put, has a
// CRC64NVME, as in S3, which aws-sdk-go-v2 validates with the generic
// table-driven hash/crc64, several times the cost of CRC32.)
func (b *bench) s3Fill(ctx context.Context, e *s3Env, c s3Class) error {
	if err := e.fresh(ctx); err != nil {
		return err
	}
	err := forEach(ctx, c.n, b.cfg.concurrency, func(ctx context.Context, i int) error {
		_, err := e.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(benchBucket), Key: aws.String(c.key(i)),
			Body: c.body(b.gen, i), ContentLength: aws.Int64(c.size),
		})
		return err
	})
	if err == nil {
		err = b.s3Verify(ctx, e.st, c)
	}
	return err
}

// s3Verify checks, through the Go API, that every object of c has its size
// and that the first and last hold exactly the generator's bytes.
func (b *bench) s3Verify(ctx context.Context, st *cellar.Store, c s3Class) error {
	bk := st.Bucket(benchBucket)
	for i := range c.n {
		info, err := bk.Head(ctx, c.key(i), nil)
		if err != nil {
			return fmt.Errorf("check: %w", err)
		}
		if info.Size != c.size {
			return fmt.Errorf("check: %s has %d bytes, want %d", c.key(i), info.Size, c.size)
		}
	}
	for _, i := range []int{0, c.n - 1} {
		obj, err := bk.Get(ctx, c.key(i), nil)
		if err != nil {
			return fmt.Errorf("check: %w", err)
		}
		err = sameBytes(obj, c.body(b.gen, i), c.key(i))
		obj.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// s3CheckSDK reads the first and last objects of c whole through client
// and compares them with the generator.
func (b *bench) s3CheckSDK(ctx context.Context, client *s3.Client, c s3Class) error {
	for _, i := range []int{0, c.n - 1} {
		out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(benchBucket), Key: aws.String(c.key(i))})
		if err != nil {
			return fmt.Errorf("check: %w", err)
		}
		err = sameBytes(out.Body, c.body(b.gen, i), c.key(i))
		out.Body.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// sameBytes reads got and want to their ends in 1 MiB pieces and says
// where they first differ.
func sameBytes(got, want io.Reader, key string) error {
	g, w := make([]byte, 1<<20), make([]byte, 1<<20)
	var off int64
	for {
		n, gerr := io.ReadFull(got, g)
		m, _ := io.ReadFull(want, w)
		if !bytes.Equal(g[:n], w[:m]) {
			return fmt.Errorf("check: %s: bytes from %d differ from what was put (read %d, want %d)", key, off, n, m)
		}
		off += int64(n)
		if gerr == io.EOF || gerr == io.ErrUnexpectedEOF {
			return nil
		}
		if gerr != nil {
			return fmt.Errorf("check: %s: %w", key, gerr)
		}
	}
}

// s3Peer is gofakes3 with its in-memory backend behind httptest, driven
// by the same kind of SDK client: a reference point, not a baseline (its
// objects live in memory, cellar's on disk).
type s3Peer struct {
	b      *bench
	swap   swapHandler
	ts     *httptest.Server
	client *s3.Client
	tap    headerTap
}

func (b *bench) startPeer() *s3Peer {
	p := &s3Peer{b: b}
	p.swap.set(http.NotFoundHandler())
	p.ts = httptest.NewServer(&p.swap)
	p.client = newS3Client(p.ts.URL, b.cfg.concurrency, &p.tap, nil)
	return p
}

func (p *s3Peer) close() {
	p.swap.set(http.NotFoundHandler())
	p.ts.Close()
}

// fresh gives the peer a new, empty in-memory backend with the bucket.
func (p *s3Peer) fresh(ctx context.Context) error {
	p.swap.set(http.NotFoundHandler())
	p.swap.set(gofakes3.New(s3mem.New()).Server())
	_, err := p.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(benchBucket)})
	return err
}

// run measures the peer's put and get of c and notes the figures, or why
// there are none. The peer never fails the bench.
func (p *s3Peer) run(ctx context.Context, c s3Class) {
	b := p.b
	total := c.size * int64(c.n)
	var puts, gets []sample
	err := func() error {
		for range b.cfg.reps {
			if err := p.fresh(ctx); err != nil {
				return err
			}
			s, err := b.measure(phase{w: wS3Put, run: func() error {
				return forEach(ctx, c.n, b.cfg.concurrency, func(ctx context.Context, i int) error {
					_, err := p.client.PutObject(ctx, &s3.PutObjectInput{
						Bucket: aws.String(benchBucket), Key: aws.String(c.key(i)),
						Body: c.body(b.gen, i), ContentLength: aws.Int64(c.size),
					})
					return err
				})
			}})
			if err != nil {
				return fmt.Errorf("put: %w", err)
			}
			puts = append(puts, s)
		}
		if err := b.s3CheckSDK(ctx, p.client, c); err != nil {
			return fmt.Errorf("put: %w", err)
		}
		if !b.sel[wS3Get] {
			return nil
		}
		for range b.cfg.reps {
			s, err := b.measure(phase{w: wS3Get, run: func() error {
				return forEach(ctx, c.n, b.cfg.concurrency, func(ctx context.Context, i int) error {
					out, err := p.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(benchBucket), Key: aws.String(c.key(i))})
					if err != nil {
						return err
					}
					n, err := drain(out.Body)
					out.Body.Close()
					if err == nil && n != c.size {
						err = fmt.Errorf("GetObject %s: %d bytes, want %d", c.key(i), n, c.size)
					}
					return err
				})
			}})
			if err != nil {
				return fmt.Errorf("get: %w", err)
			}
			gets = append(gets, s)
		}
		return nil
	}()
	p.swap.set(http.NotFoundHandler()) // drop the backend's objects
	peerNote := func(w string, ss []sample) {
		if !b.sel[w] {
			return
		}
		if len(ss) < b.cfg.reps {
			b.note(w, "%s: peer gofakes3 (s3mem in memory, httptest, same SDK client): no figure: %v", c.label, err)
			return
		}
		mbs := float64(total) / 1e6 / best(ss).d.Seconds()
		cellarHTTP := float64(total) / 1e6
		if r, ok := b.rows[w+" "+c.label]; ok {
			fmt.Sscan(r.cellar, &cellarHTTP)
		}
		b.note(w, "%s: peer gofakes3 (s3mem in memory, httptest, same SDK client): %.1f MB/s, cellar-HTTP/peer %.2f; %s",
			c.label, mbs, cellarHTTP/mbs, describe(ss))
	}
	peerNote(wS3Put, puts)
	peerNote(wS3Get, gets)
}

var drainBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// drain reads r to its end in reads of up to 256 KiB, as a client
// streaming a large object to a file would, and returns the bytes read.
// Every GET row, over HTTP and through the Go API, reads this way:
// io.Copy into io.Discard would read 8 KiB at a time, which costs an
// HTTP client a system call (and the SDK a checksum update) per 8 KiB.
func drain(r io.Reader) (int64, error) {
	bufp := drainBufs.Get().(*[]byte)
	defer drainBufs.Put(bufp)
	var n int64
	for {
		m, err := r.Read(*bufp)
		n += int64(m)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
