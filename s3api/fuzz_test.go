package s3api

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/cellarhq/cellar"
)

// Each parser of request input is fuzzed: it must not panic, and must
// either fail with an S3 error or return something that obeys its rules.

func wantAPIError(t *testing.T, err error) {
	t.Helper()
	var ae *apiError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an S3 error", err, err)
	}
}

func FuzzParseDelete(f *testing.F) {
	f.Add([]byte(deleteXML(false, "a", "b@v1")))
	f.Add([]byte(deleteXML(true, "key with &amp; amp")))
	f.Add([]byte(`<?xml version="1.0" encoding="UTF-8"?><Delete><Quiet>1</Quiet><Object><Key></Key></Object></Delete>`))
	f.Add([]byte(`<Delete><Object><Key>k</Key></Object></Delete><!-- c -->`))
	f.Add([]byte(`<Delete><Object><Key>k</Key>`))
	f.Add([]byte(`<x:Delete xmlns:x="urn:x"><x:Object><x:Key>k</x:Key></x:Object></x:Delete>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		quiet, objs, err := parseDelete(data)
		if err != nil {
			wantAPIError(t, err)
			return
		}
		_ = quiet
		if len(objs) == 0 || len(objs) > cellar.MaxDeleteObjects {
			t.Fatalf("%d objects accepted", len(objs))
		}
	})
}

func FuzzParseComplete(f *testing.F) {
	f.Add([]byte(completeXML([2]string{"1", `"abc"`}, [2]string{"2", "def"})))
	f.Add([]byte(`<CompleteMultipartUpload><Part><PartNumber>-1</PartNumber><ETag/></Part></CompleteMultipartUpload>`))
	f.Add([]byte(`<CompleteMultipartUpload><Part><ChecksumCRC32>AAAA</ChecksumCRC32><PartNumber>1</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>`))
	f.Add([]byte(`<CompleteMultipartUpload/>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		parts, err := parseComplete(data)
		if err != nil {
			wantAPIError(t, err)
			return
		}
		if len(parts) == 0 || len(parts) > cellar.MaxParts {
			t.Fatalf("%d parts accepted", len(parts))
		}
	})
}

func FuzzParseTagging(f *testing.F) {
	f.Add([]byte(tagXML("a", "1", "b", "")))
	f.Add([]byte(tagXML("a", "1", "a", "2")))
	f.Add([]byte(`<Tagging><TagSet/></Tagging>`))
	f.Add([]byte(`<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tags, err := parseTagging(data)
		if err != nil {
			wantAPIError(t, err)
			return
		}
		if tags == nil {
			t.Fatal("nil tags without an error")
		}
	})
}

func FuzzParseVersioning(f *testing.F) {
	f.Add([]byte(`<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>`))
	f.Add([]byte(`<VersioningConfiguration><Status>Suspended</Status><MfaDelete>Disabled</MfaDelete></VersioningConfiguration>`))
	f.Add([]byte(`<VersioningConfiguration/>`))
	f.Add([]byte(`<VersioningConfiguration><Status> Enabled </Status></VersioningConfiguration>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		state, err := parseVersioning(data)
		if err != nil {
			wantAPIError(t, err)
			return
		}
		switch state {
		case "", cellar.VersioningEnabled, cellar.VersioningSuspended:
		default:
			t.Fatalf("state %q accepted", state)
		}
	})
}

