package backend

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	dirTmp    = "tmp"
	tmpPrefix = "blob-" // temporary files are tmpPrefix + random + tmpSuffix
	tmpSuffix = ".tmp"
	dirPerm   = 0o755
	// nameSep replaces '/' in a blob's file name; ValidName never accepts it.
	nameSep = '+'
	// writebackEvery and syncEvery are how many bytes a blob grows by
	// between dirWriter.behind's calls, and between its fdatasyncs.
	writebackEvery = 1 << 20
	syncEvery      = 16 << 20
)

// Dir is a Backend that keeps each blob as a file under a root directory.
// The package documentation describes its layout and guarantees.
type Dir struct {
	root   string
	tmp    string
	rootID fs.FileInfo // identity of root when opened, for Probe

	// remake is held for reading by a commit's rename and for writing
	// while a removed fan-out directory is made again, so that no commit
	// lands in a directory whose own entry is not yet durable.
	remake sync.RWMutex

	mu     sync.Mutex
	active map[string]struct{} // base names of live Writers' temp files
}

var _ Backend = (*Dir)(nil)

// NewDir opens the Dir backend rooted at path, creating the directory (and
// its parents) if missing, and the tmp and fan-out directories in it, all
// made durable before it returns. It does not remove temporary files left
// by a crash; see SweepTemp. It refuses a root laid out by an older cellar,
// with two levels of fan-out directories.
func NewDir(path string) (*Dir, error) {
	if path == "" {
		return nil, errors.New("backend: NewDir: empty path")
	}
	root := filepath.Clean(path)
	if err := mkdirAllDurable(root); err != nil {
		return nil, fmt.Errorf("backend: NewDir: %w", err)
	}
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("backend: NewDir: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("backend: NewDir: %s is not a directory", root)
	}
	d := &Dir{
		root:   root,
		tmp:    filepath.Join(root, dirTmp),
		rootID: fi,
		active: make(map[string]struct{}),
	}
	if err := d.makeDirs(); err != nil {
		return nil, fmt.Errorf("backend: NewDir: %w", err)
	}
	return d, nil
}

// makeDirs creates tmp and the 256 fan-out directories where missing and
// fsyncs the root. The root is fsynced even if nothing was missing: a
// process that crashed in NewDir may have made directories it never
// fsynced.
func (d *Dir) makeDirs() error {
	if err := mkdir(d.tmp); err != nil {
		return err
	}
	for _, h := range hexBytes {
		p := filepath.Join(d.root, h)
		err := os.Mkdir(p, dirPerm)
		if err == nil {
			continue
		}
		if !errors.Is(err, fs.ErrExist) {
			return err
		}
		// An older cellar kept blobs one level further down, in
		// <h0>/<h1>/, and its <h0> directories held nothing else.
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		first, err := f.ReadDir(1)
		f.Close()
		if err != nil && err != io.EOF {
			return fmt.Errorf("%s: %w", p, err)
		}
		if len(first) == 1 && first[0].IsDir() && isHexByte(first[0].Name()) {
			return fmt.Errorf("%s holds blobs in the two-level layout of an older cellar (%s/%s/), which this version does not read", d.root, h, first[0].Name())
		}
	}
	return syncDir(d.root)
}

// Path returns the root directory of d.
func (d *Dir) Path() string { return d.root }

// SweepTemp removes temporary files, left in the tmp directory by writers
// that crashed, whose modification time is more than olderThan ago. A
// temporary file's modification time moves with every Write, so olderThan
// bounds how long a writer may sit idle. Files of d's own live Writers are
// never removed. It returns how many files it removed; on an error it keeps
// going and returns the first error.
func (d *Dir) SweepTemp(olderThan time.Duration) (int, error) {
	entries, err := readDir(d.tmp)
	if err != nil {
		return 0, fmt.Errorf("backend: sweep: %w", err)
	}
	cutoff := time.Now().Add(-olderThan)
	removed := 0
	var firstErr error
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		d.mu.Lock()
		_, live := d.active[e.Name()]
		d.mu.Unlock()
		if live {
			continue
		}
		info, err := e.Info()
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) && firstErr == nil {
				firstErr = err
			}
			continue
		}
		if !info.ModTime().Before(cutoff) {
			continue
		}
		switch err := os.Remove(filepath.Join(d.tmp, e.Name())); {
		case err == nil:
			removed++
		case errors.Is(err, fs.ErrNotExist):
		case firstErr == nil:
			firstErr = err
		}
	}
	if firstErr != nil {
		return removed, fmt.Errorf("backend: sweep: %w", firstErr)
	}
	return removed, nil
}

