package erasure

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cellarhq/cellar/backend"
	"github.com/cellarhq/cellar/backend/faulty"
)

// Writers whose shards write slowly fill their pipelines: each may go past
// baseBufs stripe buffers, but together they never hold more than
// extraBytes of such extra buffers, and every one is given back when the
// Writers commit or abort.
func TestWriterExtraBuffersBudget(t *testing.T) {
	if held := extraHeld.Load(); held != 0 {
		t.Fatalf("extraHeld = %d before the test", held)
	}
	p := Params{DataShards: 4, ParityShards: 2, BlockSize: 256 << 10}
	zones := make([]backend.Backend, 3)
	for i := range zones {
		f := faulty.Wrap(backend.NewMemory())
		f.SetLatency(time.Millisecond)
		zones[i] = f
	}
	var peak atomic.Int64
	stop := make(chan struct{})
	var watch sync.WaitGroup
	watch.Go(func() {
		for {
			if h := extraHeld.Load(); h > peak.Load() {
				peak.Store(h)
			}
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Microsecond):
			}
		}
	})
	const writers = 8
	block := make([]byte, p.BlockSize)
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			place, err := Place(len(zones), p, uint64(i), true)
			if err != nil {
				errs[i] = err
				return
			}
			w, err := NewWriter(context.Background(), &WriteOptions{Params: p, Zones: zones, Placement: place, DataID: fmt.Sprintf("budget%d", i)})
			if err != nil {
				errs[i] = err
				return
			}
			for range 24 {
				if _, err := w.Write(block); err != nil {
					errs[i] = err
					w.Abort()
					return
				}
			}
			if i%2 == 0 {
				errs[i] = w.Abort()
				return
			}
			_, errs[i] = w.Commit([]byte("record"))
		})
	}
	wg.Wait()
	close(stop)
	watch.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	if got := peak.Load(); got == 0 || got > extraBytes {
		t.Errorf("peak extra buffers held: %d bytes, want in (0, %d]", got, extraBytes)
	}
	if held := extraHeld.Load(); held != 0 {
		t.Errorf("extraHeld = %d after every Writer finished, want 0", held)
	}
}
