package faulty_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cellarhq/cellar/backend"
	"github.com/cellarhq/cellar/backend/backendtest"
	"github.com/cellarhq/cellar/backend/faulty"
)

func TestConformanceMemory(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Backend { return faulty.Wrap(backend.NewMemory()) })
}

func TestConformanceDir(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		d, err := backend.NewDir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return faulty.Wrap(d)
	})
}

// Faults that are set but never trigger must not change behaviour.
func TestConformanceDormantFaults(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		return faulty.Wrap(backend.NewMemory(), faulty.FailAfter(1<<40), faulty.BitFlip(0),
			faulty.Corrupt(func(string) bool { return false }), faulty.Latency(0))
	})
}

func BenchmarkFaulty(b *testing.B) {
	backendtest.RunBenchmarks(b, func(b *testing.B) backend.Backend { return faulty.Wrap(backend.NewMemory()) })
}

func put(ctx context.Context, b backend.Backend, name string, chunks ...string) error {
	w, err := b.Create(ctx, name)
	if err != nil {
		return err
	}
	defer w.Abort()
	for _, c := range chunks {
		if _, err := w.Write([]byte(c)); err != nil {
			return err
		}
	}
	return w.Commit()
}

func mustPut(t *testing.T, b backend.Backend, name string, chunks ...string) {
	t.Helper()
	if err := put(t.Context(), b, name, chunks...); err != nil {
		t.Fatal(err)
	}
}

func read(ctx context.Context, b backend.Backend, name string) (string, error) {
	r, err := b.Open(ctx, name)
	if err != nil {
		return "", err
	}
	defer r.Close()
	p := make([]byte, r.Size())
	n, err := r.ReadAt(p, 0)
	if err == io.EOF && n == len(p) {
		err = nil
	}
	return string(p[:n]), err
}

func mustRead(t *testing.T, b backend.Backend, name string) string {
	t.Helper()
	s, err := read(t.Context(), b, name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestErrors(t *testing.T) {
	for _, err := range []error{faulty.ErrInjected, faulty.ErrOffline} {
		if !strings.HasPrefix(err.Error(), "faulty: ") {
			t.Errorf("%q lacks the package prefix", err)
		}
	}
	if errors.Is(faulty.ErrInjected, faulty.ErrOffline) || errors.Is(faulty.ErrOffline, faulty.ErrInjected) {
		t.Error("ErrInjected and ErrOffline match each other")
	}
}

// scenario does every kind of operation once and reports the first error.
// It takes 10 operations: create, write, write, commit, open, read, stat,
// list, delete, probe.
func scenario(ctx context.Context, b backend.Backend) error {
	if err := put(ctx, b, "s/blob", "hello, ", "world"); err != nil {
		return err
	}
	if s, err := read(ctx, b, "s/blob"); err != nil {
		return err
	} else if s != "hello, world" {
		return fmt.Errorf("read %q", s)
	}
	if _, err := b.Stat(ctx, "s/blob"); err != nil {
		return err
	}
	if err := b.List(ctx, "s/", func(backend.Info) error { return nil }); err != nil {
		return err
	}
	if err := b.Delete(ctx, "s/blob"); err != nil {
		return err
	}
	return b.Probe(ctx)
}

const scenarioOps = 10

func TestOpsCountsEveryOperation(t *testing.T) {
	f := faulty.Wrap(backend.NewMemory())
	if err := scenario(t.Context(), f); err != nil {
		t.Fatal(err)
	}
	if got := f.Ops(); got != scenarioOps {
		t.Errorf("Ops() = %d after the scenario, want %d", got, scenarioOps)
	}
}

// TestFailAfterEveryStep is the pattern durability tests follow: raise the
// injection point until the scenario succeeds, checking each step.
func TestFailAfterEveryStep(t *testing.T) {
	for n := int64(0); ; n++ {
		inner := backend.NewMemory()
		f := faulty.Wrap(inner, faulty.FailAfter(n))
		err := scenario(t.Context(), f)
		if n < scenarioOps {
			if !errors.Is(err, faulty.ErrInjected) {
				t.Fatalf("FailAfter(%d): scenario = %v, want ErrInjected", n, err)
			}
		} else if err != nil {
			t.Fatalf("FailAfter(%d): scenario = %v, want success", n, err)
		}
		// Every later operation fails too.
		if n < scenarioOps {
			if _, err := f.Stat(t.Context(), "s/blob"); !errors.Is(err, faulty.ErrInjected) {
				t.Errorf("FailAfter(%d): Stat after the budget = %v, want ErrInjected", n, err)
			}
		}
		// INVARIANT: the blob exists exactly when the commit (op 4) got through
		// and the delete (op 9) did not.
		_, statErr := inner.Stat(t.Context(), "s/blob")
		if want := n >= 4 && n < 9; (statErr == nil) != want {
			t.Errorf("FailAfter(%d): blob exists = %v, want %v", n, statErr == nil, want)
		}
		if n >= scenarioOps {
			break
		}
	}
}

func TestSetFailAfterAtRuntime(t *testing.T) {
	f := faulty.Wrap(backend.NewMemory())
	mustPut(t, f, "a", "x")
	f.SetFailAfter(2)
	if _, err := f.Stat(t.Context(), "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Stat(t.Context(), "a"); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := f.Stat(t.Context(), "a"); !errors.Is(err, faulty.ErrInjected) {
			t.Errorf("Stat after the budget = %v, want ErrInjected", err)
		}
	}
	f.SetFailAfter(-1)
	if _, err := f.Stat(t.Context(), "a"); err != nil {
		t.Errorf("Stat after SetFailAfter(-1) = %v", err)
	}
}

func TestFailedCommitPublishesNothing(t *testing.T) {
	inner := backend.NewMemory()
	f := faulty.Wrap(inner, faulty.FailAfter(2)) // create and write pass
	w, err := f.Create(t.Context(), "c")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("data")); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); !errors.Is(err, faulty.ErrInjected) {
		t.Fatalf("Commit = %v, want ErrInjected", err)
	}
	if err := w.Abort(); err != nil {
		t.Errorf("Abort after the failed Commit = %v", err)
	}
	if _, err := inner.Stat(t.Context(), "c"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("blob of a failed Commit: %v", err)
	}
}

