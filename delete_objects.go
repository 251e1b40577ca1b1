package cellar

import (
	"context"
	"fmt"
	"sync"
)

// ObjectToDelete names one object (or one version) for DeleteObjects.
type ObjectToDelete struct {
	Key       string
	VersionID string
}

// DeleteObjectResult is DeleteObjects' answer for one key: the DeleteResult
// on success, or the error that key met.
type DeleteObjectResult struct {
	Key       string
	VersionID string // as asked
	DeleteResult
	Err error
}

// deleteObjectsWorkers bounds how many deletes of one DeleteObjects call
// run at once; their index commits are synced together by the index.
const deleteObjectsWorkers = 16

// DeleteObjects deletes up to 1,000 objects or versions in one call, as
// S3's DeleteObjects does, with one result per key in the order given. A
// key's failure does not stop the others; the returned error is only for
// the call as a whole (too many keys, no such bucket, a closed store).
func (b *Bucket) DeleteObjects(ctx context.Context, objects []ObjectToDelete) ([]DeleteObjectResult, error) {
	if err := b.s.check(); err != nil {
		return nil, err
	}
	if len(objects) > MaxDeleteObjects {
		return nil, fmt.Errorf("%w: %d keys in one DeleteObjects, at most %d", ErrTooManyKeys, len(objects), MaxDeleteObjects)
	}
	if len(objects) == 0 {
		return nil, fmt.Errorf("%w: DeleteObjects needs at least one key", ErrInvalidArgument)
	}
	if _, err := b.s.bucketRecord(ctx, b.name); err != nil {
		return nil, err
	}
	results := make([]DeleteObjectResult, len(objects))
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(deleteObjectsWorkers, len(objects)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				o := objects[i]
				res, err := b.Delete(ctx, o.Key, &DeleteOptions{VersionID: o.VersionID})
				results[i] = DeleteObjectResult{Key: o.Key, VersionID: o.VersionID, DeleteResult: res, Err: err}
			}
		}()
	}
	for i := range objects {
		work <- i
	}
	close(work)
	wg.Wait()
	return results, nil
}
