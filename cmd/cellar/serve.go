package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/cellarhq/cellar"
	"github.com/cellarhq/cellar/s3api"
)

// Environment variables holding the one credential pair serve accepts.
const (
	envAccessKey = "CELLAR_ACCESS_KEY"
	envSecretKey = "CELLAR_SECRET_KEY"
)

// healthPath answers 200 "ok" to an unsigned GET or HEAD without a query,
// ahead of the S3 handler.
const healthPath = "/healthz"

// serveListening starts the line that gives the URL on stdout, once the
// listener is up.
const serveListening = "cellar serve: listening on "

// serveConfig is the serve command line.
type serveConfig struct {
	dir             string
	memory          bool
	addr            string
	tlsCert         string
	tlsKey          string
	region          string
	baseDomain      string
	shutdownTimeout time.Duration
	logFormat       string
}

func parseServeFlags(args []string, stderr io.Writer) (*serveConfig, error) {
	c := &serveConfig{}
	flags := flag.NewFlagSet("serve", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.StringVar(&c.dir, "dir", "", "serve the embedded default store in `directory` (created if missing)")
	flags.BoolVar(&c.memory, "memory", false, "serve an in-memory store, lost on exit")
	flags.StringVar(&c.addr, "addr", "127.0.0.1:9000", "listen on `host:port`; port 0 picks a free one")
	flags.StringVar(&c.tlsCert, "tls-cert", "", "serve HTTPS with the PEM certificate (chain) in `file`; needs --tls-key")
	flags.StringVar(&c.tlsKey, "tls-key", "", "PEM private key of --tls-cert, in `file`")
	flags.StringVar(&c.region, "region", s3api.DefaultRegion, "region requests must be signed for")
	flags.StringVar(&c.baseDomain, "base-domain", "", "accept virtual-hosted-style requests to BUCKET.`domain` as well as path-style ones")
	flags.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 30*time.Second, "on SIGINT or SIGTERM, how long requests in flight may take to finish")
	flags.StringVar(&c.logFormat, "log-format", "text", "request log format on stderr: text or json")
	flags.Usage = func() { serveUsage(flags) }
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, errUsageShown
	}
	switch {
	case flags.NArg() > 0:
		return nil, &usageError{fmt.Sprintf("unexpected argument %q", flags.Arg(0))}
	case c.dir == "" && !c.memory:
		return nil, &usageError{"one of --dir or --memory is required"}
	case c.dir != "" && c.memory:
		return nil, &usageError{"--dir and --memory exclude each other"}
	case (c.tlsCert == "") != (c.tlsKey == ""):
		return nil, &usageError{"--tls-cert and --tls-key go together"}
	case c.region == "":
		return nil, &usageError{"--region must not be empty"}
	case c.shutdownTimeout <= 0:
		return nil, &usageError{"--shutdown-timeout must be positive"}
	case c.logFormat != "text" && c.logFormat != "json":
		return nil, &usageError{fmt.Sprintf("--log-format %q: want text or json", c.logFormat)}
	}
	return c, nil
}

