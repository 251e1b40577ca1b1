package s3api

import (
	"testing"
)

func TestParseRange(t *testing.T) {
	cases := []struct {
		h          string
		size       int64
		start, len int64
		ok         bool
		bad        bool // InvalidRange
	}{
		{"bytes=0-0", 10, 0, 1, true, false},
		{"bytes=0-9", 10, 0, 10, true, false},
		{"bytes= 2 - 3 ", 10, 2, 2, true, false},
		{"bytes=3-", 10, 3, 7, true, false},
		{"bytes=-4", 10, 6, 4, true, false},
		{"bytes=-40", 10, 0, 10, true, false},
		{"bytes=5-99999999999999999999", 10, 0, 0, false, false},
		{"bytes=10-", 10, 0, 0, false, true},
		{"bytes=-0", 10, 0, 0, false, true},
		{"bytes=0-", 0, 0, 0, false, true},
		{"bytes=-1", 0, 0, 0, false, false},
		{"bytes=1-0", 10, 0, 0, false, false},
		{"bytes=0-1,3-4", 10, 0, 0, false, false},
		{"bytes=-", 10, 0, 0, false, false},
		{"bytes=a-b", 10, 0, 0, false, false},
		{"bytes=+1-2", 10, 0, 0, false, false},
		{"octets=0-1", 10, 0, 0, false, false},
		{"", 10, 0, 0, false, false},
	}
	for _, c := range cases {
		r, ok, err := parseRange(c.h, c.size)
		if (err != nil) != c.bad || ok != c.ok || ok && (r.start != c.start || r.length != c.len) {
			t.Errorf("parseRange(%q, %d) = %+v %v %v", c.h, c.size, r, ok, err)
		}
		if c.bad && toError(err).Code != "InvalidRange" {
			t.Errorf("parseRange(%q): %v", c.h, err)
		}
	}
}

func TestParseCopySource(t *testing.T) {
	cases := []struct {
		h                      string
		bucket, key, versionID string
		code                   string
	}{
		{"bucket/key", "bucket", "key", "", ""},
		{"/bucket/dir/key", "bucket", "dir/key", "", ""},
		{"bucket/a%20b%2Bc%3Fd%25", "bucket", "a b+c?d%", "", ""},
		{"bucket/key?versionId=abc", "bucket", "key", "abc", ""},
		{"bucket/%E6%97%A5//x", "bucket", "日//x", "", ""},
		{"bucket/key?other=1", "bucket", "key", "", ""},
		{"bucket", "", "", "", "InvalidArgument"},
		{"bucket/", "", "", "", "InvalidArgument"},
		{"/", "", "", "", "InvalidArgument"},
		{"", "", "", "", "InvalidArgument"},
		{"bucket/%zz", "", "", "", "InvalidArgument"},
		{"bucket/key?versionId=", "", "", "", "InvalidArgument"},
		{"arn:aws:s3:us-east-1:1:accesspoint/ap/object/k", "", "", "", "NotImplemented"},
	}
	for _, c := range cases {
		src, err := parseCopySource(c.h)
		if c.code != "" {
			if err == nil || toError(err).Code != c.code {
				t.Errorf("parseCopySource(%q) = %+v, %v; want %s", c.h, src, err, c.code)
			}
			continue
		}
		if err != nil || src != (copySource{c.bucket, c.key, c.versionID}) {
			t.Errorf("parseCopySource(%q) = %+v, %v", c.h, src, err)
		}
	}
}

func TestParseCopyRange(t *testing.T) {
	for h, want := range map[string][2]int64{"bytes=0-0": {0, 0}, "bytes=5-9": {5, 9}} {
		a, b, err := parseCopyRange(h)
		if err != nil || a != want[0] || b != want[1] {
			t.Errorf("parseCopyRange(%q) = %d %d %v", h, a, b, err)
		}
	}
	for _, h := range []string{"bytes=5-4", "bytes=-4", "bytes=4-", "0-4", "bytes=a-b", "bytes=1-2,3-4", "bytes= 1-2"} {
		if _, _, err := parseCopyRange(h); err == nil || toError(err).Code != "InvalidArgument" {
			t.Errorf("parseCopyRange(%q): %v", h, err)
		}
	}
}

func TestURLEncode(t *testing.T) {
	for in, want := range map[string]string{
		"plain/key.txt": "plain/key.txt",
		"a b":           "a%20b",
		"a+b":           "a%2Bb",
		"100%":          "100%25",
		"日":             "%E6%97%A5",
		"\x01~_-":       "%01~_-",
	} {
		if got := urlEncode(in); got != want {
			t.Errorf("urlEncode(%q) = %q, want %q", in, got, want)
		}
	}
}
