// Package cellartest runs a cellar S3 endpoint for tests: an in-memory
// store behind s3api on a loopback port, started in milliseconds and
// removed when the test ends. Point any S3 client at it: aws-sdk-go-v2,
// minio-go, or plain net/http with SigV4.
//
//	func TestArchive(t *testing.T) {
//		srv := cellartest.NewServer(t, &cellartest.Options{TLS: true})
//		client := s3.New(s3.Options{
//			BaseEndpoint: aws.String(srv.URL),
//			UsePathStyle: true,
//			Region:       srv.Region,
//			Credentials:  credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, ""),
//			HTTPClient:   srv.Client(), // trusts the server's certificate
//		})
//		// ... the code under test uses client; the test checks srv.Store
//		// directly, or through client.
//	}
//
// # What a server is
//
// Each Server has its own store (cellar.OpenMemory: three memory zones,
// RS(4,2), Pebble on an in-memory filesystem) and its own listener, so
// tests can run in parallel without sharing state. Server.Store is that
// store, for setting up or checking state without going through HTTP.
// The handler is the same s3api.New that cmd/cellar serves, so what
// passes against cellartest passes against "cellar serve".
//
// The server accepts exactly one credential pair, random unless
// Options gives one, and requests signed for Server.Region (us-east-1
// unless Options gives one). Addressing is path-style: clients must set
// UsePathStyle (aws-sdk-go-v2) or BucketLookupPath (minio-go).
//
// # TLS
//
// With Options.TLS the server speaks HTTPS with a self-signed certificate
// that only Server.Client trusts. Use it whenever the test should see what
// an SDK does against S3: the AWS SDKs send streaming aws-chunked bodies
// with checksum trailers only over TLS, and minio-go signs UNSIGNED-PAYLOAD
// over TLS but every chunk over plain HTTP.
//
// # Lifetime
//
// NewServer registers Close with t.Cleanup: the listener shuts, requests in
// flight finish, and the store is closed; an error closing the store fails
// the test. Start is the same without a testing.TB, for examples and
// programs; its caller closes the server.
//
// # Conformance
//
// The package's tests (sdk_test.go, minio_test.go) are the S3 conformance
// suite of cellar: they drive the server with aws-sdk-go-v2 (including its
// upload and download managers and presigner) and minio-go exactly as a
// service would, and check byte-exact data, S3's status codes and error
// codes, and the SDKs' typed errors.
package cellartest
