package s3api

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cellarhq/cellar"
)

// storeClock is a store clock a test moves; the handler checks signatures
// against the real time.
type storeClock struct{ ns atomic.Int64 }

func (c *storeClock) now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *storeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func newClockEnv(t *testing.T) (*env, *storeClock) {
	t.Helper()
	c := &storeClock{}
	c.ns.Store(time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC).UnixNano())
	return newEnvStore(t, &cellar.Options{SweepInterval: -1, LifecycleInterval: -1, Clock: c.now}, nil), c
}

const restoreBody = `<RestoreRequest xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Days>2</Days><GlacierJobParameters><Tier>Standard</Tier></GlacierJobParameters></RestoreRequest>`

func TestStorageClassHeaders(t *testing.T) {
	e, _ := newClockEnv(t)
	e.mustBucket("scl")
	for _, class := range []string{"STANDARD_IA", "ONEZONE_IA", "REDUCED_REDUNDANCY", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"} {
		key := "k-" + class
		e.req("PUT", "scl", key).h("x-amz-storage-class", class).text("body of " + class).send().want(200)
		r := e.req("HEAD", "scl", key).send().want(200)
		if got := r.header.Get("x-amz-storage-class"); got != class {
			t.Errorf("HEAD %s: x-amz-storage-class %q", key, got)
		}
	}
	e.mustPut("scl", "plain", "x")
	if got := e.req("HEAD", "scl", "plain").send().want(200).header.Get("x-amz-storage-class"); got != "" {
		t.Errorf("STANDARD object: x-amz-storage-class %q, S3 leaves it out", got)
	}
	var list struct {
		Contents []struct {
			Key          string `xml:"Key"`
			StorageClass string `xml:"StorageClass"`
		} `xml:"Contents"`
	}
	e.req("GET", "scl", "").q("list-type", "2").send().want(200).decode(&list)
	if len(list.Contents) != 8 {
		t.Fatalf("listed %d objects", len(list.Contents))
	}
	for _, c := range list.Contents {
		want := strings.TrimPrefix(c.Key, "k-")
		if c.Key == "plain" {
			want = "STANDARD"
		}
		if c.StorageClass != want {
			t.Errorf("list %s: StorageClass %q, want %q", c.Key, c.StorageClass, want)
		}
	}

	// A copy and a multipart upload take the class asked for.
	e.req("PUT", "scl", "copy").h("x-amz-copy-source", "/scl/plain").h("x-amz-storage-class", "STANDARD_IA").send().want(200)
	if got := e.req("HEAD", "scl", "copy").send().want(200).header.Get("x-amz-storage-class"); got != "STANDARD_IA" {
		t.Errorf("copy: x-amz-storage-class %q", got)
	}
	var init struct {
		UploadID string `xml:"UploadId"`
	}
	e.req("POST", "scl", "mp").q("uploads", "").h("x-amz-storage-class", "ONEZONE_IA").send().want(200).decode(&init)
	var uploads struct {
		Uploads []struct {
			StorageClass string `xml:"StorageClass"`
		} `xml:"Upload"`
	}
	e.req("GET", "scl", "").q("uploads", "").send().want(200).decode(&uploads)
	if len(uploads.Uploads) != 1 || uploads.Uploads[0].StorageClass != "ONEZONE_IA" {
		t.Errorf("ListMultipartUploads: %+v", uploads.Uploads)
	}

	// Bad classes: unknown ones are InvalidStorageClass, those of other
	// kinds of bucket NotImplemented; nothing is stored.
	e.req("PUT", "scl", "bad").h("x-amz-storage-class", "COLD").text("x").send().wantError(400, "InvalidStorageClass")
	e.req("PUT", "scl", "bad").h("x-amz-storage-class", "OUTPOSTS").text("x").send().wantError(501, "NotImplemented")
	e.req("HEAD", "scl", "bad").send().want(404)
}

