package s3api

import (
	"encoding/xml"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/cellarhq/cellar"
	"github.com/cellarhq/cellar/internal/checksum"
	"github.com/cellarhq/cellar/s3api/sigv4"
)

// lifecycleXML is a LifecycleConfiguration document of these rules.
func lifecycleXML(rules ...string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>` +
		`<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
		strings.Join(rules, "") + `</LifecycleConfiguration>`
}

// multiRuleLifecycle has a rule of each kind of filter and action.
var multiRuleLifecycle = lifecycleXML(
	`<Rule><ID>logs</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>30</Days></Expiration></Rule>`,
	`<Rule><ID>tmp-tagged</ID><Filter><And><Prefix>tmp/</Prefix><Tag><Key>class</Key><Value>scratch</Value></Tag><Tag><Key>owner</Key><Value></Value></Tag><ObjectSizeGreaterThan>1024</ObjectSizeGreaterThan></And></Filter><Status>Disabled</Status><Expiration><Date>2030-01-01T00:00:00.000Z</Date></Expiration></Rule>`,
	`<Rule><ID>noncurrent</ID><Filter></Filter><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>7</NoncurrentDays><NewerNoncurrentVersions>3</NewerNoncurrentVersions></NoncurrentVersionExpiration><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>`,
	`<Rule><ID>uploads</ID><Prefix>uploads/</Prefix><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>2</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>`,
)

const oneRuleLifecycle = `<LifecycleConfiguration><Rule><ID>one</ID><Filter><Prefix>a/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>`

// putLifecycle sends PutBucketLifecycleConfiguration with Content-MD5.
func (e *env) putLifecycle(bucket, body string) *tresp {
	e.t.Helper()
	return e.req("PUT", bucket, "").q("lifecycle", "").h("Content-MD5", md5b64([]byte(body))).text(body).send()
}

// lifecycleResp is the root of GetBucketLifecycleConfiguration's answer.
type lifecycleResp struct {
	XMLName xml.Name
	Rules   []struct {
		ID string `xml:"ID"`
	} `xml:"Rule"`
}

func TestBucketLifecycleConfiguration(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("lcb")

	doc := e.req("GET", "lcb", "").q("lifecycle", "").send().wantError(404, "NoSuchLifecycleConfiguration")
	if doc.Bucket != "lcb" || doc.Message != "The lifecycle configuration does not exist" {
		t.Errorf("NoSuchLifecycleConfiguration: BucketName %q, Message %q", doc.Bucket, doc.Message)
	}

	r := e.putLifecycle("lcb", multiRuleLifecycle).want(200)
	if got := r.header.Get(transitionMinSizeHeader); got != transitionMinSizeDefault {
		t.Errorf("PUT %s: %q", transitionMinSizeHeader, got)
	}

	// Round trip: what GET answers parses to the configuration put.
	r = e.req("GET", "lcb", "").q("lifecycle", "").send().want(200)
	var got lifecycleResp
	r.decode(&got)
	if got.XMLName.Space != xmlns || got.XMLName.Local != "LifecycleConfiguration" {
		t.Errorf("GET root %v", got.XMLName)
	}
	if len(got.Rules) != 4 || got.Rules[0].ID != "logs" || got.Rules[3].ID != "uploads" {
		t.Errorf("GET rules %+v", got.Rules)
	}
	if h := r.header.Get(transitionMinSizeHeader); h != transitionMinSizeDefault {
		t.Errorf("GET %s: %q", transitionMinSizeHeader, h)
	}
	want, err := cellar.ParseLifecycle([]byte(multiRuleLifecycle))
	if err != nil {
		t.Fatal(err)
	}
	back, err := cellar.ParseLifecycle(r.body)
	if err != nil {
		t.Fatalf("GET answer does not parse: %v\n%s", err, r.body)
	}
	if !reflect.DeepEqual(back, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v\n%s", back, want, r.body)
	}

	// A replacement, with a checksum header instead of Content-MD5, and a
	// rule without an ID, which gets one.
	body := lifecycleXML(`<Rule><Filter><Prefix>x/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>5</Days></Expiration></Rule>`)
	e.req("PUT", "lcb", "").q("lifecycle", "").h("x-amz-checksum-crc32", sumB64(checksum.CRC32, []byte(body))).
		h("x-amz-sdk-checksum-algorithm", "CRC32").text(body).send().want(200)
	got = lifecycleResp{}
	e.req("GET", "lcb", "").q("lifecycle", "").send().want(200).decode(&got)
	if len(got.Rules) != 1 || got.Rules[0].ID == "" {
		t.Errorf("after replacement: %+v", got.Rules)
	}
	// Each algorithm S3 takes.
	for _, alg := range checksum.Algorithms() {
		e.req("PUT", "lcb", "").q("lifecycle", "").h(alg.HeaderName(), sumB64(alg, []byte(oneRuleLifecycle))).
			text(oneRuleLifecycle).send().want(200)
	}

	// An aws-chunked body with a checksum trailer, signed or not.
	for _, unsigned := range []bool{false, true} {
		tr := func(v string) *sigv4.StreamOptions {
			return &sigv4.StreamOptions{ChunkSize: 64, Unsigned: unsigned, Trailer: http.Header{"X-Amz-Checksum-Crc32c": {v}}}
		}
		lc := map[string]string{"lifecycle": ""}
		e.streamPut("lcb", "", lc, []byte(oneRuleLifecycle), tr(sumB64(checksum.CRC32C, []byte(oneRuleLifecycle))), "x-amz-sdk-checksum-algorithm", "CRC32C").want(200)
		e.streamPut("lcb", "", lc, []byte(oneRuleLifecycle), tr(sumB64(checksum.CRC32C, nil))).wantError(400, "BadDigest")
		doc := e.streamPut("lcb", "", lc, []byte(oneRuleLifecycle), tr("!!")).wantError(400, "InvalidRequest")
		wantMessage(t, doc, "Value for x-amz-checksum-crc32c trailing header is invalid.")
		// Without a trailer, an aws-chunked body has no integrity check.
		doc = e.streamPut("lcb", "", lc, []byte(oneRuleLifecycle), &sigv4.StreamOptions{Unsigned: unsigned}).wantError(400, "InvalidRequest")
		wantMessage(t, doc, msgMissingIntegrity)
	}

	e.req("DELETE", "lcb", "").q("lifecycle", "").send().want(204)
	e.req("GET", "lcb", "").q("lifecycle", "").send().wantError(404, "NoSuchLifecycleConfiguration")
	e.req("DELETE", "lcb", "").q("lifecycle", "").send().want(204) // none: still 204, as S3

	// The bucket, its objects and its listing are untouched.
	e.mustPut("lcb", "k", "v")
	if got := e.mustGet("lcb", "k"); got != "v" {
		t.Errorf("object %q", got)
	}

	// A missing bucket.
	e.req("GET", "nolcb", "").q("lifecycle", "").send().wantError(404, "NoSuchBucket")
	e.putLifecycle("nolcb", oneRuleLifecycle).wantError(404, "NoSuchBucket")
	e.req("DELETE", "nolcb", "").q("lifecycle", "").send().wantError(404, "NoSuchBucket")

	// Other methods, and ?lifecycle on an object.
	e.req("POST", "lcb", "").q("lifecycle", "").send().wantError(405, "MethodNotAllowed")
	for _, m := range []string{"GET", "PUT", "DELETE"} {
		e.req(m, "lcb", "k").q("lifecycle", "").send().wantError(501, "NotImplemented")
	}

	// Virtual-hosted style.
	e.req("PUT", "lcb", "").vhost().q("lifecycle", "").h("Content-MD5", md5b64([]byte(oneRuleLifecycle))).text(oneRuleLifecycle).send().want(200)
	got = lifecycleResp{}
	e.req("GET", "lcb", "").vhost().q("lifecycle", "").send().want(200).decode(&got)
	if len(got.Rules) != 1 || got.Rules[0].ID != "one" {
		t.Errorf("virtual-hosted GET: %+v", got.Rules)
	}
}

