package s3api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cellarhq/cellar"
	"github.com/cellarhq/cellar/s3api/sigv4"
)

// DefaultRegion is the region of a handler whose Options give none.
const DefaultRegion = "us-east-1"

// serverName is the Server header of every response.
const serverName = "cellar"

// Options configure New. A nil *Options is the zero value: no credentials
// (so every request fails unless AllowAnonymous), region us-east-1,
// path-style requests only.
type Options struct {
	// Credentials maps each access key ID to its secret access key. Every
	// key is a user of the same account: the store has no bucket owners or
	// ACLs, so each sees and may change every bucket.
	Credentials map[string]string
	// Region is the region requests must be signed for and buckets are
	// created in. Empty means us-east-1.
	Region string
	// BaseDomain, if set, enables virtual-hosted-style requests: a request
	// whose Host is "BUCKET.BaseDomain" (any port) addresses BUCKET, and its
	// path is the key. Requests to any other host are path-style.
	BaseDomain string
	// Logger receives a line per failed request (Error for 5xx, Debug
	// otherwise). Nil discards logs.
	Logger *slog.Logger
	// Clock gives the time that signatures are checked against. Nil means
	// time.Now.
	Clock func() time.Time
	// AllowAnonymous lets unsigned requests in, with the rights of a signed
	// one. Without it they fail with AccessDenied.
	AllowAnonymous bool
}

// handler is the http.Handler that New returns.
type handler struct {
	store      *cellar.Store
	region     string
	baseDomain string
	log        *slog.Logger
	clock      func() time.Time
	anonymous  bool
	verifier   *sigv4.Verifier

	// Request IDs are idBase+n for the handler's nth request: unique per
	// handler, and unlikely to repeat across handlers.
	idBase uint64
	idSeq  atomic.Uint64
}

var _ http.Handler = (*handler)(nil)

// New returns an http.Handler that serves the S3 REST API over store. It
// keeps no global state; several handlers may share one store. It panics
// if store is nil.
func New(store *cellar.Store, opts *Options) http.Handler {
	if store == nil {
		panic("s3api: New with a nil *cellar.Store")
	}
	o := Options{}
	if opts != nil {
		o = *opts
	}
	if o.Region == "" {
		o.Region = DefaultRegion
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	creds := maps.Clone(o.Credentials)
	h := &handler{
		store:      store,
		region:     o.Region,
		baseDomain: normalizeHost(o.BaseDomain),
		log:        o.Logger,
		clock:      o.Clock,
		anonymous:  o.AllowAnonymous,
	}
	h.verifier = &sigv4.Verifier{
		Region: o.Region,
		Lookup: func(accessKey string) (string, bool) {
			secret, ok := creds[accessKey]
			return secret, ok
		},
		Now:     o.Clock,
		MaxSkew: sigv4.DefaultMaxSkew,
	}
	var b [8]byte
	rand.Read(b[:])
	h.idBase = binary.BigEndian.Uint64(b[:])
	return h
}

// request is one request being served: what was asked and how to answer.
type request struct {
	h           *handler
	w           http.ResponseWriter
	r           *http.Request
	ctx         context.Context
	id          string
	bucket      string
	key         string // "" for a bucket or service request
	query       url.Values
	auth        *sigv4.Result
	virtualHost bool
	// body is the verified payload (auth.Body), never nil after auth.
	body io.ReadCloser
	// wrote is set once the status line is out: errors after it can only
	// abort the connection.
	wrote bool
}

// ServeHTTP implements http.Handler.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := &request{h: h, w: w, r: r, ctx: r.Context(), id: h.newRequestID()}
	hdr := w.Header()
	hdr.Set("x-amz-request-id", q.id)
	hdr.Set("x-amz-id-2", hostID(q.id))
	hdr.Set("Server", serverName)
	q.body = r.Body
	if r.ContentLength == 0 && strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
		// net/http sends 100 Continue only when the body is read, and an
		// empty body never is. S3 always sends it, and botocore misreads
		// the next response on the connection without it.
		w.WriteHeader(http.StatusContinue)
	}
	if err := h.serve(q); err != nil {
		q.fail(err)
	}
}

