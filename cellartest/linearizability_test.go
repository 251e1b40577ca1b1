package cellartest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cellarhq/cellar"
	"github.com/cellarhq/cellar/backend"
	"github.com/cellarhq/cellar/backend/faulty"
	"github.com/cellarhq/cellar/cellartest"
	"github.com/cellarhq/cellar/internal/lincheck"
)

// sdkClient is the S3 API through aws-sdk-go-v2, as lincheck drives it.
type sdkClient struct {
	c      *s3.Client
	bucket string
}

func (c sdkClient) Put(ctx context.Context, key string, body []byte) (string, error) {
	out, err := c.c.PutObject(ctx, &s3.PutObjectInput{Bucket: &c.bucket, Key: &key, Body: bytes.NewReader(body)})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.VersionId), nil
}

func (c sdkClient) Get(ctx context.Context, key string) ([]byte, error) {
	out, err := c.c.GetObject(ctx, &s3.GetObjectInput{Bucket: &c.bucket, Key: &key})
	var nsk *types.NoSuchKey
	if errors.As(err, &nsk) {
		return nil, lincheck.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

func (c sdkClient) Delete(ctx context.Context, key string) (string, error) {
	out, err := c.c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &c.bucket, Key: &key})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.VersionId), nil
}

func (c sdkClient) List(ctx context.Context, prefix string) (map[string]string, error) {
	out, err := c.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &c.bucket, Prefix: &prefix})
	if err != nil {
		return nil, err
	}
	if aws.ToBool(out.IsTruncated) {
		return nil, fmt.Errorf("listing of %q truncated", prefix)
	}
	etags := map[string]string{}
	for _, o := range out.Contents {
		etags[aws.ToString(o.Key)] = strings.Trim(aws.ToString(o.ETag), `"`)
	}
	return etags, nil
}

// versions lists every version of the bucket with ListObjectVersions,
// page by page: key → version IDs, newest first.
func (c sdkClient) versions(ctx context.Context) (map[string][]string, error) {
	vs := map[string][]string{}
	in := &s3.ListObjectVersionsInput{Bucket: &c.bucket, MaxKeys: aws.Int32(100)}
	for {
		out, err := c.c.ListObjectVersions(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, o := range out.Versions {
			vs[aws.ToString(o.Key)] = append(vs[aws.ToString(o.Key)], aws.ToString(o.VersionId))
		}
		for _, o := range out.DeleteMarkers {
			vs[aws.ToString(o.Key)] = append(vs[aws.ToString(o.Key)], aws.ToString(o.VersionId))
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
	}
	// The SDK parses versions and delete markers into two lists, losing
	// how they interleave; cellar's version IDs begin with the key's
	// sequence number in fixed-width hex, so they sort newest first.
	for _, ids := range vs {
		slices.SortFunc(ids, func(a, b string) int { return strings.Compare(b, a) })
	}
	return vs, nil
}

// TestLinearizableHTTP is the root package's TestLinearizable through the
// S3 API: aws-sdk-go-v2 over TLS against a cellartest server whose zones
// are broken while clients race, in an unversioned and a versioned bucket.
// The versioned bucket's history, as ListObjectVersions gives it page by
// page, must hold every acknowledged write in an order real time allows.
func TestLinearizableHTTP(t *testing.T) {
	for _, versioned := range []bool{false, true} {
		t.Run(map[bool]string{false: "unversioned", true: "versioned"}[versioned], func(t *testing.T) {
			ctx := context.Background()
			var zones []*faulty.Backend
			so := &cellar.Options{
				BlockSize:         64 << 10,
				DeleteGrace:       -1,
				SweepInterval:     20 * time.Millisecond,
				ProbeInterval:     10 * time.Millisecond,
				ProbeTimeout:      time.Second,
				ScrubInterval:     -1,
				LifecycleInterval: -1,
			}
			for range 3 {
				z := faulty.Wrap(backend.NewMemory())
				zones = append(zones, z)
				so.Zones = append(so.Zones, z)
			}
			srv := cellartest.NewServer(t, &cellartest.Options{TLS: true, StoreOptions: so})
			e := sdkFor(t, srv)
			c := sdkClient{c: e.client, bucket: "lin"}
			if _, err := c.c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &c.bucket}); err != nil {
				t.Fatal(err)
			}
			var versions func() (map[string][]string, error)
			if versioned {
				if _, err := c.c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
					Bucket:                  &c.bucket,
					VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled},
				}); err != nil {
					t.Fatal(err)
				}
				versions = func() (map[string][]string, error) { return c.versions(ctx) }
			}
			lincheck.Test(t, c, zones, 1, versions)
		})
	}
}
