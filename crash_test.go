package cellar_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cellarhq/cellar"
)

var crashIterations = flag.Int("crash.iterations", 4, "how many times TestCrashKill kills a writer")

const crashChildEnv = "CELLAR_CRASH_CHILD_DIR"

// crashOpts is the store the crash child and the checker open.
func crashOpts(dir string) *cellar.Options {
	return &cellar.Options{Dir: dir, BlockSize: 64 << 10, SweepInterval: -1, DeleteGrace: -1}
}

// crashBody is the deterministic body of a put, so the checker can tell
// exactly which put a key holds.
func crashBody(seed uint64) []byte {
	return randBytes(seed, int(seed%5)*70_000+int(seed%97))
}

// crashMPBody is the deterministic body of a multipart upload: for odd
// seeds a part of the minimum size and a short last part, for even ones a
// single short part.
func crashMPBody(seed uint64) []byte {
	n := int(seed%1000)*100 + 1
	if seed%2 == 1 {
		n += cellar.MinPartSize
	}
	return randBytes(seed, n)
}

// crashValue is the body a logged value names ("<seed>" for a put,
// "mp<seed>" for a multipart upload), or nil if it names none.
func crashValue(v string) []byte {
	if rest, ok := strings.CutPrefix(v, "mp"); ok {
		if seed, err := strconv.ParseUint(rest, 10, 64); err == nil {
			return crashMPBody(seed)
		}
		return nil
	}
	if seed, err := strconv.ParseUint(v, 10, 64); err == nil {
		return crashBody(seed)
	}
	return nil
}

func crashMultipart(ctx context.Context, b *cellar.Bucket, key string, seed uint64) error {
	body := crashMPBody(seed)
	u, err := b.CreateMultipartUpload(ctx, key, nil)
	if err != nil {
		return err
	}
	var parts []cellar.CompletedPart
	split := [][]byte{body}
	if len(body) > cellar.MinPartSize {
		split = [][]byte{body[:cellar.MinPartSize], body[cellar.MinPartSize:]}
	}
	for i, p := range split {
		info, err := u.UploadPart(ctx, i+1, bytes.NewReader(p), nil)
		if err != nil {
			return err
		}
		parts = append(parts, cellar.CompletedPart{PartNumber: i + 1, ETag: info.ETag})
	}
	_, err = u.Complete(ctx, parts, nil)
	return err
}

// TestCrashChild is the child process of TestCrashKill: it writes until it
// is killed, logging each operation before it starts and after it is
// acknowledged.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		t.Skip("runs only as the child of TestCrashKill")
	}
	ctx := context.Background()
	// The child's clock runs a day ahead at every lifecycle run, so that
	// the rule below transitions what was put the day before: the kill
	// also lands in the middle of transitions.
	var days atomic.Int64
	opts := crashOpts(dir)
	opts.Clock = func() time.Time { return time.Now().Add(time.Duration(days.Load()) * 24 * time.Hour) }
	s, err := cellar.Open(ctx, opts)
	if err != nil {
		fmt.Println("open error", err)
		os.Exit(3)
	}
	s.CreateBucket(ctx, "crash", nil)
	b := s.Bucket("crash")
	rules, err := cellar.ParseLifecycle([]byte(`{"Rules": [{"ID": "ir", "Status": "Enabled", "Filter": {"ObjectSizeGreaterThan": 0},
	  "Transitions": [{"Days": 0, "StorageClass": "GLACIER_IR"}]}]}`))
	if err == nil {
		err = b.SetLifecycle(ctx, rules)
	}
	if err != nil {
		fmt.Println("lifecycle error", err)
		os.Exit(3)
	}
	go func() {
		for {
			days.Add(1)
			if _, err := s.RunLifecycle(ctx); err != nil {
				fmt.Println("error lifecycle", err)
			}
		}
	}()
	var mu sync.Mutex
	logf := func(format string, args ...any) {
		mu.Lock()
		fmt.Printf(format+"\n", args...)
		os.Stdout.Sync()
		mu.Unlock()
	}
	seed0, _ := strconv.ParseUint(os.Getenv("CELLAR_CRASH_SEED"), 10, 64)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed0, uint64(w)))
			for i := 0; ; i++ {
				key := fmt.Sprintf("w%d/k%d", w, r.IntN(3))
				if r.IntN(5) == 0 {
					logf("start %s delete", key)
					if _, err := b.Delete(ctx, key, nil); err != nil {
						logf("error %s %v", key, err)
						continue
					}
					logf("ack %s delete", key)
					continue
				}
				seed := seed0*1_000_000 + uint64(w)*100_000 + uint64(i)
				if r.IntN(8) == 0 {
					// A multipart upload: a minimum-size part and a short
					// last one, completed in one index commit.
					logf("start %s mp%d", key, seed)
					if err := crashMultipart(ctx, b, key, seed); err != nil {
						logf("error %s %v", key, err)
						continue
					}
					logf("ack %s mp%d", key, seed)
					continue
				}
				logf("start %s %d", key, seed)
				if _, err := b.Put(ctx, key, bytes.NewReader(crashBody(seed)), nil); err != nil {
					logf("error %s %v", key, err)
					continue
				}
				logf("ack %s %d", key, seed)
			}
		}()
	}
	wg.Wait()
}

