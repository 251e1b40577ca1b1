package s3api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cellarhq/cellar"
	"github.com/cellarhq/cellar/s3api/sigv4"
)

func TestErrorTable(t *testing.T) {
	for _, m := range errorTable {
		c, ok := codes[m.code]
		if !ok {
			t.Errorf("%v maps to unknown code %q", m.err, m.code)
			continue
		}
		e := toError(fmt.Errorf("op failed: %w", m.err))
		if e.Code != m.code || e.Status != c.status || e.Message == "" {
			t.Errorf("%v: got %s %d %q, want %s %d", m.err, e.Code, e.Status, e.Message, m.code, c.status)
		}
	}
	for err, want := range map[error]string{
		cellar.ErrNoSuchBucket:                                     "NoSuchBucket 404",
		cellar.ErrNoSuchKey:                                        "NoSuchKey 404",
		cellar.ErrNoSuchVersion:                                    "NoSuchVersion 404",
		cellar.ErrBucketAlreadyExists:                              "BucketAlreadyOwnedByYou 409",
		cellar.ErrBucketNotEmpty:                                   "BucketNotEmpty 409",
		cellar.ErrInvalidBucketName:                                "InvalidBucketName 400",
		cellar.ErrInvalidKey:                                       "InvalidArgument 400",
		cellar.ErrMetadataTooLarge:                                 "MetadataTooLarge 400",
		cellar.ErrEntityTooLarge:                                   "EntityTooLarge 400",
		cellar.ErrEntityTooSmall:                                   "EntityTooSmall 400",
		cellar.ErrIncompleteBody:                                   "IncompleteBody 400",
		cellar.ErrPreconditionFailed:                               "PreconditionFailed 412",
		cellar.ErrNotModified:                                      "NotModified 304",
		cellar.ErrMethodNotAllowed:                                 "MethodNotAllowed 405",
		cellar.ErrInvalidArgument:                                  "InvalidArgument 400",
		cellar.ErrInvalidRequest:                                   "InvalidRequest 400",
		cellar.ErrInvalidTag:                                       "InvalidTag 400",
		cellar.ErrTooManyTags:                                      "BadRequest 400",
		cellar.ErrTooManyKeys:                                      "MalformedXML 400",
		cellar.ErrNoSuchUpload:                                     "NoSuchUpload 404",
		cellar.ErrInvalidPart:                                      "InvalidPart 400",
		cellar.ErrInvalidPartOrder:                                 "InvalidPartOrder 400",
		cellar.ErrInvalidPartNumber:                                "InvalidPartNumber 416",
		cellar.ErrInvalidRange:                                     "InvalidRange 416",
		cellar.ErrQuorum:                                           "ServiceUnavailable 503",
		cellar.ErrCorrupt:                                          "InternalError 500",
		cellar.ErrMalformedLifecycle:                               "MalformedXML 400",
		cellar.ErrInvalidLifecycle:                                 "InvalidArgument 400",
		cellar.ErrNoSuchLifecycleConfiguration:                     "NoSuchLifecycleConfiguration 404",
		cellar.ErrNotImplemented:                                   "NotImplemented 501",
		context.Canceled:                                           "RequestTimeout 400",
		errors.New("something else"):                               "InternalError 500",
		&cellar.DeleteMarkerError{Err: cellar.ErrNoSuchKey}:        "NoSuchKey 404",
		&cellar.DeleteMarkerError{Err: cellar.ErrMethodNotAllowed}: "MethodNotAllowed 405",
		fmt.Errorf("read body: %w", newError("BadDigest", "")):     "BadDigest 400",
		fmt.Errorf("read body: %w", sigv4.ErrXAmzContentSHA256Mismatch):   "XAmzContentSHA256Mismatch 400",
		fmt.Errorf("%w: %w", cellar.ErrQuorum, errors.New("zone 2 down")): "ServiceUnavailable 503",
	} {
		e := toError(fmt.Errorf("wrapped: %w", err))
		if got := fmt.Sprint(e.Code, " ", e.Status); got != want {
			t.Errorf("%v: %s, want %s", err, got, want)
		}
	}
	// Internal details never reach the client.
	if e := toError(errors.New("disk /var/x exploded")); strings.Contains(e.Message, "exploded") {
		t.Errorf("internal error message leaks: %q", e.Message)
	}
	// Detailed codes say what was wrong, without package prefixes.
	if e := toError(fmt.Errorf("%w: MaxKeys -1 is negative", cellar.ErrInvalidArgument)); !strings.Contains(e.Message, "MaxKeys") || strings.Contains(e.Message, "cellar:") {
		t.Errorf("detail message %q", e.Message)
	}
}

func TestResponseIDs(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("ids")
	seen := map[string]bool{}
	for i := range 20 {
		var r *tresp
		switch i % 4 {
		case 0:
			r = e.req("GET", "", "").send()
		case 1:
			r = e.req("GET", "ids", "missing").send()
		case 2:
			r = e.req("HEAD", "ids", "missing").send()
		default:
			r = e.req("GET", "ids", "").anon().send()
		}
		id := r.header.Get("x-amz-request-id")
		if id == "" || seen[id] || r.header.Get("x-amz-id-2") == "" || r.header.Get("Server") != serverName {
			t.Fatalf("response %d: request id %q (seen %v), id-2 %q, Server %q", i, id, seen[id], r.header.Get("x-amz-id-2"), r.header.Get("Server"))
		}
		seen[id] = true
	}
}

