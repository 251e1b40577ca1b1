package erasure

import (
	"fmt"
	"sync"

	"github.com/klauspost/reedsolomon"
)

// Limits on Params.
const (
	// MaxShards is the largest DataShards+ParityShards (GF(2^8) Reed-Solomon).
	MaxShards = 256
	// MaxBlockSize is the largest BlockSize.
	MaxBlockSize = 64 << 20
)

// Params fixes how one object is erasure coded. They are stored in every
// shard header and must be given again, unchanged, to read the object.
type Params struct {
	DataShards   int // k: shards that hold object data, >= 1
	ParityShards int // m: Reed-Solomon parity shards, >= 0
	BlockSize    int // bytes of object data per stripe (erasure block)
}

// Validate checks p; the error wraps ErrInvalidParams and names the field.
func (p Params) Validate() error {
	switch {
	case p.DataShards < 1:
		return fmt.Errorf("%w: DataShards %d < 1", ErrInvalidParams, p.DataShards)
	case p.ParityShards < 0:
		return fmt.Errorf("%w: ParityShards %d < 0", ErrInvalidParams, p.ParityShards)
	case p.DataShards > MaxShards || p.DataShards+p.ParityShards > MaxShards:
		return fmt.Errorf("%w: DataShards+ParityShards %d > %d", ErrInvalidParams, p.DataShards+p.ParityShards, MaxShards)
	case p.BlockSize < p.DataShards:
		return fmt.Errorf("%w: BlockSize %d < DataShards %d", ErrInvalidParams, p.BlockSize, p.DataShards)
	case p.BlockSize > MaxBlockSize:
		return fmt.Errorf("%w: BlockSize %d > %d", ErrInvalidParams, p.BlockSize, MaxBlockSize)
	}
	return nil
}

// ShardBlockSize is the length of a full shard block: ceil(BlockSize/k).
// The last block of an object is usually shorter (see doc.go). No rounding
// to a SIMD width is done: reedsolomon handles any length, and the format
// stays the plain definition.
func (p Params) ShardBlockSize() int {
	return (p.BlockSize + p.DataShards - 1) / p.DataShards
}

// Shards is k+m, the number of shards of every stripe.
func (p Params) Shards() int { return p.DataShards + p.ParityShards }

// rsOptions is the one place that turns cellar's choices into reedsolomon
// options. Parallelism comes from pipelining stripes over goroutines, not
// from splitting one stripe, so each encoder call stays on one goroutine.
func rsOptions() []reedsolomon.Option {
	return []reedsolomon.Option{reedsolomon.WithMaxGoroutines(1)}
}

// encoders caches one reedsolomon.Encoder per (k, m); they are safe for
// concurrent use and keep an inversion cache worth sharing.
var encoders sync.Map // [2]int -> reedsolomon.Encoder

func encoderFor(k, m int) (reedsolomon.Encoder, error) {
	key := [2]int{k, m}
	if e, ok := encoders.Load(key); ok {
		return e.(reedsolomon.Encoder), nil
	}
	e, err := reedsolomon.New(k, m, rsOptions()...)
	if err != nil {
		return nil, fmt.Errorf("erasure: reedsolomon.New(%d, %d): %w", k, m, err)
	}
	actual, _ := encoders.LoadOrStore(key, e)
	return actual.(reedsolomon.Encoder), nil
}
