package cellartest_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"io"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cellarhq/cellar/cellartest"
)

// TestSDKLoadDefaultConfig builds the client the way services do, with
// config.LoadDefaultConfig and its defaults (CRC32 trailers on aws-chunked
// bodies over TLS), trusting the test certificate through a buildable
// client as the machine's AWS_CA_BUNDLE requires.
func TestSDKLoadDefaultConfig(t *testing.T) {
	ctx := context.Background()
	srv := cellartest.NewServer(t, &cellartest.Options{TLS: true})
	tlsConf := srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.TLSClientConfig = tlsConf
	})
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion(srv.Region),
		config.WithHTTPClient(hc),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, "")),
		config.WithRetryMaxAttempts(1),
	)
	if err != nil {
		t.Fatal(err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
		o.UsePathStyle = true
	})
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("defaults")}); err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("load default config "), 150_000) // 3 MB
	put, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("defaults"), Key: aws.String("k"), Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	sum := binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(body))
	if got, want := aws.ToString(put.ChecksumCRC32), base64.StdEncoding.EncodeToString(sum); got != want {
		t.Fatalf("PutObject ChecksumCRC32 %q, want %q", got, want)
	}
	get, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("defaults"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(get.Body)
	get.Body.Close()
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("GetObject returned %d bytes (err %v), want the %d put", len(got), err, len(body))
	}
	// What the store holds is the body, byte for byte, not the framing.
	obj, err := srv.Store.Bucket("defaults").Get(ctx, "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := io.ReadAll(obj)
	obj.Close()
	if !bytes.Equal(stored, body) {
		t.Fatal("the store holds different bytes from the body sent")
	}
}
