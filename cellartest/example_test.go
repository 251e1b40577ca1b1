package cellartest_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/cellarhq/cellar/cellartest"
	"github.com/cellarhq/cellar/s3api/sigv4"
)

// A server, and S3 requests signed with SigV4 and sent with net/http. In a
// test, use cellartest.NewServer(t, nil) instead of Start: it closes the
// server when the test ends.
func Example() {
	srv, err := cellartest.Start(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	// send signs a request as srv's one user and returns its status and
	// body.
	send := func(method, path, body string) string {
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			log.Fatal(err)
		}
		sum := sha256.Sum256([]byte(body))
		creds := sigv4.Credentials{AccessKey: srv.AccessKey, SecretKey: srv.SecretKey}
		if err := sigv4.SignRequest(req, creds, srv.Region, time.Now(), hex.EncodeToString(sum[:])); err != nil {
			log.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			log.Fatal(err)
		}
		if len(b) == 0 || resp.StatusCode != http.StatusOK {
			return resp.Status
		}
		return resp.Status + ": " + string(b)
	}
	fmt.Println(send("PUT", "/photos", ""))
	fmt.Println(send("PUT", "/photos/hello.txt", "hello, cellar"))
	fmt.Println(send("GET", "/photos/hello.txt", ""))

	// The store behind the endpoint is at hand for checks.
	info, err := srv.Store.Bucket("photos").Head(context.Background(), "hello.txt", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Size, "bytes in the store")
	// Output:
	// 200 OK
	// 200 OK
	// 200 OK: hello, cellar
	// 13 bytes in the store
}
