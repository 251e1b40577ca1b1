//go:build unix

package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cellarhq/cellar/s3api/sigv4"
)

// TestServe builds the cellar binary once and runs "cellar serve" as a
// separate process, as an operator would, in each subtest.
func TestServe(t *testing.T) {
	bin := buildCellar(t)
	t.Run("memory", func(t *testing.T) { testServeMemory(t, bin) })
	t.Run("dir-restart", func(t *testing.T) { testServeDirRestart(t, bin) })
	t.Run("tls-generated-credentials", func(t *testing.T) { testServeTLS(t, bin) })
}

// buildCellar builds this command into a temporary directory.
func buildCellar(t *testing.T) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goCmd = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "cellar")
	start := time.Now()
	out, err := exec.Command(goCmd, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built %s in %v", bin, time.Since(start).Round(time.Millisecond))
	return bin
}

// serveProc is a running "cellar serve".
type serveProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	url    string
	stderr *syncBuffer
	stdout *syncBuffer
	done   chan struct{} // closed when the process has exited
	err    error         // Wait's result, once done
}

// testEnv is the test's environment without the variables serve reads.
func testEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envAccessKey+"=") && !strings.HasPrefix(kv, envSecretKey+"=") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

const (
	testAccessKey = "TESTACCESSKEY0000001"
	testSecretKey = "test/secret+key0000000000000000000000001"
)

var testCreds = []string{envAccessKey + "=" + testAccessKey, envSecretKey + "=" + testSecretKey}

// startServe starts bin serve with args and waits for the line that gives
// its URL.
func startServe(t *testing.T, bin string, env []string, args ...string) *serveProc {
	t.Helper()
	p := &serveProc{t: t, stderr: &syncBuffer{}, stdout: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"serve"}, args...)...)
	p.cmd.Env = env
	p.cmd.Stdout = p.stdout
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("serve %q stdout:\n%s\nstderr:\n%s", args, p.stdout.String(), p.stderr.String())
		}
	})
	deadline := time.After(30 * time.Second)
	for {
		if line, ok := strings.CutPrefix(firstLine(p.stdout.String(), serveListening), serveListening); ok {
			p.url = line
			return p
		}
		select {
		case <-p.done:
			t.Fatalf("serve exited before listening: %v\nstderr:\n%s", p.err, p.stderr.String())
		case <-deadline:
			t.Fatalf("serve printed no URL in 30s\nstderr:\n%s", p.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// firstLine returns the first complete line of s that starts with prefix.
func firstLine(s, prefix string) string {
	for line := range strings.Lines(s) {
		if strings.HasPrefix(line, prefix) && strings.HasSuffix(line, "\n") {
			return strings.TrimSuffix(line, "\n")
		}
	}
	return ""
}

// signal sends sig to the process.
func (p *serveProc) signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %v: %v", sig, err)
	}
}

// wait waits for the process to exit and fails the test unless it exits
// with status 0.
func (p *serveProc) wait() {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.t.Fatalf("serve did not exit within 30s of the signal")
	}
	if p.err != nil {
		p.t.Fatalf("serve exited with %v; want status 0", p.err)
	}
}

