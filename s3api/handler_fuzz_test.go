package s3api

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cellarhq/cellar"
)

// FuzzHandler sends whole requests, as a client could write them, to a
// handler over a fresh store holding one bucket with one object. Whatever
// the method, target, headers and body, the handler must not panic, must
// not answer 500 (bad input is the client's fault), must answer a failure
// with S3's <Error> document, and must leave the store whole: every version
// it lists reads back in full, and a single-part object's bytes match its
// ETag. This reaches every parser of request input in the context the
// handler calls it, routing and headers included.
func FuzzHandler(f *testing.F) {
	seeds := []struct {
		method, target, header, body string
	}{
		{"GET", "/", "", ""},
		{"GET", "/fzz?list-type=2&prefix=k&delimiter=/&max-keys=2&encoding-type=url&fetch-owner=true", "", ""},
		{"GET", "/fzz?versions&key-marker=k&max-keys=0", "", ""},
		{"GET", "/fzz?uploads&prefix=", "", ""},
		{"GET", "/fzz/k", "Range: bytes=2-5\nIf-None-Match: \"x\"\nx-amz-checksum-mode: ENABLED", ""},
		{"GET", "/fzz/k?response-content-type=text/plain&partNumber=1", "", ""},
		{"HEAD", "/fzz/k", "If-Modified-Since: Mon, 02 Jan 2006 15:04:05 GMT", ""},
		{"GET", "/fzz/k?attributes", "x-amz-object-attributes: ETag,Checksum,ObjectParts,StorageClass,ObjectSize\nx-amz-max-parts: 3", ""},
		{"PUT", "/fzz/new", "Content-Type: text/plain\nx-amz-meta-a: b\nx-amz-tagging: a=b&c=d\nContent-MD5: XrY7u+Ae7tCTyyK7j1rNww==", "hello world"},
		{"PUT", "/fzz/new", "x-amz-checksum-crc32: DUoRhQ==\nx-amz-sdk-checksum-algorithm: CRC32", "hello world"},
		{"PUT", "/fzz/chunked", "x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\nContent-Encoding: aws-chunked\nx-amz-decoded-content-length: 5\nx-amz-trailer: x-amz-checksum-crc32",
			"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"},
		{"PUT", "/fzz/copy", "x-amz-copy-source: /fzz/k\nx-amz-metadata-directive: REPLACE\nx-amz-copy-source-if-match: \"x\"", ""},
		{"PUT", "/fzz/k?tagging", "", `<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>`},
		{"PUT", "/fzz?versioning", "", `<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>`},
		{"PUT", "/fzz?lifecycle", "Content-MD5: vIIk3AKrhDnf58Gw8c+8AQ==", `<LifecycleConfiguration><Rule><ID>r</ID><Status>Enabled</Status><Filter><Prefix>k</Prefix></Filter><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>`},
		{"PUT", "/other", "", `<CreateBucketConfiguration><LocationConstraint>us-east-1</LocationConstraint></CreateBucketConfiguration>`},
		{"POST", "/fzz?delete", "", `<Delete><Quiet>true</Quiet><Object><Key>k</Key></Object><Object><Key>nope</Key><VersionId>null</VersionId></Object></Delete>`},
		{"POST", "/fzz/mp?uploads", "x-amz-checksum-algorithm: CRC32C\nx-amz-checksum-type: FULL_OBJECT", ""},
		{"PUT", "/fzz/mp?partNumber=1&uploadId=abc", "", "part"},
		{"POST", "/fzz/mp?uploadId=abc", "", `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"x"</ETag></Part></CompleteMultipartUpload>`},
		{"POST", "/fzz/k?restore", "", `<RestoreRequest><Days>1</Days><GlacierJobParameters><Tier>Standard</Tier></GlacierJobParameters></RestoreRequest>`},
		{"DELETE", "/fzz/k?versionId=null", "", ""},
		{"DELETE", "/fzz", "", ""},
		{"GET", "/k", "Host: fzz.s3.cellar.test", ""},
		{"PUT", "/fzz/%ff%00", "Content-Length: 3", "abc"},
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, s.header, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, method, target, header string, body []byte) {
		req := fuzzRequest(method, target, header, body)
		if req == nil {
			return
		}
		ctx := context.Background()
		st, err := cellar.OpenMemory(ctx, &cellar.Options{BlockSize: 4 << 10, SweepInterval: -1, ProbeInterval: -1, ScrubInterval: -1, LifecycleInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if err := st.CreateBucket(ctx, "fzz", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Bucket("fzz").Put(ctx, "k", strings.NewReader("the seed object"), nil); err != nil {
			t.Fatal(err)
		}
		h := New(st, &Options{AllowAnonymous: true, BaseDomain: testDomain})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		res := rec.Result()
		if res.StatusCode == http.StatusInternalServerError {
			t.Fatalf("%s %s: 500: %s", req.Method, req.URL, rec.Body.Bytes())
		}
		if res.StatusCode >= 400 && req.Method != http.MethodHead {
			var doc s3ErrorDoc
			if err := xml.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc.Code == "" {
				t.Fatalf("%s %s: %d with body %q, not an S3 error (%v)", req.Method, req.URL, res.StatusCode, rec.Body.Bytes(), err)
			}
		}
		checkStoreWhole(t, st)
	})
}

// fuzzRequest parses a request as the server would read it off the wire:
// the method and target on the request line, header lines ("Name: value",
// one a line), and the body with its Content-Length. It returns nil for
// what net/http would refuse before a handler sees it.
func fuzzRequest(method, target, header string, body []byte) *http.Request {
	if strings.ContainsAny(method+target, " \r\n") {
		return nil
	}
	var raw bytes.Buffer
	fmt.Fprintf(&raw, "%s %s HTTP/1.1\r\n", method, target)
	hasHost := false
	for line := range strings.SplitSeq(header, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" || strings.ContainsRune(line, '\r') {
			continue
		}
		name, _, _ := strings.Cut(line, ":")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "content-length", "transfer-encoding":
			continue // the body's length is set below
		case "host":
			hasHost = true
		}
		raw.WriteString(line + "\r\n")
	}
	if !hasHost {
		raw.WriteString("Host: 127.0.0.1:9000\r\n")
	}
	fmt.Fprintf(&raw, "Content-Length: %d\r\n\r\n", len(body))
	raw.Write(body)
	req, err := http.ReadRequest(bufio.NewReader(&raw))
	if err != nil {
		return nil
	}
	return req
}

