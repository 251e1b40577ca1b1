package erasure

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalidParams reports bad Params or options; the message names the field.
	ErrInvalidParams = errors.New("erasure: invalid parameters")
	// ErrQuorum reports a write that could not commit enough shards. Nothing
	// of it stays visible.
	ErrQuorum = errors.New("erasure: write quorum not reached")
	// ErrWeakPlacement reports a placement that would put more than
	// ParityShards shards of a stripe in one zone, so that losing the zone
	// would lose data.
	ErrWeakPlacement = errors.New("erasure: placement puts more shards in one zone than parity covers")
	// ErrCorrupt reports a shard blob whose header, block, trailer or length
	// fails verification.
	ErrCorrupt = errors.New("erasure: corrupt shard")
	// ErrTooManyBad reports a block of which more than ParityShards shards are
	// missing, corrupt or unreadable. The Reader returns it rather than
	// guessing: it never returns unverified bytes.
	ErrTooManyBad = errors.New("erasure: too many bad shards to decode")
	// ErrClosed reports use of a Writer after Commit or Abort (or a Write
	// after CloseWrite), or of a Reader after Close.
	ErrClosed = errors.New("erasure: writer or reader already closed")
)

// ShardError says which shard, in which zone, failed and why.
type ShardError struct {
	Zone  int // index into the Zones slice
	Shard int // shard index, 0..k+m-1; data shards first
	Err   error
}

func (e *ShardError) Error() string {
	return fmt.Sprintf("erasure: zone %d shard %d: %v", e.Zone, e.Shard, e.Err)
}

// Unwrap returns the underlying error.
func (e *ShardError) Unwrap() error { return e.Err }