func TestFailedWritePoisons(t *testing.T) {
	inner := backend.NewMemory()
	f := faulty.Wrap(inner, faulty.FailAfter(2)) // create and first write pass
	w, err := f.Create(t.Context(), "p")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("b")); !errors.Is(err, faulty.ErrInjected) {
		t.Fatalf("second Write = %v, want ErrInjected", err)
	}
	f.SetFailAfter(-1)
	if _, err := w.Write([]byte("c")); !errors.Is(err, faulty.ErrInjected) {
		t.Errorf("Write after a failed Write = %v, want the first error", err)
	}
	if err := w.Commit(); !errors.Is(err, faulty.ErrInjected) {
		t.Errorf("Commit after a failed Write = %v, want the first error", err)
	}
	if _, err := inner.Stat(t.Context(), "p"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("blob of a poisoned Writer: %v", err)
	}
}

func TestLatency(t *testing.T) {
	const d = 30 * time.Millisecond
	f := faulty.Wrap(backend.NewMemory(), faulty.Latency(d))
	start := time.Now()
	if err := f.Probe(t.Context()); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < d {
		t.Errorf("Probe took %v, want at least %v", el, d)
	}

	// A context that ends cuts the sleep short.
	f.SetLatency(time.Hour)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, err := f.Stat(ctx, "x"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Stat with a timeout during latency = %v, want DeadlineExceeded", err)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("Stat ignored its context for %v", el)
	}

	// Writers and Readers sleep on their own operations too, under the
	// context they were made with.
	f.SetLatency(0)
	mustPut(t, f, "r", "data")
	rctx, rcancel := context.WithCancel(t.Context())
	r, err := f.Open(rctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f.SetLatency(time.Hour)
	time.AfterFunc(10*time.Millisecond, rcancel)
	if _, err := r.ReadAt(make([]byte, 4), 0); !errors.Is(err, context.Canceled) {
		t.Errorf("ReadAt cancelled during latency = %v, want Canceled", err)
	}
}

func TestOffline(t *testing.T) {
	inner := backend.NewMemory()
	f := faulty.Wrap(inner, faulty.Latency(time.Hour), faulty.Offline())
	ctx := t.Context()
	start := time.Now()
	errs := map[string]error{}
	_, errs["Create"] = f.Create(ctx, "x")
	_, errs["Open"] = f.Open(ctx, "x")
	_, errs["Stat"] = f.Stat(ctx, "x")
	errs["Delete"] = f.Delete(ctx, "x")
	errs["List"] = f.List(ctx, "", func(backend.Info) error { return nil })
	errs["Probe"] = f.Probe(ctx)
	for op, err := range errs {
		if !errors.Is(err, faulty.ErrOffline) {
			t.Errorf("%s on an offline zone = %v, want ErrOffline", op, err)
		}
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("offline operations took %v; they should fail fast, without latency", el)
	}

	// The zone comes back with what it held.
	f.SetLatency(0)
	f.SetOffline(false)
	mustPut(t, f, "kept", "before the outage")
	w, err := f.Create(ctx, "in-flight")
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.Open(ctx, "kept")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	// It drops out while a Writer and a Reader are open.
	f.SetOffline(true)
	if _, err := w.Write([]byte("x")); !errors.Is(err, faulty.ErrOffline) {
		t.Errorf("Write while offline = %v, want ErrOffline", err)
	}
	if err := w.Commit(); !errors.Is(err, faulty.ErrOffline) {
		t.Errorf("Commit while offline = %v, want ErrOffline", err)
	}
	if err := w.Abort(); err != nil {
		t.Errorf("Abort while offline = %v, want nil: cleanup is never faulted", err)
	}
	if _, err := r.ReadAt(make([]byte, 1), 0); !errors.Is(err, faulty.ErrOffline) {
		t.Errorf("ReadAt while offline = %v, want ErrOffline", err)
	}

	f.SetOffline(false)
	if got := mustRead(t, f, "kept"); got != "before the outage" {
		t.Errorf("after the outage kept = %q", got)
	}
	if _, err := inner.Stat(ctx, "in-flight"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a write cut off by the outage was published: %v", err)
	}
	if err := f.Probe(ctx); err != nil {
		t.Errorf("Probe after the outage: %v", err)
	}
}

// bitsDiffer counts the bits in which a and b differ.
func bitsDiffer(a, b []byte) int {
	n := 0
	for i := range a {
		for x := a[i] ^ b[i]; x != 0; x &= x - 1 {
			n++
		}
	}
	return n
}

// readFlips reads name reads times and counts the reads whose data had
// exactly one bit flipped, failing on any other damage.
func readFlips(t *testing.T, b backend.Backend, name string, want []byte, reads int) int {
	t.Helper()
	r, err := b.Open(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	flips := 0
	p := make([]byte, len(want))
	for range reads {
		n, err := r.ReadAt(p, 0)
		if n != len(p) || (err != nil && err != io.EOF) {
			t.Fatalf("ReadAt = %d, %v", n, err)
		}
		switch d := bitsDiffer(p, want); d {
		case 0:
		case 1:
			flips++
		default:
			t.Fatalf("a read differs in %d bits, want 0 or 1", d)
		}
	}
	return flips
}

func TestBitFlip(t *testing.T) {
	data := []byte(strings.Repeat("0123456789abcdef", 64))
	inner := backend.NewMemory()
	mustPut(t, inner, "blob", string(data))

	if got := readFlips(t, faulty.Wrap(inner, faulty.BitFlip(1)), "blob", data, 50); got != 50 {
		t.Errorf("BitFlip(1) flipped %d of 50 reads", got)
	}
	if got := readFlips(t, faulty.Wrap(inner, faulty.BitFlip(0)), "blob", data, 50); got != 0 {
		t.Errorf("BitFlip(0) flipped %d of 50 reads", got)
	}
	half := readFlips(t, faulty.Wrap(inner, faulty.BitFlip(0.5), faulty.Seed(7)), "blob", data, 400)
	if half < 120 || half > 280 {
		t.Errorf("BitFlip(0.5) flipped %d of 400 reads", half)
	}
	// The same seed gives the same faults.
	if again := readFlips(t, faulty.Wrap(inner, faulty.BitFlip(0.5), faulty.Seed(7)), "blob", data, 400); again != half {
		t.Errorf("seed 7 flipped %d reads, then %d", half, again)
	}
	// The stored blob is untouched.
	if got := mustRead(t, inner, "blob"); got != string(data) {
		t.Error("BitFlip changed the stored blob")
	}
	// Empty reads have nothing to flip.
	mustPut(t, inner, "empty")
	if got := mustRead(t, faulty.Wrap(inner, faulty.BitFlip(1)), "empty"); got != "" {
		t.Errorf("empty blob reads %q", got)
	}

	f := faulty.Wrap(inner)
	if got := readFlips(t, f, "blob", data, 10); got != 0 {
		t.Errorf("no fault flipped %d reads", got)
	}
	f.SetBitFlip(1)
	if got := readFlips(t, f, "blob", data, 10); got != 10 {
		t.Errorf("SetBitFlip(1) flipped %d of 10 reads", got)
	}
}

func TestCorrupt(t *testing.T) {
	inner := backend.NewMemory()
	data := []byte(strings.Repeat("x", 100))
	mustPut(t, inner, "shard/1", string(data))
	mustPut(t, inner, "shard/2", string(data))
	f := faulty.Wrap(inner, faulty.Corrupt(func(name string) bool { return name == "shard/2" }))
	if got := readFlips(t, f, "shard/1", data, 20); got != 0 {
		t.Errorf("unmatched blob had %d corrupt reads", got)
	}
	if got := readFlips(t, f, "shard/2", data, 20); got != 20 {
		t.Errorf("matched blob had %d of 20 corrupt reads", got)
	}
	// Partial reads are corrupted within what they return.
	r, err := f.Open(t.Context(), "shard/2")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p := make([]byte, 50)
	n, err := r.ReadAt(p, 90)
	if n != 10 || err != io.EOF {
		t.Fatalf("ReadAt past the end = %d, %v", n, err)
	}
	if bitsDiffer(p[:10], data[:10]) != 1 || bitsDiffer(p[10:], make([]byte, 40)) != 0 {
		t.Error("corruption not confined to the bytes read")
	}
	f.SetCorrupt(nil)
	if got := readFlips(t, f, "shard/2", data, 5); got != 0 {
		t.Errorf("after SetCorrupt(nil) %d reads were corrupt", got)
	}
}

func TestTornWrite(t *testing.T) {
	inner := backend.NewMemory()
	mustPut(t, inner, "t", "old")
	f := faulty.Wrap(inner, faulty.TornWrite(0.5))
	err := put(t.Context(), f, "t", "0123", "456789")
	if !errors.Is(err, faulty.ErrInjected) {
		t.Fatalf("torn Commit = %v, want ErrInjected", err)
	}
	if got := mustRead(t, inner, "t"); got != "01234" {
		t.Errorf("torn write published %q, want the first half", got)
	}
	// Abort after the torn Commit leaves what was published.
	w, err := f.Create(t.Context(), "t2")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("abcd"))
	if err := w.Commit(); !errors.Is(err, faulty.ErrInjected) {
		t.Fatalf("torn Commit = %v", err)
	}
	if err := w.Abort(); err != nil {
		t.Errorf("Abort after a torn Commit = %v", err)
	}
	if got := mustRead(t, inner, "t2"); got != "ab" {
		t.Errorf("torn write published %q, want ab", got)
	}

	f.SetTorn(faulty.TornFail, 0)
	if err := put(t.Context(), f, "t3", "data"); !errors.Is(err, faulty.ErrInjected) {
		t.Fatalf("torn Commit = %v", err)
	}
	if got := mustRead(t, inner, "t3"); got != "" {
		t.Errorf("TornFail keep 0 published %q", got)
	}

	f.SetTorn(faulty.TornOff, 0)
	mustPut(t, f, "t4", "whole")
	if got := mustRead(t, inner, "t4"); got != "whole" {
		t.Errorf("after TornOff, published %q", got)
	}
}

func TestLyingDisk(t *testing.T) {
	inner := backend.NewMemory()
	f := faulty.Wrap(inner, faulty.LyingDisk(0.25))
	w, err := f.Create(t.Context(), "lie")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("abcdefgh"))
	// The setting is read at Create: changing it now does not save this one.
	f.SetTorn(faulty.TornOff, 0)
	if err := w.Commit(); err != nil {
		t.Fatalf("lying Commit = %v, want success", err)
	}
	if err := w.Abort(); !errors.Is(err, backend.ErrSpent) {
		t.Errorf("Abort after a lying Commit = %v, want ErrSpent", err)
	}
	if got := mustRead(t, f, "lie"); got != "ab" {
		t.Errorf("lying disk holds %q, want ab", got)
	}
	if info, err := f.Stat(t.Context(), "lie"); err != nil || info.Size != 2 {
		t.Errorf("Stat = %+v, %v; want size 2", info, err)
	}
}

