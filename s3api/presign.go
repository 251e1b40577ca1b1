package s3api

import (
	"time"

	"github.com/cellarhq/cellar/s3api/sigv4"
)

// Credentials are an access key ID and its secret, as Presign takes them.
type Credentials = sigv4.Credentials

// Presign returns rawURL signed with SigV4 query parameters, so that
// anyone holding it may make that one request (method on that URL) until
// expires has passed from now. region must be the handler's Region. It is
// sigv4.Presign, here so that users of the handler need not import sigv4.
func Presign(method, rawURL string, c Credentials, region string, now time.Time, expires time.Duration) (string, error) {
	return sigv4.Presign(method, rawURL, c, region, now, expires)
}