func FuzzParseCreateBucket(f *testing.F) {
	f.Add([]byte(`<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>`))
	f.Add([]byte(`<CreateBucketConfiguration/>`))
	f.Add([]byte(`<CreateBucketConfiguration><Location><Name>x</Name></Location><Bucket><Type>Directory</Type></Bucket></CreateBucketConfiguration>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		lc, err := parseCreateBucket(data)
		if err != nil {
			wantAPIError(t, err)
			return
		}
		if strings.TrimSpace(lc) != lc {
			t.Fatalf("constraint %q not trimmed", lc)
		}
	})
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-0", "bytes=-5", "bytes=5-", "bytes=1-2,3-4", "bytes=9223372036854775807-", "bytes=-9223372036854775808", "bytes= 1 - 2"} {
		f.Add(s, int64(10))
	}
	f.Add("bytes=0-", int64(0))
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			size = -(size + 1)
		}
		r, ok, err := parseRange(h, size)
		if err != nil {
			wantAPIError(t, err)
			if ok {
				t.Fatal("ok with an error")
			}
			return
		}
		if ok && (r.start < 0 || r.length <= 0 || r.start+r.length > size || r.start+r.length < r.start) {
			t.Fatalf("parseRange(%q, %d) = %+v, outside the object", h, size, r)
		}
	})
}

func FuzzParseCopyRange(f *testing.F) {
	f.Add("bytes=0-99")
	f.Add("bytes=5-4")
	f.Add("bytes=-1")
	f.Fuzz(func(t *testing.T, h string) {
		first, last, err := parseCopyRange(h)
		if err != nil {
			wantAPIError(t, err)
			return
		}
		if first < 0 || last < first {
			t.Fatalf("parseCopyRange(%q) = %d-%d", h, first, last)
		}
	})
}

func FuzzParseCopySource(f *testing.F) {
	f.Add("bucket/key")
	f.Add("/bucket/a%20b?versionId=123")
	f.Add("bucket/%E6%97%A5%2F%3F")
	f.Add("bucket/key?versionId=")
	f.Add("arn:aws:s3:::x")
	f.Fuzz(func(t *testing.T, h string) {
		src, err := parseCopySource(h)
		if err != nil {
			wantAPIError(t, err)
			return
		}
		if src.bucket == "" || src.key == "" || strings.Contains(src.bucket, "/") {
			t.Fatalf("parseCopySource(%q) = %+v", h, src)
		}
		// What an SDK would send for the parsed source parses back to it.
		enc := src.bucket + "/" + urlEncode(src.key)
		if src.versionID != "" {
			enc += "?versionId=" + url.QueryEscape(src.versionID)
		}
		back, err := parseCopySource(enc)
		if err != nil || back != src {
			t.Fatalf("parseCopySource(%q) = %+v; re-encoded %q gives %+v, %v", h, src, enc, back, err)
		}
	})
}

func FuzzParseTagQuery(f *testing.F) {
	f.Add("a=1&b=2")
	f.Add("a=1&a=2")
	f.Add("%zz")
	f.Add("k=v+w%20x")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		tags, err := parseTagQuery(s)
		if err != nil {
			wantAPIError(t, err)
			return
		}
		// Tags sent back the way SDKs send them parse to the same tags.
		vals := url.Values{}
		for k, v := range tags {
			vals.Set(k, v)
		}
		back, err := parseTagQuery(vals.Encode())
		if err != nil || len(back) != len(tags) {
			t.Fatalf("parseTagQuery(%q) = %v; round trip %v, %v", s, tags, back, err)
		}
		for k, v := range tags {
			if back[k] != v {
				t.Fatalf("tag %q: %q became %q", k, v, back[k])
			}
		}
	})
}

func FuzzParseLifecycle(f *testing.F) {
	f.Add([]byte(multiRuleLifecycle))
	f.Add([]byte(oneRuleLifecycle))
	f.Add([]byte(`<LifecycleConfiguration><Rule><Filter><And><Tag><Key>k</Key><Value/></Tag><ObjectSizeLessThan>9</ObjectSizeLessThan></And></Filter><Status>Enabled</Status><Transition><Days>0</Days><StorageClass>GLACIER</StorageClass></Transition></Rule></LifecycleConfiguration>`))
	f.Add([]byte(`{"Rules":[{"Status":"Enabled","Expiration":{"Days":1}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := parseLifecycle(data)
		if err != nil {
			// The store's errors go through errorTable; none is internal.
			if code := toError(err).Code; code != "MalformedXML" && code != "InvalidArgument" {
				t.Fatalf("error %v is %s", err, code)
			}
			return
		}
		if len(cfg.Rules) == 0 || len(cfg.Rules) > cellar.MaxLifecycleRules {
			t.Fatalf("%d rules accepted", len(cfg.Rules))
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("accepted configuration does not validate: %v", err)
		}
	})
}

func FuzzParseRestore(f *testing.F) {
	f.Add([]byte(`<RestoreRequest xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Days>2</Days><GlacierJobParameters><Tier>Bulk</Tier></GlacierJobParameters></RestoreRequest>`))
	f.Add([]byte(`<RestoreRequest><Days>1</Days><Tier>Expedited</Tier></RestoreRequest>`))
	f.Add([]byte(`<RestoreRequest><Days>0</Days></RestoreRequest>`))
	f.Add([]byte(`<RestoreRequest><Days>-3</Days><GlacierJobParameters></GlacierJobParameters></RestoreRequest>`))
	f.Add([]byte(`<RestoreRequest><Type>SELECT</Type></RestoreRequest>`))
	f.Add([]byte(`<RestoreRequest><Days>99999999999999999999</Days>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		opts, err := parseRestore(data)
		if err != nil {
			wantAPIError(t, err)
			return
		}
		if opts.Days < 1 || !restoreTiers[opts.Tier] {
			t.Fatalf("accepted %+v", opts)
		}
	})
}
