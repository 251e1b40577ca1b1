// Package s3api serves the Amazon S3 REST API over a cellar.Store, so that
// S3 clients (aws-sdk-go-v2, minio-go, boto3, the aws CLI) work against it.
//
//	h := s3api.New(store, &s3api.Options{
//		Credentials: map[string]string{"AKIDEXAMPLE": "secret"},
//		Region:      "us-east-1",
//		BaseDomain:  "s3.localhost", // optional: BUCKET.s3.localhost
//	})
//	http.ListenAndServe(":9000", h)
//
// New returns a plain http.Handler with no global state: several may serve
// one store, and tests run it under httptest. Requests are authenticated
// with AWS Signature Version 4 (package sigv4): an Authorization header,
// a presigned URL (see Presign), or an aws-chunked streaming body.
// Both path-style (/bucket/key) and virtual-hosted-style
// (bucket.BaseDomain/key) requests are served.
//
// # Operations
//
//	Operation                        Request                           Store
//	ListBuckets                      GET /                             Store.ListBuckets
//	CreateBucket                     PUT /b                            Store.CreateBucket
//	HeadBucket                       HEAD /b                           Bucket.Info
//	DeleteBucket                     DELETE /b                         Store.DeleteBucket
//	GetBucketLocation                GET /b?location                   Bucket.Info
//	GetBucketVersioning              GET /b?versioning                 Bucket.Versioning
//	PutBucketVersioning              PUT /b?versioning                 Bucket.SetVersioning
//	GetBucketLifecycleConfiguration  GET /b?lifecycle                  Bucket.Lifecycle
//	PutBucketLifecycleConfiguration  PUT /b?lifecycle                  Bucket.SetLifecycle
//	DeleteBucketLifecycle            DELETE /b?lifecycle               Bucket.DeleteLifecycle
//	ListObjects                      GET /b                            Bucket.List
//	ListObjectsV2                    GET /b?list-type=2                Bucket.List
//	ListObjectVersions               GET /b?versions                   Bucket.ListVersions
//	DeleteObjects                    POST /b?delete                    Bucket.DeleteObjects
//	ListMultipartUploads             GET /b?uploads                    Bucket.ListMultipartUploads
//	PutObject                        PUT /b/k                          Bucket.Put
//	CopyObject                       PUT /b/k + x-amz-copy-source      Bucket.CopyObject
//	GetObject                        GET /b/k                          Bucket.Get
//	HeadObject                       HEAD /b/k                         Bucket.Head
//	DeleteObject                     DELETE /b/k                       Bucket.Delete
//	GetObjectAttributes              GET /b/k?attributes               Bucket.Head
//	GetObjectTagging                 GET /b/k?tagging                  Bucket.GetObjectTagging
//	PutObjectTagging                 PUT /b/k?tagging                  Bucket.PutObjectTagging
//	DeleteObjectTagging              DELETE /b/k?tagging               Bucket.DeleteObjectTagging
//	RestoreObject                    POST /b/k?restore                 Bucket.Restore
//	CreateMultipartUpload            POST /b/k?uploads                 Bucket.CreateMultipartUpload
//	UploadPart                       PUT /b/k?partNumber=N&uploadId=U  MultipartUpload.UploadPart
//	UploadPartCopy                   PUT ... + x-amz-copy-source       MultipartUpload.UploadPartCopy
//	CompleteMultipartUpload          POST /b/k?uploadId=U              MultipartUpload.Complete
//	AbortMultipartUpload             DELETE /b/k?uploadId=U            MultipartUpload.Abort
//	ListParts                        GET /b/k?uploadId=U               MultipartUpload.ListParts
//
// Every other S3 subresource (?acl, ?policy, ?cors, ?encryption,
// ?website, ?notification, ?replication, ?object-lock, ?retention,
// ?legal-hold, ?select, bucket ?tagging, object ?lifecycle,
// ...), POST
// Object form uploads and OPTIONS answer 501 NotImplemented with S3's
// <Error> body, never a success or a listing that a client could mistake
// for the feature working. A method an address does not take is 405
// MethodNotAllowed.
//
// # Answers
//
// Every answer carries x-amz-request-id (unique per handler: a random base
// plus a counter), x-amz-id-2 and Server. XML answers are S3's shapes in
// the namespace http://s3.amazonaws.com/doc/2006-03-01/, with Content-Type
// application/xml. ETags are quoted in headers and XML (except in
// GetObjectAttributes, where S3 sends it bare); Last-Modified is RFC 1123
// GMT; XML times are ISO 8601 with milliseconds. Errors are S3's
// <Error><Code/><Message/>...<Resource/><RequestId/><HostId/></Error>,
// with the extra elements S3 adds for some codes (BucketName, Key,
// VersionId, UploadId, RangeRequested, ActualObjectSize, ArgumentName,
// ArgumentValue, Method, ResourceType, Header); HEAD answers and 304 carry
// the status alone. The store's errors become codes through one table,
// errorTable in errors.go, matched with errors.Is over cellar's sentinels;
// authentication failures keep the code and status sigv4 gives them.
// Internal errors are logged with the request ID and answered with S3's
// generic InternalError message.
//
// # Decisions
//
//   - Accounts. The store has no owners or ACLs: every access key in
//     Options.Credentials is a user of one account, which owns every
//     bucket. Owner elements name that account. ACL headers other than
//     x-amz-acl private (or bucket-owner-full-control) and x-amz-grant-*
//     are NotImplemented. With AllowAnonymous, unsigned requests have the
//     same rights as signed ones (there are no policies to limit them);
//     without it they are AccessDenied.
//   - CreateBucket on a bucket that exists is 409 BucketAlreadyOwnedByYou
//     in every region, us-east-1 included (where S3 keeps a legacy 200):
//     one answer everywhere, and a client learns the bucket was there.
//     A LocationConstraint must be the handler's Region ("EU" for
//     eu-west-1) or absent, else IllegalLocationConstraintException; unlike
//     S3, an explicit us-east-1 is accepted in us-east-1. The bucket records
//     the handler's Region, which GetBucketLocation (empty for us-east-1,
//     as S3) and HeadBucket's x-amz-bucket-region report.
//   - x-amz-version-id is sent for every version in a bucket that has ever
//     had versioning, "null" included, and never in one that has not, as
//     S3 does. x-amz-copy-source-version-id follows the same rule for the
//     source's bucket.
//   - Storage classes: x-amz-storage-class on PutObject, CopyObject and
//     CreateMultipartUpload takes every class of a general purpose bucket
//     (STANDARD, REDUCED_REDUNDANCY, STANDARD_IA, ONEZONE_IA,
//     INTELLIGENT_TIERING, GLACIER_IR, GLACIER, DEEP_ARCHIVE); an unknown
//     one is InvalidStorageClass, those of other kinds of bucket
//     (OUTPOSTS, SNOW, EXPRESS_ONEZONE, FSX_OPENZFS) NotImplemented. GET
//     and HEAD send x-amz-storage-class for every class but STANDARD, as
//     S3 does; a GLACIER or DEEP_ARCHIVE object that is not restored is
//     403 InvalidObjectState to GET. RestoreObject (POST ?restore, Days
//     and a tier in GlacierJobParameters or at the top level, Standard by
//     default) answers 202 when a restore starts, 200 when the object was
//     already restored and only its expiry moved, 409
//     RestoreAlreadyInProgress while one runs, and 403 InvalidObjectState
//     for an object that is not archived; select restores are
//     NotImplemented. x-amz-restore (ongoing-request, expiry-date) is sent
//     on GET and HEAD of an object ever restored, and x-amz-expiration
//     (expiry-date, rule-id) on PUT, GET, HEAD, CopyObject and
//     CompleteMultipartUpload when a lifecycle rule will expire the
//     version.
//   - What the store cannot keep is refused, not dropped: server-side
//     encryption, Object Lock or a website redirect are NotImplemented. So
//     are If-None-Match values other than "*" on writes, conditional
//     deletes (If-Match on DELETE) and MFA Delete.
//   - System metadata. Cache-Control, Content-Disposition,
//     Content-Encoding, Content-Language and Expires of PutObject,
//     CreateMultipartUpload and CopyObject (with the REPLACE directive;
//     COPY keeps the source's and ignores the request's) are stored as
//     sent, repeated headers joined with ", ", and returned on GetObject
//     and HeadObject, where response-* parameters override them. The
//     aws-chunked coding of a SigV4 streaming body is dropped from
//     Content-Encoding; when nothing is left none is stored.
//   - Bodies. PutObject and UploadPart need Content-Length, or
//     x-amz-decoded-content-length with an aws-chunked body: a body of
//     unknown length is 411 MissingContentLength. The store is given the
//     declared size and the request's digests (cellar.Integrity), and
//     checks all of them as it streams: the length (IncompleteBody),
//     Content-MD5 (InvalidDigest if malformed, BadDigest if wrong) and the
//     additional checksum (BadDigest), committing nothing when one fails,
//     including a failure found only at the very end of the body. The
//     handler's wrapper around the body turns connection failures into
//     IncompleteBody or RequestTimeout. XML request bodies are read whole,
//     at most 1 MiB (8 MiB for DeleteObjects, CompleteMultipartUpload and
//     PutBucketLifecycleConfiguration), else 400 MaxMessageLengthExceeded;
//     their Content-MD5 is checked by the handler when present and never
//     required (DeleteObjects included), except by
//     PutBucketLifecycleConfiguration (see Lifecycle). A body that is not
//     one well-formed document of the expected root element (in any
//     namespace, or none) is MalformedXML.
//   - Checksums, as S3 has them (CRC32, CRC32C, CRC64NVME, SHA1, SHA256).
//     PutObject and UploadPart take one x-amz-checksum-<algorithm>
//     header, or one x-amz-checksum-<algorithm> trailer named in
//     x-amz-trailer of an aws-chunked body with trailers, which the store
//     reads once the body has ended; x-amz-sdk-checksum-algorithm, when
//     sent, must name the same algorithm. Refused with InvalidRequest and
//     S3's messages: two checksums (headers, or a header and a trailer),
//     x-amz-sdk-checksum-algorithm alone or naming another or an unknown
//     algorithm, a value that is not the base64 of one digest (header or
//     trailer), an x-amz-checksum-* trailer of an unknown algorithm or on
//     a body that carries no trailers. Without one, PutObject stores
//     CRC64NVME, as S3 does. PutObject answers x-amz-checksum-<algorithm>
//     and x-amz-checksum-type (FULL_OBJECT); UploadPart answers the
//     part's checksum.
//   - Multipart checksums. CreateMultipartUpload takes
//     x-amz-checksum-algorithm and x-amz-checksum-type (unknown values, a
//     type without an algorithm, FULL_OBJECT with SHA1/SHA256 and
//     COMPOSITE with CRC64NVME are InvalidRequest) and echoes both when an
//     algorithm was named; none means CRC64NVME FULL_OBJECT. A part
//     carrying a checksum of another algorithm than its upload's (SDKs add
//     CRC32 to every part by default) is accepted: the handler checks the
//     client's checksum itself and the part keeps the upload's, which the
//     answer gives (S3 refuses this for an upload that named its
//     algorithm; the store does not say whether one did).
//     CompleteMultipartUpload passes each part's ChecksumXXX (a wrong one
//     is InvalidPart) and a whole-object x-amz-checksum-<algorithm> (a
//     wrong one is BadDigest and leaves the upload); a COMPOSITE value
//     may come without its "-N" when x-amz-checksum-type says COMPOSITE or
//     the algorithm is SHA1 or SHA256, as minio-go sends it. Its answer
//     gives ChecksumXXX and ChecksumType, in the XML and as headers.
//     ListParts gives each part's ChecksumXXX and the upload's
//     ChecksumAlgorithm and ChecksumType. The store does not say which
//     algorithm an upload keeps, so the handler names it from the size of
//     the parts' digests: CRC64NVME, SHA1 and SHA256 are told apart, but
//     a 4-byte digest may be CRC32 or CRC32C, and ListParts and
//     UploadPartCopy (and UploadPart, when the request named no algorithm)
//     then leave the checksum out.
//   - GetObject and HeadObject with x-amz-checksum-mode: ENABLED answer
//     x-amz-checksum-<algorithm> and x-amz-checksum-type, except for a
//     range (whose bytes the checksum does not cover, as S3 omits it) and
//     for a partNumber of a multipart object: S3 then gives the part's
//     checksum, which the store does not expose for a completed object, so
//     none is sent. GetObjectAttributes gives Checksum (ChecksumXXX,
//     without a COMPOSITE value's "-N", and ChecksumType). CopyObject
//     computes x-amz-checksum-algorithm's checksum, else the source's
//     algorithm's, and gives ChecksumXXX and ChecksumType in
//     CopyObjectResult.
//   - Keys come from the decoded request path: spaces, '+', '%', "//",
//     unicode and a leading '/' all survive. Keys over 1,024 bytes are
//     KeyTooLongError before the store is asked.
//   - GetObject and HeadObject answer a single Range (bytes=a-b, a-,
//     -n) with 206 and Content-Range. A range that no byte satisfies (a
//     first byte past the end, so any a-b range of an empty object, or
//     bytes=-0) is 416 InvalidRange with Content-Range: bytes */size; a
//     non-empty suffix of an empty object is satisfiable (RFC 9110) and
//     answered with the whole, empty object. A header with several ranges
//     or bad syntax is ignored and the whole object returned, as S3 does.
//     If-* conditions follow S3's precedence (a true If-Match overrides a
//     false If-Unmodified-Since; a false If-None-Match decides over
//     If-Modified-Since); an If-Modified-Since in the future is ignored
//     (RFC 9110). 304 carries ETag and Last-Modified. partNumber answers
//     206 with the part's Content-Range (also part 1 of an object not
//     uploaded in parts, unless it is empty) and, for a multipart object,
//     x-amz-mp-parts-count; with Range it is InvalidRequest. The store
//     gives a part's size only, so its offset is summed from the parts
//     before it. response-* parameters set their headers, and are
//     InvalidRequest on an anonymous request, as S3 answers. A read that
//     fails after the status line aborts the connection, so a client never
//     takes a cut-short body for a whole one.
//   - A GET, HEAD or tagging request that meets a delete marker is 404
//     NoSuchKey (405 MethodNotAllowed when the marker was named by version
//     ID) with x-amz-delete-marker: true and the marker's x-amz-version-id.
//   - Listings. ListObjects (v1) gives NextMarker only with a delimiter,
//     as S3 does. A marker or start-after inside a common prefix (or equal
//     to one, as a NextMarker may be) skips every key under that prefix,
//     since S3 lists no common prefix that does not sort after the marker;
//     ListObjectVersions and ListMultipartUploads apply the same rule to
//     key-marker. encoding-type=url encodes Key, Prefix, Delimiter, Marker,
//     NextMarker, StartAfter, KeyMarker, NextKeyMarker and CommonPrefixes
//     as S3 does: every byte but letters, digits, "-_.~/" as %XX (a space
//     is %20, a '+' %2B), which url.QueryUnescape, url.PathUnescape and
//     botocore all decode. max-keys=0 lists nothing, untruncated. Tokens
//     are the store's, opaque. ListBuckets serves max-buckets,
//     continuation-token (the base64url of the last name), prefix and
//     bucket-region.
//   - DeleteObjects takes 1 to 1,000 keys (else MalformedXML) and answers
//     each in the order asked: Deleted (with DeleteMarker and
//     DeleteMarkerVersionId when a marker was made or removed) or Error
//     with the key's code; Quiet lists only errors.
//   - CopyObject ignores metadata and x-amz-tagging headers unless the
//     matching directive is REPLACE, as S3 does; a directive other than
//     COPY or REPLACE is InvalidArgument. x-amz-copy-source is split at its
//     first '?' before being URL-decoded, so a '?' in a source key must be
//     sent as %3F, as SDKs do.
//   - UploadPartCopy: the store does not report which source version it
//     read, so in a bucket that keeps versions the handler reads the
//     source's current version ID first and copies that version by ID, to
//     name it in x-amz-copy-source-version-id.
//   - CompleteMultipartUpload commits in one index batch without copying
//     data, so it answers at once; a failure is a plain error status. The
//     handler never sends S3's early 200 with whitespace and an <Error>
//     body, which S3 uses for completions that take long.
//   - Lifecycle. PutBucketLifecycleConfiguration requires what S3 requires,
//     an integrity check of the body: Content-MD5 or one
//     x-amz-checksum-<algorithm> header or aws-chunked trailer (as SDKs
//     send), verified by the handler (BadDigest); with neither it is 400
//     InvalidRequest "Missing required header for this request:
//     Content-MD5", as S3 answers. The body must be S3's XML
//     LifecycleConfiguration (the store's parser also reads the aws CLI's
//     JSON, which is MalformedXML here) and is checked by
//     cellar.ParseLifecycle as S3 checks it: a document S3 finds malformed
//     (unknown elements, a missing Status, no rules) is MalformedXML, an
//     invalid rule (Days 0, no action, a duplicate ID, ...) is
//     InvalidArgument, both with a message that names the rule and field.
//     Transitions follow S3's default minimum object size, so
//     x-amz-transition-default-minimum-object-size takes only
//     all_storage_classes_128K (varies_by_storage_class is
//     NotImplemented, another value InvalidArgument), and
//     PutBucketLifecycleConfiguration and GetBucketLifecycleConfiguration
//     answer that default in the header, as S3 does. A refused
//     configuration leaves the one in force. GetBucketLifecycleConfiguration
//     answers the rules in S3's namespace, with the IDs the store gave rules
//     sent without one; a bucket without rules is 404
//     NoSuchLifecycleConfiguration (with BucketName). DeleteBucketLifecycle
//     is 204 whether or not there were rules. The store runs the rules
//     (cellar.Store.RunLifecycle).
//   - GetObjectAttributes gives ObjectParts (PartsCount and paging) for
//     multipart objects but no Part elements: S3 lists them, with their
//     checksums, for COMPOSITE objects, and the store does not expose a
//     completed object's part checksums.
//   - Request errors that the client caused by going away
//     (context.Canceled) are RequestTimeout; a quorum the store could not
//     reach, or a closed store, is 503 ServiceUnavailable, which SDKs
//     retry.
package s3api
