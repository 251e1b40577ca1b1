package main

import (
	"io"
	"math/rand/v2"
)

// generator is the body of every object the bench writes: a fixed
// pseudo-random pattern of genPeriod bytes, repeated. The byte at object
// offset x is pattern[x % genPeriod]. The period is no multiple of a block
// or shard size, so a block read from the wrong place does not match by
// chance. Producing bytes costs one memmove, so the generator never limits
// a measurement.
type generator struct{ pattern []byte }

const genPeriod = 8<<20 - 4093

func newGenerator() *generator {
	g := &generator{pattern: make([]byte, genPeriod)}
	rand.NewChaCha8([32]byte{'c', 'e', 'l', 'l', 'a', 'r'}).Read(g.pattern)
	return g
}

// fill copies the object bytes at off.. into p.
func (g *generator) fill(p []byte, off int64) {
	for len(p) > 0 {
		c := copy(p, g.pattern[off%genPeriod:])
		p = p[c:]
		off += int64(c)
	}
}

// reader returns a reader of object bytes [off, end).
func (g *generator) reader(off, end int64) io.Reader {
	return &genReader{g: g, off: off, end: end}
}

type genReader struct {
	g        *generator
	off, end int64
}

func (r *genReader) Read(p []byte) (int, error) {
	if r.off >= r.end {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.end-r.off)]
	r.g.fill(p, r.off)
	r.off += int64(len(p))
	return len(p), nil
}

// small returns the body of small object i: size contiguous bytes of the
// pattern (size <= maxSmallSize < genPeriod), shared and read-only.
func (g *generator) small(i, size int) []byte {
	o := int64(i) * int64(size) % int64(genPeriod-size)
	return g.pattern[o : o+int64(size) : o+int64(size)]
}