// checkStoreWhole fails t unless every version of every object in the
// store reads back whole.
func checkStoreWhole(t *testing.T, st *cellar.Store) {
	t.Helper()
	ctx := context.Background()
	buckets, err := st.ListBuckets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, bi := range buckets {
		b := st.Bucket(bi.Name)
		for info, err := range b.Versions(ctx, nil) {
			if err != nil {
				t.Fatalf("list versions of %s: %v", bi.Name, err)
			}
			if info.DeleteMarker {
				continue
			}
			obj, err := b.Get(ctx, info.Key, &cellar.GetOptions{VersionID: info.VersionID})
			if err != nil {
				t.Fatalf("%s/%s@%s listed but not readable: %v", bi.Name, info.Key, info.VersionID, err)
			}
			h := md5.New()
			n, err := io.Copy(h, obj)
			obj.Close()
			if err != nil || n != info.Size {
				t.Fatalf("%s/%s@%s: read %d of %d bytes: %v", bi.Name, info.Key, info.VersionID, n, info.Size, err)
			}
			if info.PartsCount == 0 && hex.EncodeToString(h.Sum(nil)) != info.ETag {
				t.Fatalf("%s/%s@%s: bytes do not match ETag %s", bi.Name, info.Key, info.VersionID, info.ETag)
			}
		}
	}
}
