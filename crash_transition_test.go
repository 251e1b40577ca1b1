package cellar_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cellarhq/cellar"
)

const crashTransitionEnv = "CELLAR_CRASH_TRANSITION_DIR"

// Objects of the transition crash test: over 128 KiB, so that they
// transition, in several blocks.
const (
	transitionObjects = 12
	transitionSize    = 200 << 10
)

func transitionKey(i int) string { return fmt.Sprintf("logs/%03d", i) }

// transitionEpoch is when the transition crash test puts its objects; ten
// days later every transition is due.
var transitionEpoch = time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)

func transitionOpts(dir string, now time.Time) *cellar.Options {
	return &cellar.Options{
		Dir: dir, BlockSize: 64 << 10, Clock: func() time.Time { return now },
		SweepInterval: -1, LifecycleInterval: -1, ScrubInterval: -1, ProbeInterval: -1, DeleteGrace: -1,
	}
}

// TestCrashTransitionChild is the child process of TestCrashTransitionKill:
// it runs the due transitions until it is killed.
func TestCrashTransitionChild(t *testing.T) {
	dir := os.Getenv(crashTransitionEnv)
	if dir == "" {
		t.Skip("runs only as the child of TestCrashTransitionKill")
	}
	ctx := context.Background()
	s, err := cellar.Open(ctx, transitionOpts(dir, transitionEpoch.AddDate(0, 0, 10)))
	if err != nil {
		fmt.Println("open error", err)
		os.Exit(3)
	}
	fmt.Println("running")
	rep, err := s.RunLifecycle(ctx)
	fmt.Println("done", rep.Transitioned, err)
	s.Close()
}

// TestCrashTransitionKill puts objects under a rule that moves them to
// GLACIER_IR, kills a process running the transitions with SIGKILL at a
// random moment, and checks on reopen that every object reads back
// exactly, is listed once, and is in one class or the other; then that the
// transitions finish, orphans are swept and Check is clean.
func TestCrashTransitionKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes")
	}
	ctx := context.Background()
	r := rand.New(rand.NewPCG(11, 5))
	for round := range 3 {
		dir := t.TempDir()
		s, err := cellar.Open(ctx, transitionOpts(dir, transitionEpoch))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CreateBucket(ctx, "arc", nil); err != nil {
			t.Fatal(err)
		}
		b := s.Bucket("arc")
		for i := range transitionObjects {
			if _, err := b.Put(ctx, transitionKey(i), bytes.NewReader(randBytes(uint64(i), transitionSize)), nil); err != nil {
				t.Fatal(err)
			}
		}
		cfg, err := cellar.ParseLifecycle([]byte(`{"Rules":[{"ID":"ir","Status":"Enabled","Filter":{"Prefix":"logs/"},"Transitions":[{"Days":1,"StorageClass":"GLACIER_IR"}]}]}`))
		if err != nil {
			t.Fatal(err)
		}
		if err := b.SetLifecycle(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}

		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashTransitionChild$", "-test.v")
		cmd.Env = append(os.Environ(), crashTransitionEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		for sc.Scan() && sc.Text() != "running" {
		}
		killAfter := time.Duration(r.IntN(800)) * time.Millisecond
		time.Sleep(killAfter)
		cmd.Process.Signal(syscall.SIGKILL)
		finished := false
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "done") {
				finished = true
			}
		}
		cmd.Wait()

		later := transitionEpoch.AddDate(0, 0, 10)
		s, err = cellar.Open(ctx, transitionOpts(dir, later))
		if err != nil {
			t.Fatalf("round %d: reopen: %v", round, err)
		}
		b = s.Bucket("arc")
		moved := checkTransitioned(t, ctx, b, round)
		// The rest of the transitions finish after the crash.
		rep, err := s.RunLifecycle(ctx)
		if err != nil || rep.Failed != 0 {
			t.Fatalf("round %d: lifecycle after the crash: %+v %v", round, rep, err)
		}
		if all := checkTransitioned(t, ctx, b, round); all != transitionObjects {
			t.Fatalf("round %d: %d of %d objects in GLACIER_IR after the transitions finished", round, all, transitionObjects)
		}
		if _, err := s.SweepOrphans(ctx, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		crep, err := s.Check(ctx)
		if err != nil || len(crep.Problems) > 0 || crep.Degraded > 0 {
			t.Fatalf("round %d: check after crash: %+v %v", round, crep, err)
		}
		if crep.Versions != transitionObjects {
			t.Errorf("round %d: Check saw %d versions, want %d", round, crep.Versions, transitionObjects)
		}
		t.Logf("round %d: killed after %v (finished before the kill: %v), %d objects had moved, %d after", round, killAfter, finished, moved, rep.Transitioned)
		s.Close()
	}
}

// checkTransitioned checks that every object is listed once, reads back
// exactly and is STANDARD or GLACIER_IR, and returns how many are
// GLACIER_IR.
func checkTransitioned(t *testing.T, ctx context.Context, b *cellar.Bucket, round int) int {
	t.Helper()
	seen := map[string]int{}
	for v, err := range b.Versions(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		seen[v.Key]++
	}
	listed := 0
	for _, err := range b.Objects(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		listed++
	}
	if listed != transitionObjects || len(seen) != transitionObjects {
		t.Fatalf("round %d: %d objects listed, %d keys among the versions; want %d", round, listed, len(seen), transitionObjects)
	}
	moved := 0
	for i := range transitionObjects {
		key := transitionKey(i)
		if seen[key] != 1 {
			t.Errorf("round %d: %s has %d versions", round, key, seen[key])
		}
		obj, err := b.Get(ctx, key, nil)
		if err != nil {
			t.Fatalf("round %d: get %s: %v", round, key, err)
		}
		got, err := io.ReadAll(obj)
		obj.Close()
		if err != nil || !bytes.Equal(got, randBytes(uint64(i), transitionSize)) {
			t.Fatalf("round %d: %s reads back %d bytes that differ (%v)", round, key, len(got), err)
		}
		switch class := obj.Info().StorageClass; class {
		case cellar.StorageClassGlacierIR:
			moved++
		case cellar.StorageClassStandard:
		default:
			t.Errorf("round %d: %s is in %s", round, key, class)
		}
	}
	return moved
}
