package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestRecovery(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, t.TempDir()); err != nil {
		t.Fatalf("%v\noutput:\n%s", err, out.String())
	}
	for _, want := range []string{
		"rebuilt the index from az1 and az3: 2 buckets, 8 versions, 1 delete markers",
		"every bucket, version, delete marker and tag is back",
		"all at full redundancy",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