func serveUsage(flags *flag.FlagSet) {
	w := flags.Output()
	fmt.Fprint(w, `Usage: cellar serve (--dir D | --memory) [flags]

Serve serves the S3 REST API over a cellar store until SIGINT or SIGTERM,
then lets requests in flight finish and closes the store. Clients sign
with the credentials in CELLAR_ACCESS_KEY and CELLAR_SECRET_KEY; if both
are unset, serve makes up a pair and prints it once on stderr. GET
/healthz answers 200 "ok" without a signature. Each request is logged on
stderr.

Flags:
`)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	flags.VisitAll(func(f *flag.Flag) {
		name, use := flag.UnquoteUsage(f)
		def := ""
		if f.DefValue != "" && f.DefValue != "false" {
			def = " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(tw, "  --%s %s\t%s%s\n", f.Name, name, use, def)
	})
	tw.Flush()
}

// runServe is the serve command:
//
//	cellar serve (--dir D | --memory) [--addr 127.0.0.1:9000] [--tls-cert F --tls-key F]
//	             [--region us-east-1] [--base-domain D] [--shutdown-timeout 30s] [--log-format text]
//
// It opens the embedded default store in D (cellar.Open with Dir: D) or
// an in-memory one, and serves s3api over it. Clients sign with the pair
// in CELLAR_ACCESS_KEY and CELLAR_SECRET_KEY; with neither set, serve makes
// up a pair (crypto/rand) and prints it once on stderr; with only one set
// it refuses to start. Once listening it prints "cellar serve: listening on
// URL" on stdout, with the real port when --addr asks for port 0 and the
// loopback address when it names all interfaces.
//
// GET or HEAD /healthz with no query and no Authorization header answers
// 200 "ok" ahead of the S3 handler; anything else goes to S3 (a bucket may
// be called healthz). Every request is logged on stderr after it is
// answered, with its method, path (never the query, which may hold a
// presigned signature), status, bytes written and read, duration and the
// x-amz-request-id the client saw.
//
// The first SIGINT or SIGTERM (ctx's cancellation) closes the listener and
// lets requests in flight finish, for up to --shutdown-timeout; a second
// signal, or the timeout, cuts them off and makes the exit status 1. A
// connection that has not sent its first request yet holds the shutdown
// for at most 5 seconds (net/http's rule). Then the store is closed, and
// serve exits 0.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseServeFlags(args, stderr)
	if err != nil {
		return err
	}
	accessKey, secretKey, generated, err := serveCredentials()
	if err != nil {
		return err
	}
	var tlsConfig *tls.Config
	if cfg.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.tlsCert, cfg.tlsKey)
		if err != nil {
			return fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}

	var lh slog.Handler = slog.NewTextHandler(stderr, nil)
	if cfg.logFormat == "json" {
		lh = slog.NewJSONHandler(stderr, nil)
	}
	log := slog.New(lh)

	var store *cellar.Store
	if cfg.memory {
		store, err = cellar.OpenMemory(ctx, &cellar.Options{Logger: log})
	} else {
		store, err = cellar.Open(ctx, &cellar.Options{Dir: cfg.dir, Logger: log})
	}
	if err != nil {
		return err
	}
	closeStore := func() error {
		if err := store.Close(); err != nil {
			return fmt.Errorf("close store: %w", err)
		}
		return nil
	}

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return errors.Join(err, closeStore())
	}
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
	}
	url := scheme + "://" + displayAddr(ln.Addr())

	if generated {
		fmt.Fprintf(stderr, "cellar serve: %s and %s are not set; this run accepts only:\n  access key: %s\n  secret key: %s\n",
			envAccessKey, envSecretKey, accessKey, secretKey)
	}
	h := s3api.New(store, &s3api.Options{
		Credentials: map[string]string{accessKey: secretKey},
		Region:      cfg.region,
		BaseDomain:  cfg.baseDomain,
		Logger:      log,
	})
	srv := &http.Server{
		Handler:           logRequests(log, withHealth(h)),
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(lh, slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() {
		if tlsConfig != nil {
			served <- srv.ServeTLS(ln, "", "")
		} else {
			served <- srv.Serve(ln)
		}
	}()
	storeDesc := "memory (lost on exit)"
	if !cfg.memory {
		storeDesc = cfg.dir
	}
	log.Info("serving", "url", url, "store", storeDesc, "region", cfg.region, "base_domain", cfg.baseDomain)
	fmt.Fprintln(stdout, serveListening+url)

	select {
	case err := <-served:
		// The listener failed before any signal.
		return errors.Join(fmt.Errorf("serve: %w", err), closeStore())
	case <-ctx.Done():
	}

	// A second signal cuts the grace period short.
	again := make(chan os.Signal, 1)
	signal.Notify(again, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(again)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	go func() {
		select {
		case <-again:
			log.Warn("second signal: closing connections now")
			cancel()
		case <-sctx.Done():
		}
	}()
	log.Info("shutting down: no new connections; waiting for requests in flight", "timeout", cfg.shutdownTimeout)
	var errs []error
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		errs = append(errs, fmt.Errorf("shutdown: requests in flight cut off: %w", err))
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		errs = append(errs, fmt.Errorf("serve: %w", err))
	}
	errs = append(errs, closeStore())
	if err := errors.Join(errs...); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

// serveCredentials returns the credential pair from the environment, or a
// random one (generated true) if neither variable is set.
func serveCredentials() (accessKey, secretKey string, generated bool, err error) {
	accessKey, secretKey = os.Getenv(envAccessKey), os.Getenv(envSecretKey)
	switch {
	case accessKey != "" && secretKey != "":
		return accessKey, secretKey, false, nil
	case accessKey != "" || secretKey != "":
		return "", "", false, fmt.Errorf("set both %s and %s, or neither to have a pair made up", envAccessKey, envSecretKey)
	}
	return randomKey(accessKeyChars, 20), randomKey(secretKeyChars, 40), true, nil
}

const (
	accessKeyChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	secretKeyChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

// randomKey returns n characters of chars drawn with crypto/rand;
// len(chars) divides 256, so each is equally likely.
func randomKey(chars string, n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = chars[int(b[i])%len(chars)]
	}
	return string(b)
}

// displayAddr is a listener's address as a client would dial it: an
// unspecified IP (all interfaces) becomes the loopback address.
func displayAddr(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip := ta.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(ta.Port))
}

// withHealth answers an unsigned GET or HEAD of /healthz with no query
// with 200 "ok", and passes every other request to next. A signed request
// or one with a query is S3's (a bucket may be called healthz).
func withHealth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == healthPath && r.URL.RawQuery == "" && r.Header.Get("Authorization") == "" &&
			(r.Method == http.MethodGet || r.Method == http.MethodHead) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Content-Length", "3")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusOK)
			if r.Method == http.MethodGet {
				io.WriteString(w, "ok\n")
			}
			return
		}
		next.ServeHTTP(w, r)
	})
}