func (h *handler) serve(q *request) error {
	r := q.r
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPost, http.MethodDelete:
	case http.MethodOptions:
		return errNotImplemented("CORS is not implemented", "")
	default:
		return methodNotAllowed(r.Method, "OBJECT")
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return errInvalidArgument("The query string is not valid: "+err.Error(), "", "")
	}
	q.query = query
	q.bucket, q.key, q.virtualHost = h.target(r)

	res, err := h.verifier.Verify(r)
	if err != nil {
		return err
	}
	q.auth = res
	if res.Body != nil {
		q.body = res.Body
	}
	if res.Anonymous && !h.anonymous {
		return newError("AccessDenied", "Anonymous requests are not allowed; sign the request")
	}
	if len(q.key) > cellar.MaxKeyLength {
		return newError("KeyTooLongError", "").with("Size", fmt.Sprint(len(q.key))).with("MaxSizeAllowed", fmt.Sprint(cellar.MaxKeyLength))
	}
	op, err := route(q)
	if err != nil {
		return err
	}
	return op(h, q)
}

// target finds the bucket and key a request addresses: from the Host for a
// virtual-hosted-style request, else from the first path segment.
func (h *handler) target(r *http.Request) (bucket, key string, virtual bool) {
	path := r.URL.Path
	if h.baseDomain != "" {
		host := normalizeHost(r.Host)
		if b, ok := strings.CutSuffix(host, "."+h.baseDomain); ok && b != "" {
			return b, strings.TrimPrefix(path, "/"), true
		}
	}
	path = strings.TrimPrefix(path, "/")
	bucket, key, _ = strings.Cut(path, "/")
	return bucket, key, false
}

// normalizeHost lowercases a host and drops its port and any final dot.
func normalizeHost(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.TrimSuffix(strings.ToLower(host), ".")
}

func (h *handler) newRequestID() string {
	return fmt.Sprintf("%016X", h.idBase+h.idSeq.Add(1))
}

// hostID makes the x-amz-id-2 of a request: opaque, as S3's is.
func hostID(requestID string) string {
	sum := sha256.Sum256([]byte("cellar/" + requestID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// resource is the path of the resource a request addresses, for <Error>.
func (q *request) resource() string {
	if q.virtualHost {
		return "/" + q.bucket + "/" + q.key
	}
	return q.r.URL.Path
}

// fail answers with err as S3 does: an <Error> body with the code and
// status from errorTable, or, once the status line is out, an aborted
// connection, so that a client never takes a cut-short body for a whole one.
func (q *request) fail(err error) {
	e := toError(err)
	attrs := []any{"method", q.r.Method, "path", q.r.URL.Path, "request", q.id, "code", e.Code, "status", e.Status, "err", err}
	if e.Status >= 500 {
		q.h.log.Error("s3api: request failed", attrs...)
	} else {
		q.h.log.Debug("s3api: request failed", attrs...)
	}
	if q.wrote {
		panic(http.ErrAbortHandler)
	}
	hdr := q.w.Header()
	var dm *cellar.DeleteMarkerError
	if errors.As(err, &dm) {
		hdr.Set("x-amz-delete-marker", "true")
		hdr.Set("x-amz-version-id", dm.VersionID)
		if e.Code == "MethodNotAllowed" {
			hdr.Set("Allow", "DELETE")
		}
	}
	switch e.Code {
	case "NoSuchBucket", "NoSuchLifecycleConfiguration":
		e = e.with("BucketName", q.bucket)
	case "NoSuchKey":
		e = e.with("Key", q.key)
	case "NoSuchVersion":
		e = e.with("Key", q.key).with("VersionId", q.query.Get("versionId"))
	case "NoSuchUpload":
		e = e.with("UploadId", q.query.Get("uploadId"))
	case "MethodNotAllowed":
		if dm != nil {
			e = e.with("Method", q.r.Method).with("ResourceType", "DeleteMarker")
		}
	}
	if e.Status == http.StatusNotModified {
		q.writeHeader(http.StatusNotModified)
		return
	}
	if e.Code == "InvalidRange" {
		for _, f := range e.fields {
			if f.name == "ActualObjectSize" {
				hdr.Set("Content-Range", "bytes */"+f.value)
			}
		}
	}
	if q.r.Method == http.MethodHead {
		// A HEAD answer has no body; S3 sends the status alone.
		q.writeHeader(e.Status)
		return
	}
	q.writeXMLBytes(e.Status, marshalError(e, q.resource(), q.id))
}

func (q *request) writeHeader(status int) {
	q.wrote = true
	q.w.WriteHeader(status)
}

// noContent answers 204 No Content.
func (q *request) noContent() error {
	q.writeHeader(http.StatusNoContent)
	return nil
}

// ok answers 200 with an empty body.
func (q *request) ok() error {
	q.w.Header().Set("Content-Length", "0")
	q.writeHeader(http.StatusOK)
	return nil
}
