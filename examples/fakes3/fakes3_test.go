package fakes3_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cellarhq/cellar/cellartest"
)

// Reports is the code under test: a service's store of reports in an S3
// bucket. In a real service it lives in its own package and gets its
// *s3.Client from main.
type Reports struct {
	S3     *s3.Client
	Bucket string
}

// Save stores a report unless one of that name exists.
func (r *Reports) Save(ctx context.Context, name string, body []byte) error {
	_, err := r.S3.PutObject(ctx, &s3.PutObjectInput{
		Bucket:      aws.String(r.Bucket),
		Key:         aws.String("reports/" + name),
		Body:        bytes.NewReader(body),
		ContentType: aws.String("text/csv"),
		IfNoneMatch: aws.String("*"), // never overwrite a report
	})
	return err
}

// Load returns a report, or an error matching *types.NoSuchKey.
func (r *Reports) Load(ctx context.Context, name string) ([]byte, error) {
	out, err := r.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(r.Bucket), Key: aws.String("reports/" + name)})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

// newS3Client points aws-sdk-go-v2 at a cellartest server: all it takes
// is the endpoint, path-style addressing, the server's credentials and
// region, and its HTTP client (which trusts its TLS certificate).
func newS3Client(srv *cellartest.Server) *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(srv.URL),
		UsePathStyle: true,
		Region:       srv.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, ""),
		HTTPClient:   srv.Client(),
		// What config.LoadDefaultConfig gives a service: CRC32 checksums,
		// sent in an aws-chunked trailer over TLS.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
	})
}

func TestReports(t *testing.T) {
	srv := cellartest.NewServer(t, &cellartest.Options{TLS: true})
	ctx := context.Background()
	// Set up state directly in the store, without going through S3.
	if err := srv.Store.CreateBucket(ctx, "acme-reports", nil); err != nil {
		t.Fatal(err)
	}
	reports := &Reports{S3: newS3Client(srv), Bucket: "acme-reports"}

	if err := reports.Save(ctx, "2026-11.csv", []byte("day,total\n1,42\n")); err != nil {
		t.Fatalf("Save: %v", err)
	}
	got, err := reports.Load(ctx, "2026-11.csv")
	if err != nil || string(got) != "day,total\n1,42\n" {
		t.Fatalf("Load: %q, %v", got, err)
	}
	// The service's error handling meets S3's real errors.
	if err := reports.Save(ctx, "2026-11.csv", []byte("again")); err == nil {
		t.Errorf("Save over an existing report succeeded")
	}
	var nsk *types.NoSuchKey
	if _, err := reports.Load(ctx, "1999-01.csv"); !errors.As(err, &nsk) {
		t.Errorf("Load of a missing report: %v; want *types.NoSuchKey", err)
	}
	// And the test can check what the service stored, from Go.
	info, err := srv.Store.Bucket("acme-reports").Head(ctx, "reports/2026-11.csv", nil)
	if err != nil || info.ContentType != "text/csv" {
		t.Errorf("stored report: %+v, %v", info, err)
	}
}

// BenchmarkStartup measures what each test pays for its own S3: from
// NewServer to the first answered request (a ListBuckets; over TLS with
// the handshake), then closing the server.
func BenchmarkStartup(b *testing.B) {
	for _, useTLS := range []bool{false, true} {
		name := "http"
		if useTLS {
			name = "tls"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			var first time.Duration
			for b.Loop() {
				start := time.Now()
				tb := &iterationTB{TB: b}
				srv := cellartest.NewServer(tb, &cellartest.Options{TLS: useTLS})
				if _, err := newS3Client(srv).ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
					b.Fatal(err)
				}
				first += time.Since(start)
				tb.cleanup()
			}
			b.ReportMetric(float64(first.Microseconds())/float64(b.N), "µs-to-first-request/op")
		})
	}
}

// iterationTB runs the cleanups NewServer registers at the end of each
// iteration rather than of the benchmark, so that a long run does not
// keep b.N servers alive.
type iterationTB struct {
	testing.TB
	cleanups []func()
}

func (t *iterationTB) Cleanup(f func()) { t.cleanups = append(t.cleanups, f) }

func (t *iterationTB) cleanup() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

// Example of the same in a program: cellartest.Start instead of NewServer.
func Example() {
	srv, err := cellartest.Start(nil)
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	client := newS3Client(srv)
	ctx := context.Background()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("demo")}); err != nil {
		panic(err)
	}
	_, err = client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("demo"), Key: aws.String("hello.txt"), Body: bytes.NewReader([]byte("hi"))})
	if err != nil {
		panic(err)
	}
	out, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("demo")})
	if err != nil {
		panic(err)
	}
	for _, o := range out.Contents {
		fmt.Println(aws.ToString(o.Key), aws.ToInt64(o.Size))
	}
	// Output: hello.txt 2
}
