package cellar_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/cellarhq/cellar"
)

// BenchmarkList lists 10,000 keys a page of 1,000 at a time, from memory.
func BenchmarkList(b *testing.B) {
	ctx := context.Background()
	s := newStore(b, nil)
	bk := newBucket(b, s, "bench")
	const keys = 10_000
	for i := range keys {
		if _, err := bk.Put(ctx, fmt.Sprintf("logs/%06d", i), nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		n := 0
		for _, err := range bk.Objects(ctx, &cellar.ListOptions{Prefix: "logs/"}) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != keys {
			b.Fatalf("listed %d keys, want %d", n, keys)
		}
	}
	b.ReportMetric(float64(keys*b.N)/b.Elapsed().Seconds(), "keys/s")
}

// BenchmarkPutSmall puts 4 KiB objects into memory zones: the small
// layout's encoding and commit cost, without a disk.
func BenchmarkPutSmall(b *testing.B) {
	for _, size := range []int{cellar.SmallObjectSize, cellar.SmallObjectSize + 1} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			ctx := context.Background()
			s := newStore(b, nil)
			bk := newBucket(b, s, "bench")
			body := randBytes(1, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := bk.Put(ctx, fmt.Sprintf("k%d", i%1000), bytes.NewReader(body), &cellar.PutOptions{Size: int64(size)}); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
