// Package fakes3 shows how a Go service's tests replace S3 with cellar:
// cellartest.NewServer starts an in-memory S3 endpoint on a loopback port
// in about a millisecond, and the service's own aws-sdk-go-v2 client is
// pointed at it. The package is only its test (fakes3_test.go) and this
// page; README.md says more and gives the startup figure.
//
//	srv := cellartest.NewServer(t, &cellartest.Options{TLS: true})
//	client := s3.New(s3.Options{
//		BaseEndpoint: aws.String(srv.URL),
//		UsePathStyle: true,
//		Region:       srv.Region,
//		Credentials:  credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, ""),
//		HTTPClient:   srv.Client(),
//	})
package fakes3