func TestPutBucketLifecycleErrors(t *testing.T) {
	e := newEnv(t, nil)
	e.mustBucket("lce")
	e.putLifecycle("lce", oneRuleLifecycle).want(200)
	put := func() *treq { return e.req("PUT", "lce", "").q("lifecycle", "") }
	body := []byte(oneRuleLifecycle)

	// Integrity: S3 requires Content-MD5 or an x-amz-checksum-*.
	doc := put().data(body).send().wantError(400, "InvalidRequest")
	if doc.Message != msgMissingIntegrity {
		t.Errorf("no Content-MD5: %q", doc.Message)
	}
	put().data(body).h("Content-MD5", md5b64([]byte("other"))).send().wantError(400, "BadDigest")
	put().data(body).h("Content-MD5", "not base64!").send().wantError(400, "InvalidDigest")
	put().data(body).h("Content-MD5", "").send().wantError(400, "InvalidDigest")
	put().data(body).h("x-amz-checksum-crc32", sumB64(checksum.CRC32, []byte("other"))).send().wantError(400, "BadDigest")
	put().data(body).h("x-amz-checksum-sha256", sumB64(checksum.SHA256, []byte("other"))).h("Content-MD5", md5b64(body)).send().wantError(400, "BadDigest")
	put().data(body).h("x-amz-checksum-crc32", "AAAA").h("x-amz-checksum-crc32c", "AAAA").send().wantError(400, "InvalidRequest")
	put().data(body).h("x-amz-checksum-crc32", "short").send().wantError(400, "InvalidRequest")
	put().data(body).h("x-amz-sdk-checksum-algorithm", "CRC32").send().wantError(400, "InvalidRequest")

	// The body: malformed is MalformedXML, invalid rules InvalidArgument
	// (or MalformedXML, as S3 answers for that violation), naming the rule.
	for _, c := range []struct {
		name, body, code, mention string
	}{
		{"empty", "", "MalformedXML", ""},
		{"not XML", "Rules", "MalformedXML", ""},
		{"JSON", `{"Rules":[{"ID":"a","Status":"Enabled","Filter":{},"Expiration":{"Days":1}}]}`, "MalformedXML", ""},
		{"unclosed", `<LifecycleConfiguration><Rule>`, "MalformedXML", ""},
		{"wrong root", `<Lifecycle><Rule/></Lifecycle>`, "MalformedXML", ""},
		{"no rules", `<LifecycleConfiguration/>`, "MalformedXML", ""},
		{"two roots", oneRuleLifecycle + oneRuleLifecycle, "MalformedXML", ""},
		{"unknown element", lifecycleXML(`<Rule><ID>r1</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration><Bogus/></Rule>`), "MalformedXML", "Bogus"},
		{"no status", lifecycleXML(`<Rule><ID>r1</ID><Filter/><Expiration><Days>1</Days></Expiration></Rule>`), "MalformedXML", "Status"},
		{"days 0", lifecycleXML(`<Rule><ID>zero</ID><Filter/><Status>Enabled</Status><Expiration><Days>0</Days></Expiration></Rule>`), "InvalidArgument", `"zero"`},
		{"no action", lifecycleXML(`<Rule><ID>idle</ID><Filter/><Status>Enabled</Status></Rule>`), "InvalidArgument", `"idle"`},
		{"duplicate ID", lifecycleXML(
			`<Rule><ID>dup</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`,
			`<Rule><ID>dup</ID><Filter/><Status>Enabled</Status><Expiration><Days>2</Days></Expiration></Rule>`), "InvalidArgument", "Rules[1]"},
		{"long ID", lifecycleXML(`<Rule><ID>` + strings.Repeat("i", 256) + `</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`), "InvalidArgument", "ID"},
	} {
		r := put().text(c.body).h("Content-MD5", md5b64([]byte(c.body))).send()
		if r.status != 400 {
			t.Errorf("%s: status %d, want 400 %s; body %s", c.name, r.status, c.code, r.body)
			continue
		}
		doc := r.wantError(400, c.code)
		if !strings.Contains(doc.Message, c.mention) || strings.Contains(doc.Message, "cellar:") {
			t.Errorf("%s: message %q does not name %q", c.name, doc.Message, c.mention)
		}
	}

	// Transitions the store takes are checked as S3 checks them: no
	// transition into an IA class before 30 days.
	for _, tr := range []string{
		`<Transition><Days>10</Days><StorageClass>STANDARD_IA</StorageClass></Transition>`,
		`<NoncurrentVersionTransition><NoncurrentDays>10</NoncurrentDays><StorageClass>ONEZONE_IA</StorageClass></NoncurrentVersionTransition>`,
	} {
		b := lifecycleXML(`<Rule><ID>archive</ID><Filter/><Status>Enabled</Status>` + tr + `</Rule>`)
		doc := put().text(b).h("Content-MD5", md5b64([]byte(b))).send().wantError(400, "InvalidArgument")
		if !strings.Contains(doc.Message, `"archive"`) || !strings.Contains(doc.Message, "30") {
			t.Errorf("transition message %q", doc.Message)
		}
	}

	// x-amz-transition-default-minimum-object-size: S3's default only.
	put().data(body).h("Content-MD5", md5b64(body)).h(transitionMinSizeHeader, transitionMinSizeDefault).send().want(200)
	put().data(body).h("Content-MD5", md5b64(body)).h(transitionMinSizeHeader, transitionMinSizeVaries).send().wantError(501, "NotImplemented")
	put().data(body).h("Content-MD5", md5b64(body)).h(transitionMinSizeHeader, "small").send().wantError(400, "InvalidArgument")

	// The body is capped.
	big := []byte(lifecycleXML(strings.Repeat(" ", maxXMLBodyLarge)))
	put().data(big).h("Content-MD5", md5b64(big)).send().wantError(400, "MaxMessageLengthExceeded")

	// Nothing refused replaced the configuration in force.
	var got lifecycleResp
	e.req("GET", "lce", "").q("lifecycle", "").send().want(200).decode(&got)
	if len(got.Rules) != 1 || got.Rules[0].ID != "one" {
		t.Errorf("configuration after refusals: %+v", got.Rules)
	}
}

func TestParseLifecycleBody(t *testing.T) {
	cfg, err := parseLifecycle([]byte("\xef\xbb\xbf\n " + multiRuleLifecycle))
	if err != nil || len(cfg.Rules) != 4 {
		t.Fatalf("parseLifecycle: %v, %v", cfg, err)
	}
	// Any namespace, or none, as for every other body.
	if _, err := parseLifecycle([]byte(`<x:LifecycleConfiguration xmlns:x="urn:x"><x:Rule><x:ID>a</x:ID><x:Filter/><x:Status>Enabled</x:Status><x:Expiration><x:Days>1</x:Days></x:Expiration></x:Rule></x:LifecycleConfiguration>`)); err != nil {
		t.Errorf("other namespace: %v", err)
	}
	for _, in := range []string{"", "  ", `{"Rules":[]}`, "<!DOCTYPE x><LifecycleConfiguration/>"} {
		if _, err := parseLifecycle([]byte(in)); err == nil || toError(err).Code != "MalformedXML" {
			t.Errorf("%q: %v", in, err)
		}
	}
}