func TestBadSettingsPanic(t *testing.T) {
	for name, fn := range map[string]func(){
		"BitFlip(-0.1)":   func() { faulty.BitFlip(-0.1)(faulty.Wrap(backend.NewMemory())) },
		"BitFlip(1.5)":    func() { faulty.Wrap(backend.NewMemory()).SetBitFlip(1.5) },
		"TornWrite(2)":    func() { faulty.Wrap(backend.NewMemory(), faulty.TornWrite(2)) },
		"SetTorn(mode 9)": func() { faulty.Wrap(backend.NewMemory()).SetTorn(9, 0.5) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			fn()
		}()
	}
}

func TestUnwrap(t *testing.T) {
	inner := backend.NewMemory()
	if got := faulty.Wrap(inner).Unwrap(); got != inner {
		t.Errorf("Unwrap() = %v, want the wrapped backend", got)
	}
}

// TestChangeFaultsWhileRunning flips every fault while goroutines use the
// backend; run under -race it checks that the controls are safe.
func TestChangeFaultsWhileRunning(t *testing.T) {
	inner := backend.NewMemory()
	mustPut(t, inner, "shared", strings.Repeat("s", 1000))
	f := faulty.Wrap(inner)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ctx := t.Context()
				name := fmt.Sprintf("g%d/%d", g, i%10)
				err := put(ctx, f, name, "some", " data")
				if err != nil && !errors.Is(err, faulty.ErrInjected) && !errors.Is(err, faulty.ErrOffline) {
					t.Errorf("put: unexpected error %v", err)
					return
				}
				if _, err := read(ctx, f, "shared"); err != nil && !errors.Is(err, faulty.ErrInjected) && !errors.Is(err, faulty.ErrOffline) {
					t.Errorf("read: unexpected error %v", err)
					return
				}
				f.List(ctx, "g", func(backend.Info) error { return nil })
			}
		})
	}
	for i := range 60 {
		f.SetOffline(i%3 == 0)
		f.SetFailAfter(int64(i%7) - 1)
		f.SetBitFlip(float64(i%2) / 2)
		f.SetCorrupt(func(name string) bool { return i%5 == 0 })
		f.SetTorn(faulty.Torn(i%3), 0.5)
		f.SetLatency(time.Duration(i%2) * time.Microsecond)
		f.SetSeed(uint64(i))
		_ = f.Ops()
		time.Sleep(100 * time.Microsecond)
	}
	close(stop)
	wg.Wait()
	if f.Ops() == 0 {
		t.Error("no operations counted")
	}
	// The wrapped backend is whole: every blob there reads back in full.
	err := inner.List(t.Context(), "", func(info backend.Info) error {
		s, err := read(t.Context(), inner, info.Name)
		if err != nil {
			return err
		}
		// Torn writes leave prefixes; nothing else may be there.
		if info.Name != "shared" && !strings.HasPrefix("some data", s) {
			return fmt.Errorf("%s holds %q", info.Name, s)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}