func TestRestoreObject(t *testing.T) {
	e, clock := newClockEnv(t)
	e.mustBucket("arc")
	e.req("PUT", "arc", "cold").h("x-amz-storage-class", "GLACIER").text("frozen bytes").send().want(200)
	e.mustPut("arc", "warm", "w")

	// Unrestored: no reads, Head shows no restore.
	e.req("GET", "arc", "cold").send().wantError(403, "InvalidObjectState")
	if got := e.req("HEAD", "arc", "cold").send().want(200).header.Get("x-amz-restore"); got != "" {
		t.Errorf("x-amz-restore before any restore: %q", got)
	}

	// Bad restores change nothing.
	e.req("POST", "arc", "warm").q("restore", "").text(restoreBody).send().wantError(403, "InvalidObjectState")
	e.req("POST", "arc", "cold").q("restore", "").text(`<RestoreRequest><Days>0</Days></RestoreRequest>`).send().wantError(400, "InvalidArgument")
	e.req("POST", "arc", "cold").q("restore", "").text(`<RestoreRequest><Days>1</Days>`).send().wantError(400, "MalformedXML")
	e.req("POST", "arc", "cold").q("restore", "").text(`<RestoreRequest><Days>1</Days><Tier>Quick</Tier></RestoreRequest>`).send().wantError(400, "MalformedXML")
	e.req("POST", "arc", "cold").q("restore", "").text(`<RestoreRequest><Type>SELECT</Type></RestoreRequest>`).send().wantError(501, "NotImplemented")
	e.req("POST", "arc", "missing").q("restore", "").text(restoreBody).send().wantError(404, "NoSuchKey")
	if got := e.req("HEAD", "arc", "cold").send().want(200).header.Get("x-amz-restore"); got != "" {
		t.Errorf("x-amz-restore after refused restores: %q", got)
	}

	// A restore starts (202), runs, and a second one is refused.
	e.req("POST", "arc", "cold").q("restore", "").text(restoreBody).send().want(http.StatusAccepted)
	if got := e.req("HEAD", "arc", "cold").send().want(200).header.Get("x-amz-restore"); got != `ongoing-request="true"` {
		t.Errorf("x-amz-restore while restoring: %q", got)
	}
	e.req("GET", "arc", "cold").send().wantError(403, "InvalidObjectState")
	e.req("POST", "arc", "cold").q("restore", "").text(restoreBody).send().wantError(409, "RestoreAlreadyInProgress")

	// Standard retrieval from GLACIER takes 4 hours of the store's clock.
	clock.advance(4*time.Hour + time.Minute)
	r := e.req("HEAD", "arc", "cold").send().want(200)
	got := r.header.Get("x-amz-restore")
	if !strings.HasPrefix(got, `ongoing-request="false", expiry-date="`) {
		t.Fatalf("x-amz-restore once restored: %q", got)
	}
	if r.header.Get("x-amz-storage-class") != "GLACIER" {
		t.Errorf("restored object's class: %q", r.header.Get("x-amz-storage-class"))
	}
	if body := e.mustGet("arc", "cold"); body != "frozen bytes" {
		t.Errorf("restored object reads %q", body)
	}
	// A restore of a restored object only moves its expiry: 200.
	e.req("POST", "arc", "cold").q("restore", "").text(strings.Replace(restoreBody, "<Days>2", "<Days>5", 1)).send().want(http.StatusOK)
	if later := e.req("HEAD", "arc", "cold").send().want(200).header.Get("x-amz-restore"); later == got {
		t.Errorf("expiry did not move: %q", later)
	}
	// Once the restored copy expires the object is archived again.
	clock.advance(7 * 24 * time.Hour)
	if _, err := e.store.RunLifecycle(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.req("GET", "arc", "cold").send().wantError(403, "InvalidObjectState")
}

func TestExpirationHeader(t *testing.T) {
	e, _ := newClockEnv(t)
	e.mustBucket("exp")
	e.putLifecycle("exp", lifecycleXML(`<Rule><ID>logs "30"</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>30</Days></Expiration></Rule>`)).want(200)
	// Put at 2026-03-01 10:30 UTC: due at midnight after 30 days.
	want := `expiry-date="Wed, 01 Apr 2026 00:00:00 GMT", rule-id="logs \"30\""`
	if got := e.req("PUT", "exp", "logs/a").text("a").send().want(200).header.Get("x-amz-expiration"); got != want {
		t.Errorf("PUT x-amz-expiration %q, want %q", got, want)
	}
	for _, m := range []string{"HEAD", "GET"} {
		if got := e.req(m, "exp", "logs/a").send().want(200).header.Get("x-amz-expiration"); got != want {
			t.Errorf("%s x-amz-expiration %q, want %q", m, got, want)
		}
	}
	if got := e.req("PUT", "exp", "other").text("o").send().want(200).header.Get("x-amz-expiration"); got != "" {
		t.Errorf("object outside the rule: x-amz-expiration %q", got)
	}
}

func TestLifecycleTransitionsAccepted(t *testing.T) {
	e, _ := newClockEnv(t)
	e.mustBucket("trn")
	doc := lifecycleXML(`<Rule><ID>archive</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status>` +
		`<Transition><Days>30</Days><StorageClass>STANDARD_IA</StorageClass></Transition>` +
		`<Transition><Days>90</Days><StorageClass>GLACIER</StorageClass></Transition>` +
		`<Expiration><Days>365</Days></Expiration></Rule>`)
	e.putLifecycle("trn", doc).want(200)
	var got lifecycleResp
	e.req("GET", "trn", "").q("lifecycle", "").send().want(200).decode(&got)
	if len(got.Rules) != 1 || got.Rules[0].ID != "archive" {
		t.Errorf("rules %+v", got.Rules)
	}
	// An unknown class in a rule is refused and the rule in force stays.
	bad := strings.Replace(doc, "<StorageClass>GLACIER<", "<StorageClass>COLD<", 1)
	e.putLifecycle("trn", bad).wantError(400, "MalformedXML")
	got = lifecycleResp{}
	e.req("GET", "trn", "").q("lifecycle", "").send().want(200).decode(&got)
	if len(got.Rules) != 1 {
		t.Errorf("rules after a refused put: %+v", got.Rules)
	}
}
