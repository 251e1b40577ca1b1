package cellartest

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/cellarhq/cellar"
	"github.com/cellarhq/cellar/s3api"
)

// DefaultRegion is the region a Server signs for unless Options.Region
// says otherwise.
const DefaultRegion = "us-east-1"

// Options configure NewServer. A nil *Options is the zero value: plain
// HTTP, region us-east-1, random credentials, the default in-memory store.
type Options struct {
	// TLS serves HTTPS with a self-signed certificate for 127.0.0.1,
	// ::1 and example.com, which Server.Client trusts. The AWS SDKs send
	// aws-chunked bodies with checksum trailers only over TLS, so a test
	// that wants what a client does against real S3 sets it.
	TLS bool

	// Region is the region the server accepts signatures for. Empty means
	// DefaultRegion.
	Region string

	// AccessKey and SecretKey are the one credential pair the server
	// accepts. Empty fields are filled with random values (both, or the
	// one missing).
	AccessKey, SecretKey string

	// StoreOptions configure the in-memory store (cellar.OpenMemory); nil
	// is the embedded default held in memory. Set BlockSize to a small
	// value to exercise multi-block objects with small bodies, or Clock to
	// move time. NewServer clones them.
	StoreOptions *cellar.Options

	// Logger receives the store's and the handler's logs. Nil discards
	// them. (A logger writing to t.Log would outlive the test: the
	// cleanup runs after it.)
	Logger *slog.Logger
}

// Server is an S3 endpoint backed by an in-memory cellar store, listening
// on a loopback port. Its exported fields are what a client needs; they
// must not be changed.
type Server struct {
	// URL is the base URL, "http://127.0.0.1:PORT" or "https://...", with
	// no trailing slash. Use it as a client's endpoint with path-style
	// addressing.
	URL string

	// Region, AccessKey and SecretKey are what a client signs with.
	Region    string
	AccessKey string
	SecretKey string

	// Store is the store behind the endpoint, for setting up or checking
	// state directly from Go.
	Store *cellar.Store

	ts        *httptest.Server
	closeOnce sync.Once
	closeErr  error
}

// NewServer starts a Server for a test and registers its Close with
// t.Cleanup. It fails the test with t.Fatal if the server cannot start.
func NewServer(t testing.TB, opts *Options) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.close(); err != nil {
			t.Errorf("cellartest: close store: %v", err)
		}
	})
	return s
}

// Start starts a Server outside a test (an example, a main program, a
// TestMain). The caller must Close it.
func Start(opts *Options) (*Server, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Region == "" {
		o.Region = DefaultRegion
	}
	if o.AccessKey == "" {
		o.AccessKey = randomString(accessKeyAlphabet, 20)
	}
	if o.SecretKey == "" {
		o.SecretKey = randomString(secretKeyAlphabet, 40)
	}
	var so cellar.Options
	if o.StoreOptions != nil {
		so = *o.StoreOptions // OpenMemory clones it again; this copy only adds the logger
	}
	if so.Logger == nil {
		so.Logger = o.Logger
	}
	if so.Logger == nil {
		so.Logger = slog.New(slog.DiscardHandler) // the index would log to slog.Default
	}
	st, err := cellar.OpenMemory(context.Background(), &so)
	if err != nil {
		return nil, fmt.Errorf("cellartest: open in-memory store: %w", err)
	}
	h := s3api.New(st, &s3api.Options{
		Credentials: map[string]string{o.AccessKey: o.SecretKey},
		Region:      o.Region,
		Logger:      o.Logger,
		// No Clock: clients sign with the real time, whatever the store's
		// clock says, so the handler checks signatures against it too.
	})
	ts := httptest.NewUnstartedServer(h)
	if o.TLS {
		ts.StartTLS()
	} else {
		ts.Start()
	}
	return &Server{
		URL:       ts.URL,
		Region:    o.Region,
		AccessKey: o.AccessKey,
		SecretKey: o.SecretKey,
		Store:     st,
		ts:        ts,
	}, nil
}

// Client returns an HTTP client that trusts the server's certificate (with
// TLS) and whose idle connections Close shuts. Pass it to an SDK as its
// HTTP client.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// Close shuts the listener, waits for requests in flight, and closes the
// store. It is safe to call more than once; NewServer registers it with
// t.Cleanup, so most tests never call it. A test that calls it early, to
// see how a client copes with a server gone, still has the error of
// closing the store reported at cleanup.
func (s *Server) Close() { s.close() }

func (s *Server) close() error {
	s.closeOnce.Do(func() {
		s.ts.Close()
		s.closeErr = s.Store.Close()
	})
	return s.closeErr
}

const (
	accessKeyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	secretKeyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

// randomString returns n characters of alphabet drawn with crypto/rand.
// len(alphabet) must divide 256, so that every character is equally
// likely.
func randomString(alphabet string, n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
