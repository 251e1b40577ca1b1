package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestMultipart(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, t.TempDir()); err != nil {
		t.Fatalf("%v\noutput:\n%s", err, out.String())
	}
	for _, want := range []string{
		"first attempt failed: cellar: multipart upload ",
		"connection dropped (simulated)",
		"in progress with 4 parts stored",
		"uploaded 4 parts, kept 4",
		"67108864 bytes in 8 parts, ETag ",
		"-8\n",
		"verified: the object's 67108864 bytes equal the file's",
		"part 8 of 8 alone: 8388608 bytes",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
