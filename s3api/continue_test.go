package s3api_test

import (
	"bufio"
	"context"
	"net"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cellarhq/cellar"
	"github.com/cellarhq/cellar/s3api"
)

// TestEmptyBodyExpectContinue: a PUT of an empty body that asks
// Expect: 100-continue gets "100 Continue" before its answer, as S3 sends
// it; botocore misreads the next response on the connection otherwise.
func TestEmptyBodyExpectContinue(t *testing.T) {
	ctx := context.Background()
	st, err := cellar.OpenMemory(ctx, &cellar.Options{SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.CreateBucket(ctx, "cont", nil); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s3api.New(st, &s3api.Options{AllowAnonymous: true}))
	defer srv.Close()
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := "PUT /cont/empty HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nExpect: 100-continue\r\nx-amz-content-sha256: UNSIGNED-PAYLOAD\r\n\r\n"
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(line, "HTTP/1.1 100 Continue") {
		t.Fatalf("first response line %q, want 100 Continue", line)
	}
}
