package cellar

import (
	"errors"
	"io/fs"

	"github.com/cellarhq/cellar/erasure"
)

// Sentinel errors. Compare with errors.Is: the store wraps them with
// details (the bucket, key or field at fault).
var (
	ErrNoSuchBucket        = errors.New("cellar: no such bucket")
	ErrNoSuchKey           = &notExistError{"cellar: no such key"}
	ErrNoSuchVersion       = &notExistError{"cellar: no such version"}
	ErrBucketAlreadyExists = errors.New("cellar: bucket already exists")
	ErrBucketNotEmpty      = errors.New("cellar: bucket not empty")
	ErrInvalidBucketName   = errors.New("cellar: invalid bucket name")
	ErrInvalidKey          = errors.New("cellar: invalid key")
	ErrMetadataTooLarge    = errors.New("cellar: metadata too large")
	ErrInvalidMetadata     = errors.New("cellar: invalid metadata")
	ErrEntityTooLarge      = errors.New("cellar: entity too large")
	ErrIncompleteBody      = errors.New("cellar: body length does not match declared size")
	ErrInvalidArgument     = errors.New("cellar: invalid argument")
	ErrPreconditionFailed  = errors.New("cellar: precondition failed")
	ErrNotModified         = errors.New("cellar: not modified")
	ErrMethodNotAllowed    = errors.New("cellar: method not allowed")
	ErrInvalidRequest      = errors.New("cellar: invalid request")
	ErrClosed              = errors.New("cellar: store closed")
	ErrInvalidOptions      = errors.New("cellar: invalid options")
	ErrInvalidTag          = errors.New("cellar: invalid tag")
	ErrTooManyTags         = errors.New("cellar: too many tags")
	ErrTooManyKeys         = errors.New("cellar: too many keys")
	ErrBadDigest           = errors.New("cellar: bad digest")
	ErrInvalidDigest       = errors.New("cellar: invalid digest")

	// Multipart uploads (multipart.go).
	ErrNoSuchUpload      = &notExistError{"cellar: no such upload"}
	ErrInvalidPart       = errors.New("cellar: invalid part")
	ErrInvalidPartOrder  = errors.New("cellar: invalid part order")
	ErrEntityTooSmall    = errors.New("cellar: entity too small")
	ErrInvalidPartNumber = errors.New("cellar: invalid part number")
	ErrInvalidRange      = errors.New("cellar: invalid range")

	// ErrQuorum reports that too few zones took a write, or that too few
	// shards of an object could be read. It matches erasure.ErrQuorum too.
	ErrQuorum = &wrapSentinel{"cellar: quorum not reached", erasure.ErrQuorum}
	// ErrCorrupt reports data that failed verification beyond repair.
	ErrCorrupt = errors.New("cellar: data corrupt beyond repair")
)

// Lifecycle configurations (lifecycle.go, lifecycle_config.go).
var (
	// ErrInvalidLifecycle reports a lifecycle configuration that S3 would
	// refuse (S3: InvalidArgument). The error names the rule and field.
	ErrInvalidLifecycle = errors.New("cellar: invalid lifecycle configuration")
	// ErrMalformedLifecycle reports a lifecycle document that is not
	// well-formed or not shaped as S3 requires (S3: MalformedXML). It
	// matches ErrInvalidLifecycle too, so match it first.
	ErrMalformedLifecycle = &wrapSentinel{"cellar: malformed lifecycle configuration", ErrInvalidLifecycle}
	// ErrNoSuchLifecycleConfiguration reports a bucket without a lifecycle
	// configuration. It matches fs.ErrNotExist.
	ErrNoSuchLifecycleConfiguration = &notExistError{"cellar: no such lifecycle configuration"}
	// ErrNotImplemented reports a valid S3 request that the store does
	// not support (S3: NotImplemented). No operation of the store returns
	// it today; it is kept for callers that match on it.
	ErrNotImplemented = errors.New("cellar: not implemented")
	// ErrIndexExists reports that RebuildIndex was asked to rebuild an
	// index that is there, without RebuildOptions.Replace.
	ErrIndexExists = errors.New("cellar: index exists")
)

// Storage classes and restore (storageclass.go, restore.go).
var (
	// ErrInvalidStorageClass reports a storage class the store does not
	// know (S3: InvalidStorageClass, 400).
	ErrInvalidStorageClass = errors.New("cellar: invalid storage class")
	// ErrInvalidObjectState reports an operation that the object's
	// storage class or restore state does not allow: reading a GLACIER or
	// DEEP_ARCHIVE object that is not restored, restoring an object that
	// is not archived (S3: InvalidObjectState, 403).
	ErrInvalidObjectState = errors.New("cellar: invalid object state")
	// ErrRestoreAlreadyInProgress reports a restore of an object whose
	// restore is still running (S3: RestoreAlreadyInProgress, 409).
	ErrRestoreAlreadyInProgress = errors.New("cellar: restore already in progress")
)

// notExistError is a sentinel that also matches fs.ErrNotExist.
type notExistError struct{ msg string }

func (e *notExistError) Error() string        { return e.msg }
func (e *notExistError) Is(target error) bool { return target == fs.ErrNotExist }

// wrapSentinel is a sentinel that also matches a lower layer's sentinel.
type wrapSentinel struct {
	msg   string
	inner error
}

func (e *wrapSentinel) Error() string        { return e.msg }
func (e *wrapSentinel) Is(target error) bool { return target == e.inner }

// DeleteMarkerError is returned by Get and Head when the key's current
// version is a delete marker. It matches ErrNoSuchKey (or, when a delete
// marker was asked for by version ID, ErrMethodNotAllowed) and carries the
// marker's version ID, as S3 reports it in x-amz-delete-marker and
// x-amz-version-id.
type DeleteMarkerError struct {
	Bucket, Key, VersionID string
	Err                    error
}

func (e *DeleteMarkerError) Error() string {
	return e.Err.Error() + ": " + e.Bucket + "/" + e.Key + " is a delete marker (version " + e.VersionID + ")"
}

func (e *DeleteMarkerError) Unwrap() error { return e.Err }
