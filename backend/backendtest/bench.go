package backendtest

import (
	"fmt"
	"io"
	"testing"

	"github.com/cellarhq/cellar/backend"
)

// RunBenchmarks runs the shared backend benchmarks against a backend made
// by newBackend, a fresh one per benchmark.
func RunBenchmarks(b *testing.B, newBackend func(b *testing.B) backend.Backend) {
	b.Run("Write1MiB", func(b *testing.B) { benchWrite(b, newBackend(b), 1<<20, 32) })
	b.Run("CreateCommit4KiB", func(b *testing.B) { benchWrite(b, newBackend(b), 4<<10, 1024) })
	b.Run("ReadAt256KiB", func(b *testing.B) { benchReadAt(b, newBackend(b), 256<<10) })
	b.Run("OpenReadAtClose4KiB", func(b *testing.B) { benchOpenRead(b, newBackend(b), 4<<10) })
}

// benchNames returns n distinct blob names. Benchmarks cycle through them,
// so a backend holds at most n blobs whatever b.N is.
func benchNames(prefix string, n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf("bench/%s/%08x", prefix, i)
	}
	return s
}

// benchWrite creates, fills with size bytes in one Write, and commits a
// blob per iteration.
func benchWrite(b *testing.B, be backend.Backend, size, distinct int) {
	data := pattern(1, size)
	names := benchNames("w", distinct)
	ctx := b.Context()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		w, err := be.Create(ctx, names[i%len(names)])
		if err != nil {
			b.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			b.Fatal(err)
		}
		if err := w.Commit(); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// benchReadAt reads size bytes per iteration from an open 4 MiB blob, at
// offsets that walk through it.
func benchReadAt(b *testing.B, be backend.Backend, size int) {
	const blobSize = 4 << 20
	put(b, be, "bench/r", pattern(2, blobSize))
	r, err := be.Open(b.Context(), "bench/r")
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	p := make([]byte, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	off := 0
	for b.Loop() {
		if n, err := r.ReadAt(p, int64(off)); n != size || (err != nil && err != io.EOF) {
			b.Fatalf("ReadAt = %d, %v", n, err)
		}
		off = (off + size) % blobSize
	}
}

// benchOpenRead opens a small blob, reads it whole and closes it per
// iteration: the cost of fetching one small shard.
func benchOpenRead(b *testing.B, be backend.Backend, size int) {
	names := benchNames("o", 64)
	for _, name := range names {
		put(b, be, name, pattern(3, size))
	}
	ctx := b.Context()
	p := make([]byte, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r, err := be.Open(ctx, names[i%len(names)])
		if err != nil {
			b.Fatal(err)
		}
		if n, err := r.ReadAt(p, 0); n != size || (err != nil && err != io.EOF) {
			b.Fatalf("ReadAt = %d, %v", n, err)
		}
		if err := r.Close(); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