// logRequests logs one line per request after it is answered: method,
// path (never the query, which may hold a presigned URL's signature),
// status, bytes written and read, duration, and the request ID, which
// the S3 handler sets in x-amz-request-id (logRequests sets one first,
// for requests the S3 handler does not see).
func logRequests(log *slog.Logger, next http.Handler) http.Handler {
	var b [8]byte
	rand.Read(b[:])
	base := binary.BigEndian.Uint64(b[:])
	var seq atomic.Uint64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		w.Header().Set("X-Amz-Request-Id", fmt.Sprintf("%016X", base+seq.Add(1)))
		rw := &statusWriter{ResponseWriter: w}
		body := &countingBody{ReadCloser: r.Body}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = body
		}
		returned := false
		defer func() {
			status := rw.status
			level := slog.LevelInfo
			msg := "request"
			switch {
			case !returned:
				// The handler panicked (http.ErrAbortHandler included):
				// net/http cuts the connection and reports the panic.
				level, msg = slog.LevelError, "request aborted"
			case status == 0:
				status = http.StatusOK // nothing written: net/http answers 200
			case status >= 500:
				level = slog.LevelWarn
			}
			log.LogAttrs(r.Context(), level, msg,
				slog.String("method", r.Method),
				slog.String("path", r.URL.EscapedPath()),
				slog.Int("status", status),
				slog.Int64("bytes", rw.bytes),
				slog.Int64("bytes_in", body.n.Load()),
				slog.Duration("duration", time.Since(start)),
				slog.String("request_id", w.Header().Get("X-Amz-Request-Id")),
				slog.String("remote", r.RemoteAddr),
			)
		}()
		next.ServeHTTP(rw, r)
		returned = true
	})
}

// statusWriter records the status and the body bytes of a response. It
// passes Flush through, and Unwrap lets http.ResponseController reach the
// connection's other controls.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// countingBody counts the request body bytes the handler read.
type countingBody struct {
	io.ReadCloser
	n atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}
