package backend

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Memory is a Backend that keeps blobs in memory. It is meant for tests and
// for OpenMemory stores; its contents vanish with the process.
type Memory struct {
	mu    sync.RWMutex
	blobs map[string]memBlob
}

type memBlob struct {
	data    []byte
	modTime time.Time
}

var _ Backend = (*Memory)(nil)

// NewMemory returns an empty in-memory backend.
func NewMemory() *Memory {
	return &Memory{blobs: make(map[string]memBlob)}
}

// Create implements Backend.
func (m *Memory) Create(ctx context.Context, name string) (Writer, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &memWriter{m: m, ctx: ctx, name: name}, nil
}

// Open implements Backend.
func (m *Memory) Open(ctx context.Context, name string) (Reader, error) {
	b, err := m.get(ctx, name)
	if err != nil {
		return nil, err
	}
	return &memReader{ctx: ctx, r: bytes.NewReader(b.data), size: int64(len(b.data))}, nil
}

// Stat implements Backend.
func (m *Memory) Stat(ctx context.Context, name string) (Info, error) {
	b, err := m.get(ctx, name)
	if err != nil {
		return Info{}, err
	}
	return Info{Name: name, Size: int64(len(b.data)), ModTime: b.modTime}, nil
}

func (m *Memory) get(ctx context.Context, name string) (memBlob, error) {
	if err := ValidName(name); err != nil {
		return memBlob{}, err
	}
	if err := ctx.Err(); err != nil {
		return memBlob{}, err
	}
	m.mu.RLock()
	b, ok := m.blobs[name]
	m.mu.RUnlock()
	if !ok {
		return memBlob{}, fmt.Errorf("%w: %s", ErrNotExist, name)
	}
	return b, nil
}

// Delete implements Backend.
func (m *Memory) Delete(ctx context.Context, name string) error {
	if err := ValidName(name); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.blobs[name]; !ok {
		return fmt.Errorf("%w: %s", ErrNotExist, name)
	}
	delete(m.blobs, name)
	return nil
}

// List implements Backend. The walk sees a snapshot of the names taken when
// it starts.
func (m *Memory) List(ctx context.Context, prefix string, fn func(Info) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.RLock()
	var infos []Info
	for name, b := range m.blobs {
		if strings.HasPrefix(name, prefix) {
			infos = append(infos, Info{Name: name, Size: int64(len(b.data)), ModTime: b.modTime})
		}
	}
	m.mu.RUnlock()
	for _, info := range infos {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(info); err != nil {
			return err
		}
	}
	return nil
}

// Probe implements Backend; memory is always reachable.
func (m *Memory) Probe(ctx context.Context) error { return ctx.Err() }

type memWriter struct {
	m         *Memory
	ctx       context.Context
	name      string
	buf       bytes.Buffer
	err       error // first Write error; poisons the Writer
	spent     bool  // Commit or Abort was called
	committed bool
}

func (w *memWriter) Write(p []byte) (int, error) {
	if w.spent {
		return 0, ErrSpent
	}
	if w.err != nil {
		return 0, w.err
	}
	if err := w.ctx.Err(); err != nil {
		w.err = err
		return 0, err
	}
	return w.buf.Write(p)
}

func (w *memWriter) Commit() error {
	if w.spent {
		return ErrSpent
	}
	w.spent = true
	err := w.err
	if err == nil {
		err = w.ctx.Err()
	}
	if err != nil {
		w.buf = bytes.Buffer{}
		return err
	}
	data := bytes.Clone(w.buf.Bytes())
	w.buf = bytes.Buffer{}
	w.m.mu.Lock()
	w.m.blobs[w.name] = memBlob{data: data, modTime: time.Now()}
	w.m.mu.Unlock()
	w.committed = true
	return nil
}

func (w *memWriter) Abort() error {
	if w.committed {
		return ErrSpent
	}
	w.spent = true
	w.buf = bytes.Buffer{}
	return nil
}

type memReader struct {
	ctx    context.Context
	r      *bytes.Reader
	size   int64
	closed atomic.Bool
}

func (r *memReader) ReadAt(p []byte, off int64) (int, error) {
	if r.closed.Load() {
		return 0, fs.ErrClosed
	}
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.ReadAt(p, off)
}

func (r *memReader) Close() error {
	if r.closed.Swap(true) {
		return fs.ErrClosed
	}
	return nil
}

func (r *memReader) Size() int64 { return r.size }
