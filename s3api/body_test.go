package s3api

import (
	"bytes"
	"crypto/md5"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func payloadCode(err error) string {
	if err == nil {
		return ""
	}
	if err == io.EOF {
		return "EOF"
	}
	return toError(err).Code
}

// readPayload reads p as the store does: io.ReadFull into a buffer of
// bufSize until a short read.
func readPayload(p io.Reader, bufSize int) ([]byte, error) {
	var out []byte
	buf := make([]byte, bufSize)
	for {
		n, err := io.ReadFull(p, buf)
		out = append(out, buf[:n]...)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

func TestPayload(t *testing.T) {
	data := []byte("0123456789abcdef")
	sum := md5.Sum(data)
	wrong := md5.Sum([]byte("x"))
	cases := []struct {
		name string
		r    io.Reader
		want int64
		md5  []byte
		code string
	}{
		{"whole", bytes.NewReader(data), 16, nil, ""},
		{"unknown length", bytes.NewReader(data), -1, sum[:], ""},
		{"md5 matches", iotest.OneByteReader(bytes.NewReader(data)), 16, sum[:], ""},
		{"md5 differs", bytes.NewReader(data), 16, wrong[:], "BadDigest"},
		{"md5 differs, data with EOF", iotest.DataErrReader(bytes.NewReader(data)), 16, wrong[:], "BadDigest"},
		{"short", bytes.NewReader(data[:10]), 16, nil, "IncompleteBody"},
		{"long", bytes.NewReader(data), 10, nil, "IncompleteBody"},
		{"broken connection", io.MultiReader(bytes.NewReader(data[:4]), iotest.ErrReader(io.ErrUnexpectedEOF)), 16, nil, "IncompleteBody"},
		{"verification failure", io.MultiReader(bytes.NewReader(data), iotest.ErrReader(newError("XAmzContentSHA256Mismatch", ""))), 16, nil, "XAmzContentSHA256Mismatch"},
	}
	for _, c := range cases {
		// The buffer sizes put the end of the body at, before and after the
		// end of a buffer, where io.ReadFull drops errors.
		for _, bufSize := range []int{1, 4, 8, 16, 17, 64} {
			var r io.Reader = c.r
			if s, ok := c.r.(io.Seeker); ok {
				s.Seek(0, io.SeekStart)
			} else if bufSize > 1 {
				continue // one pass only for readers that cannot rewind
			}
			p := newPayload(r, c.want)
			if c.md5 != nil {
				p.withDigest(md5.New(), func(sum []byte) error {
					if !bytes.Equal(sum, c.md5) {
						return newError("BadDigest", "")
					}
					return nil
				})
			}
			got, err := readPayload(p, bufSize)
			if code := payloadCode(err); code != c.code {
				t.Errorf("%s, buffer %d: error %v (%s), want %s", c.name, bufSize, err, code, c.code)
			}
			if c.code == "" && !bytes.Equal(got, data) {
				t.Errorf("%s, buffer %d: read %q", c.name, bufSize, got)
			}
		}
	}
	// Errors are sticky.
	p := newPayload(strings.NewReader("abc"), 5)
	io.ReadAll(p)
	for range 3 {
		if _, err := p.Read(make([]byte, 4)); payloadCode(err) != "IncompleteBody" {
			t.Fatalf("error not sticky: %v", err)
		}
	}
	var ae *apiError
	if _, err := p.Read(nil); !errors.As(err, &ae) {
		t.Fatalf("not an apiError: %T", err)
	}
}

func TestContentMD5Header(t *testing.T) {
	for v, code := range map[string]string{
		md5b64([]byte("x")): "",
		"":                  "InvalidDigest",
		"AAAA":              "InvalidDigest",
		"***":               "InvalidDigest",
	} {
		_, err := contentMD5(map[string][]string{"Content-Md5": {v}})
		if got := payloadCode(err); got != code {
			t.Errorf("Content-MD5 %q: %s, want %s", v, got, code)
		}
	}
	if sum, err := contentMD5(nil); sum != nil || err != nil {
		t.Errorf("absent Content-MD5: %v %v", sum, err)
	}
}
