package index

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestPebbleCrash checks durability and atomicity across a simulated power
// loss: the in-memory file system drops whatever was not synced. Every batch
// whose Apply returned must survive; none may survive in part.
func TestPebbleCrash(t *testing.T) {
	quiet := &PebbleOptions{Logger: slog.New(slog.DiscardHandler)}
	for _, unsynced := range []int{0, 50, 100} {
		t.Run(fmt.Sprintf("unsynced=%d%%", unsynced), func(t *testing.T) {
			ctx := t.Context()
			fs := vfs.NewCrashableMem()
			p, err := openPebble("db", fs, quiet)
			if err != nil {
				t.Fatal(err)
			}
			const batches, perBatch = 50, 20
			for i := range batches {
				var b Batch
				for j := range perBatch {
					b.Set(fmt.Appendf(nil, "b%03d/k%02d", i, j), fmt.Appendf(nil, "%d", i))
				}
				if i > 0 {
					b.Delete(fmt.Appendf(nil, "b%03d/k00", i-1))
				}
				if err := p.Apply(ctx, &b); err != nil {
					t.Fatal(err)
				}
			}
			var rng *rand.Rand
			if unsynced > 0 {
				rng = rand.New(rand.NewPCG(uint64(unsynced), 1))
			}
			crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: unsynced, RNG: rng})
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}

			p, err = openPebble("db", crashed, quiet)
			if err != nil {
				t.Fatalf("reopening after the crash: %v", err)
			}
			defer p.Close()
			for i := range batches {
				for j := range perBatch {
					k := fmt.Appendf(nil, "b%03d/k%02d", i, j)
					v, err := p.Get(ctx, k)
					deleted := j == 0 && i < batches-1
					switch {
					case deleted && !errors.Is(err, ErrNotFound):
						t.Fatalf("Get(%s) = %q, %v after the crash; a later batch deleted it", k, v, err)
					case !deleted && (err != nil || string(v) != fmt.Sprint(i)):
						t.Fatalf("Get(%s) = %q, %v after the crash; want %d", k, v, err, i)
					}
				}
			}
		})
	}
}