// waitStderr waits until stderr contains s.
func (p *serveProc) waitStderr(s string) {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(p.stderr.String(), s) {
		if time.Now().After(deadline) {
			p.t.Fatalf("stderr never showed %q:\n%s", s, p.stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// s3Client sends SigV4-signed requests.
type s3Client struct {
	t     *testing.T
	hc    *http.Client
	base  string
	creds sigv4.Credentials
}

// do sends a request signed with the payload's SHA-256 and returns the
// response with its body read.
func (c *s3Client) do(method, path string, body []byte) (*http.Response, []byte) {
	c.t.Helper()
	resp, b, err := c.try(method, path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp, b
}

// try is do for any goroutine: it returns errors instead of failing.
func (c *s3Client) try(method, path string, body []byte) (*http.Response, []byte, error) {
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	sum := sha256.Sum256(body)
	if err := sigv4.SignRequest(req, c.creds, "us-east-1", time.Now(), hex.EncodeToString(sum[:])); err != nil {
		return nil, nil, fmt.Errorf("sign %s %s: %w", method, path, err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: reading body: %w", method, path, err)
	}
	return resp, b, nil
}

func (c *s3Client) send(req *http.Request) (*http.Response, []byte) {
	c.t.Helper()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	return resp, b
}

// must sends a signed request and fails the test unless it gets want.
func (c *s3Client) must(want int, method, path string, body []byte) (*http.Response, []byte) {
	c.t.Helper()
	resp, b := c.do(method, path, body)
	if resp.StatusCode != want {
		c.t.Fatalf("%s %s: %s: %s; want %d", method, path, resp.Status, b, want)
	}
	return resp, b
}

func checkHealth(t *testing.T, hc *http.Client, base string) {
	t.Helper()
	resp, err := hc.Get(base + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(b)) != "ok" {
		t.Fatalf("GET /healthz: %s %q; want 200 ok", resp.Status, b)
	}
}

func testBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func quotedMD5(b []byte) string {
	s := md5.Sum(b)
	return `"` + hex.EncodeToString(s[:]) + `"`
}

// gatedBody gives its first part, then blocks until gate closes before
// giving the rest: an upload still in flight.
type gatedBody struct {
	first, rest []byte
	sentFirst   chan struct{} // closed once the first part has been read
	gate        chan struct{}
	once        sync.Once
}

func (b *gatedBody) Read(p []byte) (int, error) {
	if len(b.first) > 0 {
		n := copy(p, b.first)
		b.first = b.first[n:]
		return n, nil
	}
	b.once.Do(func() { close(b.sentFirst) })
	<-b.gate
	if len(b.rest) == 0 {
		return 0, io.EOF
	}
	n := copy(p, b.rest)
	b.rest = b.rest[n:]
	return n, nil
}

func testServeMemory(t *testing.T, bin string) {
	p := startServe(t, bin, testEnv(testCreds...), "--memory", "--addr", "127.0.0.1:0")
	if !strings.HasPrefix(p.url, "http://127.0.0.1:") || strings.HasSuffix(p.url, ":0") {
		t.Fatalf("URL %q: want http://127.0.0.1:<a real port>", p.url)
	}
	hc := &http.Client{Transport: &http.Transport{}}
	checkHealth(t, hc, p.url)
	c := &s3Client{t: t, hc: hc, base: p.url, creds: sigv4.Credentials{AccessKey: testAccessKey, SecretKey: testSecretKey}}

	c.must(http.StatusOK, http.MethodPut, "/photos", nil)
	body := testBytes(100_000)
	resp, _ := c.must(http.StatusOK, http.MethodPut, "/photos/a%20cat.jpg", body)
	if resp.Header.Get("ETag") != quotedMD5(body) {
		t.Errorf("PUT: ETag %s; want %s", resp.Header.Get("ETag"), quotedMD5(body))
	}
	putID := resp.Header.Get("X-Amz-Request-Id")
	_, got := c.must(http.StatusOK, http.MethodGet, "/photos/a%20cat.jpg", nil)
	if !bytes.Equal(got, body) {
		t.Errorf("GET: %d bytes differ from the %d put", len(got), len(body))
	}
	// Unsigned, and signed with the wrong secret: refused.
	resp, _ = c.send(mustNewRequest(t, http.MethodGet, p.url+"/photos/a%20cat.jpg", nil))
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("unsigned GET: %s; want 403", resp.Status)
	}
	bad := &s3Client{t: t, hc: hc, base: p.url, creds: sigv4.Credentials{AccessKey: testAccessKey, SecretKey: "wrong"}}
	if resp, _ := bad.do(http.MethodGet, "/photos/a%20cat.jpg", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET with a wrong secret: %s; want 403", resp.Status)
	}

	// The request log has a line per request, with the S3 request ID.
	p.waitStderr("request_id=" + putID)
	re := regexp.MustCompile(`msg=request method=PUT path=/photos/a%20cat.jpg status=200 bytes=0 bytes_in=100000 duration=\S+ request_id=` + putID)
	if !re.MatchString(p.stderr.String()) {
		t.Errorf("no request log line matching %s in stderr:\n%s", re, p.stderr.String())
	}

	// SIGTERM while an upload is in flight: the upload completes, new
	// connections are refused, and serve exits 0.
	payload := testBytes(512 << 10)
	gb := &gatedBody{first: payload[:200<<10], rest: payload[200<<10:], sentFirst: make(chan struct{}), gate: make(chan struct{})}
	req := mustNewRequest(t, http.MethodPut, p.url+"/photos/slow", io.NopCloser(gb))
	req.ContentLength = int64(len(payload))
	sum := sha256.Sum256(payload)
	if err := sigv4.SignRequest(req, c.creds, "us-east-1", time.Now(), hex.EncodeToString(sum[:])); err != nil {
		t.Fatal(err)
	}
	type result struct {
		resp *http.Response
		body []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		// A connection of its own: Shutdown closes idle keep-alive
		// connections at once, and one being reused could still count as
		// idle; a new one counts as idle only after 5 seconds.
		fresh := &http.Client{Transport: &http.Transport{}}
		resp, err := fresh.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- result{resp, b, err}
	}()
	select {
	case <-gb.sentFirst:
	case r := <-done:
		t.Fatalf("slow upload ended before its body was sent: %v", r.err)
	}
	hc.CloseIdleConnections() // see TestServeInProcess
	p.signal(syscall.SIGTERM)
	p.waitStderr("shutting down")
	host := strings.TrimPrefix(p.url, "http://")
	for deadline := time.Now().Add(10 * time.Second); ; {
		conn, err := net.DialTimeout("tcp", host, time.Second)
		if err != nil {
			break // the listener is closed
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatalf("serve still accepts connections 10s after SIGTERM")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case <-p.done:
		t.Fatalf("serve exited with an upload in flight: %v", p.err)
	default:
	}
	close(gb.gate)
	r := <-done
	if r.err != nil {
		t.Fatalf("upload in flight during shutdown: %v", r.err)
	}
	if r.resp.StatusCode != http.StatusOK || r.resp.Header.Get("ETag") != quotedMD5(payload) {
		t.Errorf("upload in flight during shutdown: %s, ETag %s: %s; want 200, %s", r.resp.Status, r.resp.Header.Get("ETag"), r.body, quotedMD5(payload))
	}
	p.wait()
	if !strings.Contains(p.stderr.String(), "msg=stopped") {
		t.Errorf("stderr lacks the stopped line:\n%s", p.stderr.String())
	}
}

func mustNewRequest(t *testing.T, method, u string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func testServeDirRestart(t *testing.T, bin string) {
	dir := filepath.Join(t.TempDir(), "data")
	env := testEnv(testCreds...)
	creds := sigv4.Credentials{AccessKey: testAccessKey, SecretKey: testSecretKey}
	hc := &http.Client{Transport: &http.Transport{}}
	body := testBytes(3<<20 + 5) // several erasure blocks

	p := startServe(t, bin, env, "--dir", dir, "--addr", "127.0.0.1:0")
	c := &s3Client{t: t, hc: hc, base: p.url, creds: creds}
	c.must(http.StatusOK, http.MethodPut, "/keep", nil)
	c.must(http.StatusOK, http.MethodPut, "/keep/dir/object", body)
	hc.CloseIdleConnections() // see TestServeInProcess
	p.signal(os.Interrupt)
	p.wait()
	for _, sub := range []string{"index", "az1", "az2", "az3"} {
		if fi, err := os.Stat(filepath.Join(dir, sub)); err != nil || !fi.IsDir() {
			t.Errorf("%s: %v; want the embedded default layout", filepath.Join(dir, sub), err)
		}
	}

	p = startServe(t, bin, env, "--dir", dir, "--addr", "127.0.0.1:0")
	c = &s3Client{t: t, hc: hc, base: p.url, creds: creds}
	checkHealth(t, hc, p.url)
	_, got := c.must(http.StatusOK, http.MethodGet, "/keep/dir/object", nil)
	if !bytes.Equal(got, body) {
		t.Errorf("after restart: %d bytes, not the %d put", len(got), len(body))
	}
	_, list := c.must(http.StatusOK, http.MethodGet, "/keep?list-type=2", nil)
	if !strings.Contains(string(list), "<Key>dir/object</Key>") {
		t.Errorf("after restart, the listing lacks dir/object:\n%s", list)
	}
	hc.CloseIdleConnections()
	p.signal(syscall.SIGTERM)
	p.wait()
}

func testServeTLS(t *testing.T, bin string) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSignedCert(t, dir)
	p := startServe(t, bin, testEnv(), "--memory", "--addr", "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", keyFile, "--region", "eu-west-3")
	if !strings.HasPrefix(p.url, "https://127.0.0.1:") {
		t.Fatalf("URL %q: want https://127.0.0.1:PORT", p.url)
	}
	// No CELLAR_* variables: a pair was made up and printed once. Stderr
	// is copied from its own pipe, so it may lag the URL on stdout.
	stderr := p.stderr.String()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(stderr, "  secret key: ") && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		stderr = p.stderr.String()
	}
	ak := regexp.MustCompile(`(?m)^  access key: (\S+)$`).FindAllStringSubmatch(stderr, -1)
	sk := regexp.MustCompile(`(?m)^  secret key: (\S+)$`).FindAllStringSubmatch(stderr, -1)
	if len(ak) != 1 || len(sk) != 1 || len(ak[0][1]) != 20 || len(sk[0][1]) != 40 {
		t.Fatalf("want one generated access key (20 chars) and secret (40 chars) in stderr:\n%s", stderr)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	checkHealth(t, hc, p.url)
	creds := sigv4.Credentials{AccessKey: ak[0][1], SecretKey: sk[0][1]}
	req := mustNewRequest(t, http.MethodPut, p.url+"/secure", nil)
	if err := sigv4.SignRequest(req, creds, "eu-west-3", time.Now(), sigv4.UnsignedPayload); err != nil {
		t.Fatal(err)
	}
	c := &s3Client{t: t, hc: hc, base: p.url, creds: creds}
	if resp, b := c.send(req); resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT bucket with the generated credentials over TLS: %s: %s", resp.Status, b)
	}
	// Signed for the wrong region: refused.
	if resp, _ := c.do(http.MethodGet, "/secure?list-type=2", nil); resp.StatusCode == http.StatusOK {
		t.Errorf("request signed for us-east-1 on an eu-west-3 server: %s; want an error", resp.Status)
	}
	hc.CloseIdleConnections()
	p.signal(syscall.SIGTERM)
	p.wait()
}

// selfSignedCert writes a certificate and key for 127.0.0.1 into dir.
func selfSignedCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "cellar test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestServeFlags checks the command lines serve refuses, in process.
func TestServeFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve"}, "one of --dir or --memory is required"},
		{[]string{"serve", "--memory", "--dir", "x"}, "--dir and --memory exclude each other"},
		{[]string{"serve", "--memory", "--tls-cert", "c.pem"}, "--tls-cert and --tls-key go together"},
		{[]string{"serve", "--memory", "--region", ""}, "--region must not be empty"},
		{[]string{"serve", "--memory", "extra"}, `unexpected argument "extra"`},
		{[]string{"serve", "--memory", "--log-format", "xml"}, "--log-format"},
		{[]string{"serve", "--memory", "--shutdown-timeout", "0s"}, "--shutdown-timeout must be positive"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), tc.args, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%q: status %d, stderr %q; want %d and %q", tc.args, code, stderr.String(), exitUsage, tc.want)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"help", "serve"}, &stdout, &stderr); code != exitOK || !strings.Contains(stdout.String(), "--tls-cert") {
		t.Errorf("cellar help serve: status %d, stdout %q", code, stdout.String())
	}
	// Only one of the credential variables is a configuration error.
	t.Setenv(envAccessKey, "AK")
	t.Setenv(envSecretKey, "")
	stderr.Reset()
	if code := run(context.Background(), []string{"serve", "--memory"}, &stdout, &stderr); code != exitError || !strings.Contains(stderr.String(), envSecretKey) {
		t.Errorf("only %s set: status %d, stderr %q; want %d naming %s", envAccessKey, code, stderr.String(), exitError, envSecretKey)
	}
}

// TestServeInProcess runs the serve command in this process (under the
// race detector when the tests are) and stops it by cancelling its
// context, as a signal does.
func TestServeInProcess(t *testing.T) {
	t.Setenv(envAccessKey, testAccessKey)
	t.Setenv(envSecretKey, testSecretKey)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	exited := make(chan int, 1)
	go func() {
		exited <- run(ctx, []string{"serve", "--memory", "--addr", "127.0.0.1:0", "--log-format", "json", "--base-domain", "s3.test"}, stdout, stderr)
	}()
	var base string
	for deadline := time.Now().Add(20 * time.Second); base == ""; {
		if l := firstLine(stdout.String(), serveListening); l != "" {
			base = strings.TrimPrefix(l, serveListening)
		} else if time.Now().After(deadline) {
			t.Fatalf("no URL line; stderr:\n%s", stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	hc := &http.Client{Transport: &http.Transport{}}
	checkHealth(t, hc, base)
	c := &s3Client{t: t, hc: hc, base: base, creds: sigv4.Credentials{AccessKey: testAccessKey, SecretKey: testSecretKey}}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			// c.try, not c.must: t.Fatal belongs to the test's goroutine.
			bucket := fmt.Sprintf("/bucket%d", i)
			for _, put := range []struct {
				path string
				body []byte
			}{{bucket, nil}, {bucket + "/key", []byte("value")}} {
				resp, b, err := c.try(http.MethodPut, put.path, put.body)
				if err != nil {
					t.Error(err)
					return
				}
				if resp.StatusCode != http.StatusOK {
					t.Errorf("PUT %s: %s: %s", put.path, resp.Status, b)
				}
			}
		})
	}
	wg.Wait()
	// --base-domain: bucket0.s3.test addresses bucket0, virtual-hosted style.
	req := mustNewRequest(t, http.MethodGet, base+"/key", nil)
	req.Host = "bucket0.s3.test:" + req.URL.Port()
	if err := sigv4.SignRequest(req, c.creds, "us-east-1", time.Now(), sigv4.UnsignedPayload); err != nil {
		t.Fatal(err)
	}
	if resp, b := c.send(req); resp.StatusCode != http.StatusOK || string(b) != "value" {
		t.Errorf("virtual-hosted GET bucket0.s3.test/key: %s %q; want 200 value", resp.Status, b)
	}
	// A connection the transport dialed but never used is new to the
	// server, and Shutdown gives such a connection 5 seconds to send a
	// request: close them first to keep the test fast.
	hc.CloseIdleConnections()
	cancel()
	select {
	case code := <-exited:
		if code != exitOK {
			t.Fatalf("serve returned status %d; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not return after its context was cancelled")
	}
	if n := strings.Count(stderr.String(), `"msg":"request"`); n != 10 {
		t.Errorf("%d JSON request log lines; want 10:\n%s", n, stderr.String())
	}
}

// TestHealthAndLogMiddleware checks which requests /healthz takes and what
// the request log records.
func TestHealthAndLogMiddleware(t *testing.T) {
	var logs syncBuffer
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Amz-Request-Id", "S3ID")
		w.WriteHeader(http.StatusTeapot)
		fmt.Fprintf(w, "s3:%s", b)
	})
	h := logRequests(slog.New(slog.NewTextHandler(&logs, nil)), withHealth(next))
	for _, tc := range []struct {
		method, target string
		auth           bool
		want           string
	}{
		{"GET", "/healthz", false, "ok\n"},
		{"HEAD", "/healthz", false, ""},
		{"GET", "/healthz?list-type=2", false, "s3:"},
		{"GET", "/healthz", true, "s3:"},
		{"POST", "/healthz", false, "s3:x"},
		{"GET", "/healthz/key", false, "s3:"},
	} {
		var body io.Reader
		if tc.method == "POST" {
			body = strings.NewReader("x")
		}
		req := httptest.NewRequest(tc.method, tc.target, body)
		if tc.auth {
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 ...")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Body.String() != tc.want {
			t.Errorf("%s %s (auth %v): %q; want %q", tc.method, tc.target, tc.auth, rec.Body.String(), tc.want)
		}
		if rec.Header().Get("X-Amz-Request-Id") == "" {
			t.Errorf("%s %s: no request ID", tc.method, tc.target)
		}
	}
	out := logs.String()
	for _, want := range []string{
		`method=GET path=/healthz status=200 bytes=3 bytes_in=0`,
		`method=POST path=/healthz status=418 bytes=4 bytes_in=1 duration=`,
		`request_id=S3ID`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "list-type") {
		t.Errorf("log shows a query string:\n%s", out)
	}

	// A handler that panics is logged as aborted, not as a 200.
	logs = syncBuffer{}
	aborting := logRequests(slog.New(slog.NewTextHandler(&logs, nil)), http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic(http.ErrAbortHandler)
	}))
	func() {
		defer func() { recover() }()
		aborting.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/b/k", nil))
	}()
	if out := logs.String(); !strings.Contains(out, `level=ERROR msg="request aborted" method=GET path=/b/k status=0`) {
		t.Errorf("log of a panicking handler:\n%s", out)
	}
}
