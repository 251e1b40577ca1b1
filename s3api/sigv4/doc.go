// Package sigv4 authenticates S3 requests signed with AWS Signature Version 4
// and decodes their payloads, and signs requests for tests and Go clients.
//
// A Verifier checks a request signed by an Authorization header
// (AWS4-HMAC-SHA256) or by a presigned URL (X-Amz-Algorithm, X-Amz-Credential,
// X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Signature), and
// returns a Result whose Body yields the object's bytes: checked against the
// signed SHA-256, or decoded from aws-chunked framing with every chunk
// signature verified. Every failure is an *Error carrying S3's error code and
// HTTP status; match them with errors.Is against the Err sentinels.
// SignRequest, SignStreaming and Presign produce what Verify accepts.
//
// # Canonical request
//
// As AWS specifies for S3:
//
//   - The canonical URI is the decoded path URI-encoded once: every byte
//     outside A-Z a-z 0-9 - _ . ~ becomes %XX (uppercase hex), '/' is kept,
//     and "." , ".." and "//" are not normalized. So a key "a b+c%" is
//     signed as "a%20b%2Bc%25" however the client escaped it on the wire.
//     Clients that sign their own wire path verbatim (escaping less than
//     AWS does, e.g. a raw '$' or ':') are accepted too: when the first
//     form fails, the path exactly as received (r.URL.EscapedPath) is tried.
//     Both forms decode to the same r.URL.Path, so no other resource can be
//     reached with the signature.
//   - The canonical query decodes r.URL.RawQuery as net/url does ('+' is a
//     space, as r.URL.Query() sees it), URI-encodes each name and value,
//     sorts by encoded name then value, and writes "name=value" even for a
//     bare "?acl". X-Amz-Signature is left out of a presigned URL's.
//     A query with a bad percent escape is refused (InvalidArgument).
//   - Canonical headers are the SignedHeaders, in the order listed, with
//     values trimmed, runs of spaces collapsed and repeated headers joined
//     by ','. host is r.Host; content-length and transfer-encoding, which
//     net/http moves out of r.Header, come from r.ContentLength and
//     r.TransferEncoding. A host signed without its explicit default port
//     (":80", ":443", as aws-sdk-go-v2 signs presigned URLs) is accepted.
//   - The payload line is x-amz-content-sha256 for an Authorization header
//     (required, as S3 requires it), and UNSIGNED-PAYLOAD for a presigned URL
//     unless the URL itself carries X-Amz-Content-Sha256.
//   - Signatures are compared in constant time.
//
// # What a signed request must satisfy
//
//   - The credential scope is <key>/<YYYYMMDD>/<region>/s3/aws4_request; its
//     date must be the day of the request time and its region the
//     Verifier's (AuthorizationHeaderMalformed, or
//     AuthorizationQueryParametersError for presigned URLs, with S3's
//     message). An empty Verifier.Region accepts any region.
//   - Header auth: the time is x-amz-date, else the Date header, which must
//     then be signed; more than MaxSkew (15 minutes) away from Now either
//     way is RequestTimeTooSkewed. host must be signed, and so must every
//     x-amz-* header present, as S3 demands, so nothing can be added in
//     flight (AccessDenied naming the unsigned headers).
//   - Presigned URLs: X-Amz-Expires is 1 to 604800 seconds; after
//     X-Amz-Date + expiry the URL fails with AccessDenied "Request has
//     expired", and with an X-Amz-Date more than MaxSkew in the future it
//     is "not valid yet". host must be signed. A presigned URL cannot carry
//     a signed aws-chunked body (there is no seed for the chain).
//   - A request with both an Authorization header and presigned parameters
//     is refused (InvalidArgument), as S3 does.
//
// A request with no signature at all is anonymous: Verify returns
// Result{Anonymous: true} and the handler decides. Its body is still framed
// as x-amz-content-sha256 says (an unsigned trailer is decoded, a hex hash
// checked); a signed aws-chunked body without a signature is refused.
//
// Not supported, and refused with S3's InvalidRequest: Signature Version 2
// (header or query) and Version 4A (ECDSA). X-Amz-Security-Token is signed
// like any header or parameter but not checked: there are no session
// credentials. Browser POST-policy uploads are not handled here.
//
// # aws-chunked bodies
//
// With x-amz-content-sha256 set to STREAMING-AWS4-HMAC-SHA256-PAYLOAD the
// body is a series of chunks
//
//	hex-size;chunk-signature=<sig>\r\n <size bytes> \r\n
//
// ending with a zero-size chunk and "\r\n". Each signature is the HMAC of
//
//	AWS4-HMAC-SHA256-PAYLOAD \n <x-amz-date> \n <scope> \n <previous signature> \n
//	<hex sha256 of ""> \n <hex sha256 of the chunk>
//
// where the first "previous signature" is the request's own (the seed).
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER adds, after the final chunk,
// trailing "name:value\r\n" lines and "x-amz-trailer-signature:<sig>\r\n",
// the HMAC of
//
//	AWS4-HMAC-SHA256-TRAILER \n <x-amz-date> \n <scope> \n <final chunk signature> \n
//	<hex sha256 of the trailers as "name:value\n", sorted by name>
//
// and an empty line. STREAMING-UNSIGNED-PAYLOAD-TRAILER has bare
// "hex-size\r\n" chunk headers and unsigned trailers. Where clients differ,
// the decoder accepts each form: an empty line before the trailers, a
// missing last empty line, and bare "\n" line ends in the trailer section.
// Trailers named in x-amz-trailer must all arrive and no others
// (MalformedTrailerError). Result.Trailer returns them once the body ends.
//
// INVARIANT: bytes of a signed chunk are returned only after the chunk's
// signature has been verified; a chunk whose signature fails yields none.
// The sum of chunk sizes must equal X-Amz-Decoded-Content-Length (a longer
// body fails at the chunk that overflows, a shorter one with IncompleteBody
// at the final chunk). Errors are sticky: every Read after one returns it.
//
// Limits, each failing with an *Error rather than allocating: a chunk
// header or trailer line is at most 4 KiB, there are at most 16 trailers,
// and a signed chunk, which is held in memory until verified, is at most
// MaxSignedChunkSize (16 MiB; SDKs send 64 to 128 KiB). Unsigned chunks are
// streamed and bounded only by the declared length. A body that ends early
// is IncompleteBody; other read errors from the connection pass through
// unchanged.
package sigv4