// crashRead returns which of the candidate values ("absent", "<seed>",
// "mp<seed>") key holds, or "?" if none.
func crashRead(t *testing.T, b *cellar.Bucket, key string, cands ...string) string {
	t.Helper()
	obj, err := b.Get(context.Background(), key, nil)
	if errors.Is(err, cellar.ErrNoSuchKey) {
		return "absent"
	}
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer obj.Close()
	body := make([]byte, obj.Size())
	if _, err := obj.ReadAt(body, 0); err != nil && obj.Size() > 0 {
		t.Fatalf("read %s: %v", key, err)
	}
	for _, cand := range cands {
		if want := crashValue(cand); want != nil && bytes.Equal(body, want) {
			return cand
		}
	}
	return "?"
}

// TestCrashKill runs a writer (and a lifecycle runner transitioning what
// it writes) in a child process, kills it with SIGKILL at a random moment, reopens the store and checks that every acknowledged
// write reads back exactly, nothing unacknowledged is half-visible, an
// index rebuilt from the zones agrees, index and zones agree, and orphans
// are swept. It repeats on the same
// store, so each round also starts from a store a crash left behind.
func TestCrashKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes")
	}
	dir := t.TempDir()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(7, 7))
	// state[key] is what the key must hold: the last acknowledged value,
	// or, if an operation was in flight at the kill, possibly that one.
	type outcome struct{ acked, inflight string }
	state := map[string]*outcome{}
	for round := range *crashIterations {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, "CELLAR_CRASH_SEED="+strconv.Itoa(round+1))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killAfter := time.Duration(200+r.IntN(1000)) * time.Millisecond
		timer := time.AfterFunc(killAfter, func() { cmd.Process.Signal(syscall.SIGKILL) })
		sc := bufio.NewScanner(out)
		acks, mpAcks := 0, 0
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) < 3 {
				continue
			}
			key := f[1]
			if state[key] == nil {
				state[key] = &outcome{acked: "absent"}
			}
			switch f[0] {
			case "start":
				state[key].inflight = strings.Replace(f[2], "delete", "absent", 1)
			case "ack":
				state[key].acked, state[key].inflight = strings.Replace(f[2], "delete", "absent", 1), ""
				acks++
				if strings.HasPrefix(f[2], "mp") {
					mpAcks++
				}
			case "error":
				t.Fatalf("child: %s", sc.Text())
			}
		}
		timer.Stop()
		err = cmd.Wait()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: child ended with %v, not by the kill", round, err)
		}
		if acks == 0 {
			t.Logf("round %d: killed after %v before any acknowledged write", round, killAfter)
		}

		s, err := cellar.Open(ctx, crashOpts(dir))
		if err != nil {
			t.Fatalf("round %d: reopen: %v", round, err)
		}
		b := s.Bucket("crash")
		// Listings show each key once: a transition cut short by the
		// kill never leaves two copies in the index.
		seen := map[string]bool{}
		moved := 0
		for v, err := range b.Versions(ctx, nil) {
			if err != nil {
				t.Fatal(err)
			}
			if v.StorageClass == cellar.StorageClassGlacierIR {
				moved++
			}
			if seen[v.Key] {
				t.Fatalf("round %d: %s listed twice", round, v.Key)
			}
			seen[v.Key] = true
		}
		for key, o := range state {
			got := crashRead(t, b, key, o.acked, o.inflight)
			if got != o.acked && (o.inflight == "" || got != o.inflight) {
				t.Fatalf("round %d: %s holds %s; acknowledged %s, in flight %q", round, key, got, o.acked, o.inflight)
			}
			// The write in flight stays a candidate: its records may be on
			// the zones, and a rebuild lets them take effect.
			o.acked = got
		}
		// The index is lost too: a rebuild from the zones, with the kill's
		// leftovers (shards of writes cut short, uncommitted records)
		// still on them, recovers every key as the index had it, or with
		// the write in flight at the kill taking effect, as it might have.
		s.Close()
		if rrep, err := cellar.RebuildIndex(ctx, crashOpts(dir), &cellar.RebuildOptions{Replace: true}); err != nil {
			t.Fatalf("round %d: rebuild: %v", round, err)
		} else {
			t.Logf("round %d: rebuild: %d versions, %d data sets cut short, %d queued for deletion, %d shards missing",
				round, rrep.Versions, rrep.DataIncomplete, rrep.Garbage, rrep.ShardsMissing)
		}
		s, err = cellar.Open(ctx, crashOpts(dir))
		if err != nil {
			t.Fatalf("round %d: reopen after rebuild: %v", round, err)
		}
		b = s.Bucket("crash")
		for key, o := range state {
			got := crashRead(t, b, key, o.acked, o.inflight)
			if got != o.acked && (o.inflight == "" || got != o.inflight) {
				t.Fatalf("round %d: after rebuild %s holds %s; before it %s, in flight at the kill %q", round, key, got, o.acked, o.inflight)
			}
			o.acked, o.inflight = got, ""
		}
		if _, err := s.SweepOrphans(ctx, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		// A rebuild queues for healing the shards and zone records that
		// writes cut short by the kill left missing.
		if hrep, err := s.Heal(ctx); err != nil || hrep.Pending > 0 || hrep.MetaPending > 0 {
			t.Fatalf("round %d: heal after rebuild: %+v %v", round, hrep, err)
		}
		rep, err := s.Check(ctx)
		if err != nil || len(rep.Problems) > 0 || rep.Degraded > 0 || rep.MetaDegraded > 0 {
			t.Fatalf("round %d: check after crash: %+v %v", round, rep, err)
		}
		t.Logf("round %d: killed after %v, %d writes acknowledged (%d multipart), %d versions checked, %d transitioned", round, killAfter, acks, mpAcks, rep.Versions, moved)
		s.Close()
	}
}