func TestMalformedAndHugeXML(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("xml")
	bodies := []string{
		"", "   ", "<", "<Delete>", "<Delete><Object><Key>k</Key></Object>", "<Delete></Delete><Delete></Delete>",
		"<Delete><Object><Key>k</Key></Object></Delete>trailing", "<Other/>", "<?xml version=\"1.0\" encoding=\"EBCDIC\"?><Delete/>",
		"<Delete><Quiet>maybe</Quiet><Object><Key>k</Key></Object></Delete>", "<Delete><Object><VersionId>v</VersionId></Object></Delete>",
		"<!DOCTYPE x [<!ENTITY a \"aaaa\">]><Delete><Object><Key>&a;</Key></Object></Delete>",
	}
	for _, b := range bodies {
		e.req("POST", "xml", "").q("delete", "").text(b).send().wantError(400, "MalformedXML")
	}
	huge := "<Delete>" + strings.Repeat("<!-- padding -->", 600000) + "</Delete>"
	e.req("POST", "xml", "").q("delete", "").text(huge).send().wantError(400, "MaxMessageLengthExceeded")
	hugeTags := "<Tagging><TagSet>" + strings.Repeat(" ", 2<<20) + "</TagSet></Tagging>"
	e.req("PUT", "xml", "k").q("tagging", "").text(hugeTags).send().wantError(400, "MaxMessageLengthExceeded")
	// A body declared too large is refused before it is read.
	e.req("PUT", "xml", "").q("versioning", "").data(make([]byte, 2<<20)).hash("UNSIGNED-PAYLOAD").send().wantError(400, "MaxMessageLengthExceeded")
}

func TestLoggerClockAndClosedStore(t *testing.T) {
	var logs strings.Builder
	past := time.Date(2020, 2, 3, 4, 5, 6, 0, time.UTC)
	e := newEnv(t, func(o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		o.Clock = func() time.Time { return past }
	})
	// Signatures are checked against the handler's clock.
	e.req("GET", "", "").send().wantError(403, "RequestTimeTooSkewed")
	r := e.req("PUT", "clock", "")
	r.now = past
	r.send().want(200)
	if !strings.Contains(logs.String(), "RequestTimeTooSkewed") {
		t.Errorf("4xx not logged at debug: %s", logs.String())
	}
	e.store.Close()
	r = e.req("GET", "clock", "k")
	r.now = past
	r.send().wantError(503, "ServiceUnavailable")
	if !strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("5xx not logged as an error: %s", logs.String())
	}
}

func TestConcurrentRequests(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("conc")
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for w := range 8 {
		wg.Go(func() {
			for i := range 5 {
				key := fmt.Sprintf("w%d/%d", w, i)
				body := strings.Repeat(key, 100)
				hr := e.req("PUT", "conc", key).text(body).build()
				resp, err := e.srv.Client().Do(hr)
				if err != nil || resp.StatusCode != 200 {
					errs <- fmt.Sprint("PUT ", key, err)
					return
				}
				resp.Body.Close()
				resp, err = e.srv.Client().Do(e.req("GET", "conc", key).build())
				if err != nil {
					errs <- fmt.Sprint("GET ", key, err)
					return
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(got) != body {
					errs <- "GET " + key + ": wrong body"
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	var doc listDoc
	e.req("GET", "conc", "").q("list-type", "2").send().want(200).decode(&doc)
	if len(doc.Contents) != 40 {
		t.Errorf("listed %d objects, want 40", len(doc.Contents))
	}
}

// TestErrorDetail: a message is capitalized when it begins with a word,
// and a name at its start is left as the client spelled it.
func TestErrorDetail(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("%w: the Content-MD5 did not match", cellar.ErrBadDigest), "The Content-MD5 did not match"},
		{fmt.Errorf("%w: bkt/key is in storage class STANDARD", cellar.ErrInvalidObjectState), "bkt/key is in storage class STANDARD"},
		{fmt.Errorf("%w: mybucket", cellar.ErrNoSuchBucket), "mybucket"},
		{fmt.Errorf("%w: %q is not an upload ID", cellar.ErrNoSuchUpload, "abc"), `"abc" is not an upload ID`},
		{fmt.Errorf("%w: 12 bytes in one put", cellar.ErrEntityTooLarge), "12 bytes in one put"},
	} {
		var sentinel error
		for _, s := range []error{cellar.ErrBadDigest, cellar.ErrInvalidObjectState, cellar.ErrNoSuchBucket, cellar.ErrNoSuchUpload, cellar.ErrEntityTooLarge} {
			if errors.Is(c.err, s) {
				sentinel = s
			}
		}
		if got := detail(c.err, sentinel); got != c.want {
			t.Errorf("detail(%q) = %q, want %q", c.err, got, c.want)
		}
	}
}
