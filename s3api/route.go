package s3api

import (
	"net/http"
)

// operation serves one S3 operation. It returns an error instead of
// answering one; ServeHTTP answers it.
type operation func(h *handler, q *request) error

// unsupported lists the subresources of S3 that the store does not
// implement. A request naming one is NotImplemented, never a listing or a
// GET of the object that a client would take for an answer. "tagging" on
// a bucket is among them; on an object it is served. "lifecycle" is the
// reverse: served on a bucket, NotImplemented on an object.
var unsupported = []string{
	"accelerate", "acl", "analytics", "cors", "encryption", "intelligent-tiering",
	"inventory", "legal-hold", "logging", "metadataConfiguration",
	"metadataTable", "metrics", "notification", "object-lock", "ownershipControls",
	"policy", "policyStatus", "publicAccessBlock", "renameObject", "replication",
	"requestPayment", "retention", "select", "select-type", "session",
	"torrent", "website",
}

// route picks the operation for a request from its method, whether it
// names a bucket and a key, and its subresources.
func route(q *request) (operation, error) {
	m := q.r.Method
	has := func(k string) bool { _, ok := q.query[k]; return ok }
	if q.bucket == "" {
		if m == http.MethodGet {
			return (*handler).listBuckets, nil
		}
		return nil, methodNotAllowed(m, "SERVICE")
	}
	for _, s := range unsupported {
		if has(s) {
			return nil, errNotImplemented("The ?"+s+" subresource is not implemented by this server.", "")
		}
	}
	if q.key == "" {
		if has("lifecycle") {
			switch m {
			case http.MethodGet:
				return (*handler).getBucketLifecycle, nil
			case http.MethodPut:
				return (*handler).putBucketLifecycle, nil
			case http.MethodDelete:
				return (*handler).deleteBucketLifecycle, nil
			}
			return nil, methodNotAllowed(m, "BUCKET")
		}
		switch m {
		case http.MethodGet:
			switch {
			case has("location"):
				return (*handler).getBucketLocation, nil
			case has("versioning"):
				return (*handler).getBucketVersioning, nil
			case has("versions"):
				return (*handler).listObjectVersions, nil
			case has("uploads"):
				return (*handler).listMultipartUploads, nil
			case has("tagging"):
				return nil, errNotImplemented("Bucket tagging is not implemented by this server.", "")
			case has("list-type"):
				if q.query.Get("list-type") != "2" {
					return nil, errInvalidArgument("Invalid List Type specified in Request", "list-type", q.query.Get("list-type"))
				}
				return (*handler).listObjectsV2, nil
			}
			return (*handler).listObjects, nil
		case http.MethodHead:
			return (*handler).headBucket, nil
		case http.MethodPut:
			switch {
			case has("versioning"):
				return (*handler).putBucketVersioning, nil
			case has("tagging"):
				return nil, errNotImplemented("Bucket tagging is not implemented by this server.", "")
			}
			return (*handler).createBucket, nil
		case http.MethodDelete:
			if has("tagging") {
				return nil, errNotImplemented("Bucket tagging is not implemented by this server.", "")
			}
			return (*handler).deleteBucket, nil
		case http.MethodPost:
			if has("delete") {
				return (*handler).deleteObjects, nil
			}
			return nil, errNotImplemented("POST Object (browser-based uploads) is not implemented by this server.", "")
		}
		return nil, methodNotAllowed(m, "BUCKET")
	}
	if has("lifecycle") {
		return nil, errNotImplemented("The ?lifecycle subresource of an object is not implemented by this server.", "")
	}
	switch m {
	case http.MethodGet:
		switch {
		case has("tagging"):
			return (*handler).getObjectTagging, nil
		case has("attributes"):
			return (*handler).getObjectAttributes, nil
		case has("uploadId"):
			return (*handler).listParts, nil
		}
		return (*handler).getObject, nil
	case http.MethodHead:
		return (*handler).headObject, nil
	case http.MethodPut:
		switch {
		case has("tagging"):
			return (*handler).putObjectTagging, nil
		case has("uploadId") || has("partNumber"):
			if q.r.Header.Get("x-amz-copy-source") != "" {
				return (*handler).uploadPartCopy, nil
			}
			return (*handler).uploadPart, nil
		case q.r.Header.Get("x-amz-copy-source") != "":
			return (*handler).copyObject, nil
		}
		return (*handler).putObject, nil
	case http.MethodDelete:
		switch {
		case has("tagging"):
			return (*handler).deleteObjectTagging, nil
		case has("uploadId"):
			return (*handler).abortMultipartUpload, nil
		}
		return (*handler).deleteObject, nil
	case http.MethodPost:
		switch {
		case has("uploads"):
			return (*handler).createMultipartUpload, nil
		case has("uploadId"):
			return (*handler).completeMultipartUpload, nil
		case has("restore"):
			return (*handler).restoreObject, nil
		}
	}
	return nil, methodNotAllowed(m, "OBJECT")
}

func methodNotAllowed(method, resource string) *apiError {
	return newError("MethodNotAllowed", "").with("Method", method).with("ResourceType", resource)
}