// Create implements Backend.
func (d *Dir) Create(ctx context.Context, name string) (Writer, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := createTemp(d.tmp, tmpPrefix, tmpSuffix)
	if err != nil {
		return nil, fmt.Errorf("backend: create %s: %w", name, err)
	}
	base := filepath.Base(f.Name())
	d.mu.Lock()
	d.active[base] = struct{}{}
	d.mu.Unlock()
	return &dirWriter{d: d, ctx: ctx, name: name, f: f, tmp: f.Name(), tmpBase: base}, nil
}

// Open implements Backend. The Reader reads from an open file, so on POSIX
// systems it keeps reading the blob it opened even if the name is then
// overwritten or deleted.
func (d *Dir) Open(ctx context.Context, name string) (Reader, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(d.blobPath(name))
	if err != nil {
		return nil, notExist(name, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("backend: open %s: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrNotExist, name)
	}
	return &dirReader{ctx: ctx, f: f, size: fi.Size()}, nil
}

// Stat implements Backend.
func (d *Dir) Stat(ctx context.Context, name string) (Info, error) {
	if err := ValidName(name); err != nil {
		return Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	fi, err := os.Stat(d.blobPath(name))
	if err != nil {
		return Info{}, notExist(name, err)
	}
	if !fi.Mode().IsRegular() {
		return Info{}, fmt.Errorf("%w: %s is not a regular file", ErrNotExist, name)
	}
	return Info{Name: name, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// Delete implements Backend. The removal is fsynced before Delete returns.
func (d *Dir) Delete(ctx context.Context, name string) error {
	if err := ValidName(name); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p := d.blobPath(name)
	if err := os.Remove(p); err != nil {
		return notExist(name, err)
	}
	if err := syncDir(filepath.Dir(p)); err != nil {
		return fmt.Errorf("backend: delete %s: %w", name, err)
	}
	return nil
}

// List implements Backend. It reads every fan-out directory, whatever the
// prefix, and skips temporary files and any file that is not a blob of d.
func (d *Dir) List(ctx context.Context, prefix string, fn func(Info) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tops, err := readDir(d.root)
	if err != nil {
		return fmt.Errorf("backend: list: %w", err)
	}
	for _, top := range tops {
		if !top.IsDir() || !isHexByte(top.Name()) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := d.listLeaf(top.Name(), prefix, fn); err != nil {
			return err
		}
	}
	return nil
}

func (d *Dir) listLeaf(top, prefix string, fn func(Info) error) error {
	leaf := filepath.Join(d.root, top)
	files, err := readDir(leaf)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("backend: list: %w", err)
	}
	for _, e := range files {
		if !e.Type().IsRegular() {
			continue
		}
		name := strings.ReplaceAll(e.Name(), string(nameSep), "/")
		if !strings.HasPrefix(name, prefix) || ValidName(name) != nil {
			continue
		}
		if fanOut(name) != top {
			continue // not where Open would look: not a blob of d
		}
		fi, err := e.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // deleted during the walk
			}
			return fmt.Errorf("backend: list: %w", err)
		}
		if err := fn(Info{Name: name, Size: fi.Size(), ModTime: fi.ModTime()}); err != nil {
			return err
		}
	}
	return nil
}

// Probe implements Backend. It checks that the root is still the directory
// NewDir opened (not, say, an empty mount point left by an unmounted disk)
// and that a file can be created in it.
func (d *Dir) Probe(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fi, err := os.Stat(d.root)
	if err != nil {
		return fmt.Errorf("backend: probe: %w", err)
	}
	if !os.SameFile(fi, d.rootID) {
		return fmt.Errorf("backend: probe: %s is no longer the directory that was opened", d.root)
	}
	f, err := os.CreateTemp(d.tmp, "probe-*.tmp")
	if err != nil {
		return fmt.Errorf("backend: probe: %w", err)
	}
	cerr := f.Close()
	rerr := os.Remove(f.Name())
	if err := errors.Join(cerr, rerr); err != nil {
		return fmt.Errorf("backend: probe: %w", err)
	}
	return nil
}

// leafDir returns the fan-out directory of the blob called name.
func (d *Dir) leafDir(name string) string {
	return filepath.Join(d.root, fanOut(name))
}

// blobPath returns where the blob called name lives.
func (d *Dir) blobPath(name string) string {
	return filepath.Join(d.leafDir(name), strings.ReplaceAll(name, "/", string(nameSep)))
}

// rename renames a temporary file into its leaf; see remake.
func (d *Dir) rename(tmp, dst string) error {
	d.remake.RLock()
	defer d.remake.RUnlock()
	return rename(tmp, dst)
}

func (d *Dir) release(tmpBase string) {
	d.mu.Lock()
	delete(d.active, tmpBase)
	d.mu.Unlock()
}

type dirWriter struct {
	d         *Dir
	ctx       context.Context
	name      string
	f         *os.File // nil once closed
	tmp       string   // temp file path; "" once renamed or removed
	tmpBase   string
	size      int64      // bytes written
	queued    int64      // size when behind last started writeback or a sync
	synced    int64      // size when behind last started a sync
	bg        chan error // result of the call behind started, while running
	err       error      // first Write error; poisons the Writer
	done      bool       // Commit or Abort was called
	committed bool
}

func (w *dirWriter) Write(p []byte) (int, error) {
	if w.done {
		return 0, ErrSpent
	}
	if w.err != nil {
		return 0, w.err
	}
	if err := w.ctx.Err(); err != nil {
		w.err = err
		return 0, err
	}
	n, err := w.f.Write(p)
	w.size += int64(n)
	if err != nil {
		w.err = fmt.Errorf("backend: write %s: %w", w.name, err)
		return n, w.err
	}
	if w.size-w.queued >= writebackEvery {
		if err := w.behind(); err != nil {
			w.err = fmt.Errorf("backend: write %s: %w", w.name, err)
			return n, w.err
		}
	}
	return n, nil
}

// behind starts, on a goroutine of its own, the kernel's writeback of what
// the blob gained since the last call, or every syncEvery bytes an
// fdatasync of it; unless the last such call is still running, and then
// the next Write tries again. It reports an earlier fdatasync's failure.
//
// Without it a blob goes to disk only in Commit's fsync, after the caller
// has produced all of it. With writeback alone, the disk works meanwhile,
// but on a disk with a volatile write cache Commit's fsync then waits for
// the cache flush of the whole blob: on the virtual machine cellar is
// measured on, 0.4 to 0.7 s at the end of a 1 GiB put, against almost
// nothing with the fdatasyncs behind the writes. Both calls can block
// while the device is flushing, which is why they run on their own
// goroutine. A failed fdatasync fails the blob: after it the kernel may
// have dropped the dirty pages, so a later fsync could succeed without
// them.
func (w *dirWriter) behind() error {
	if w.bg != nil {
		select {
		case err := <-w.bg:
			w.bg = nil
			if err != nil {
				return err
			}
		default:
			return nil
		}
	}
	f, off, n := w.f, w.queued, w.size-w.queued
	w.queued = w.size
	done := make(chan error, 1)
	w.bg = done
	if w.size-w.synced >= syncEvery {
		w.synced = w.size
		go func() { done <- syncFile(f) }()
	} else {
		go func() { startWriteback(f, off, n); done <- nil }()
	}
	return nil
}

// syncFile is dataSync; tests replace it to make background syncs fail.
var syncFile = dataSync

// waitSync waits for the background sync, if one is running, and returns
// its error.
func (w *dirWriter) waitSync() error {
	if w.bg == nil {
		return nil
	}
	err := <-w.bg
	w.bg = nil
	return err
}

func (w *dirWriter) Commit() error {
	if w.done {
		return ErrSpent
	}
	w.done = true
	if err := w.commit(); err != nil {
		w.cleanup()
		return err
	}
	w.committed = true
	return nil
}

func (w *dirWriter) commit() error {
	if w.err != nil {
		return w.err
	}
	if err := w.ctx.Err(); err != nil {
		return err
	}
	if err := w.waitSync(); err != nil {
		return fmt.Errorf("backend: commit %s: %w", w.name, err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("backend: commit %s: %w", w.name, err)
	}
	err := w.f.Close()
	w.f = nil
	if err != nil {
		return fmt.Errorf("backend: commit %s: %w", w.name, err)
	}
	// NewDir made every fan-out directory durable, so the rename and one
	// fsync of the leaf are all that is left.
	leaf := w.d.leafDir(w.name)
	dst := w.d.blobPath(w.name)
	err = w.d.rename(w.tmp, dst)
	if errors.Is(err, fs.ErrNotExist) {
		// Someone removed the leaf (an operator wiping the zone, say):
		// make it again, durably, once.
		w.d.remake.Lock()
		err = mkdirDurable(leaf)
		w.d.remake.Unlock()
		if err == nil {
			err = w.d.rename(w.tmp, dst)
		}
	}
	if err != nil {
		return fmt.Errorf("backend: commit %s: %w", w.name, err)
	}
	w.tmp = ""
	w.d.release(w.tmpBase)
	// INVARIANT: the blob is visible from here on; only its durability is
	// still in doubt, and a failure below says so rather than undoing it.
	if err := syncDir(leaf); err != nil {
		return fmt.Errorf("backend: commit %s: blob visible but not durable: %w", w.name, err)
	}
	return nil
}

func (w *dirWriter) Abort() error {
	if w.committed {
		return ErrSpent
	}
	w.done = true
	return w.cleanup()
}

// cleanup closes and removes the temp file, if still there. It is
// idempotent.
func (w *dirWriter) cleanup() error {
	var errs []error
	// The blob is going away: a failed background sync no longer matters,
	// but the file must not be closed under a call behind started.
	_ = w.waitSync()
	if w.f != nil {
		if err := w.f.Close(); err != nil {
			errs = append(errs, err)
		}
		w.f = nil
	}
	if w.tmp != "" {
		// Released even if the removal fails, so SweepTemp can retry it.
		w.d.release(w.tmpBase)
		if err := os.Remove(w.tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		} else {
			w.tmp = ""
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("backend: abort %s: %w", w.name, err)
	}
	return nil
}

type dirReader struct {
	ctx    context.Context
	f      *os.File
	size   int64
	closed atomic.Bool
}

func (r *dirReader) ReadAt(p []byte, off int64) (int, error) {
	if r.closed.Load() {
		return 0, fs.ErrClosed
	}
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, errors.New("backend: ReadAt: negative offset")
	}
	if off >= r.size {
		// The size is fixed at Open; a committed blob never changes.
		return 0, io.EOF
	}
	return r.f.ReadAt(p, off)
}

func (r *dirReader) Close() error {
	if r.closed.Swap(true) {
		return fs.ErrClosed
	}
	return r.f.Close()
}

func (r *dirReader) Size() int64 { return r.size }

// hexBytes[b] is the name of fan-out directory b: two lowercase hex digits.
var hexBytes = func() (t [256]string) {
	const hexDigits = "0123456789abcdef"
	for b := range t {
		t[b] = string([]byte{hexDigits[b>>4], hexDigits[b&15]})
	}
	return t
}()

// fanOut returns the fan-out directory name for a blob name.
func fanOut(name string) string {
	h := sha256.Sum256([]byte(name))
	return hexBytes[h[0]]
}

func isHexByte(s string) bool {
	if len(s) != 2 {
		return false
	}
	for i := 0; i < 2; i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// notExist maps a missing file to ErrNotExist and wraps anything else.
func notExist(name string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s", ErrNotExist, name)
	}
	return fmt.Errorf("backend: %s: %w", name, err)
}

// readDir lists a directory without sorting it.
func readDir(path string) ([]fs.DirEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadDir(-1)
}

// mkdir creates dir unless it exists.
func mkdir(dir string) error {
	if err := os.Mkdir(dir, dirPerm); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return nil
}

// mkdirDurable creates dir if missing and fsyncs its parent. The parent is
// fsynced even if dir already existed: it may have been made by a writer
// that has not yet fsynced, or by a process that crashed before it could.
func mkdirDurable(dir string) error {
	if err := mkdir(dir); err != nil {
		return err
	}
	return syncDir(filepath.Dir(dir))
}

// mkdirAllDurable creates dir and any missing parents, fsyncing the parent
// of each directory it creates.
func mkdirAllDurable(dir string) error {
	var missing []string
	for p := dir; ; {
		if _, err := os.Stat(p); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		missing = append(missing, p)
		parent := filepath.Dir(p)
		if parent == p {
			break
		}
		p = parent
	}
	if len(missing) == 0 {
		return nil
	}
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return err
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := syncDir(filepath.Dir(missing[i])); err != nil {
			return err
		}
	}
	return nil
}
