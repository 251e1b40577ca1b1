package cellar

import (
	"context"
	"testing"
	"time"

	"github.com/cellarhq/cellar/backend"
)

// A probe that answers at once is never reported as timed out, nor is the
// next one refused as overlapping it, however the goroutines interleave.
func TestProbeAnswersCount(t *testing.T) {
	h := newZoneHealth(0, backend.NewMemory())
	ctx := context.Background()
	for i := range 20000 {
		if err := h.probe(ctx, time.Minute); err != nil {
			t.Fatalf("probe %d of a healthy zone: %v", i, err)
		}
	}
}
