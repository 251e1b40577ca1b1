package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"time"
)

// sample is one timed run of one side of a workload.
type sample struct {
	d         time.Duration
	user, sys time.Duration // CPU time of the whole process during the run
	disk      int64         // bytes the kernel fetched from storage, if diskOK
	diskOK    bool
}

// phase is one side of a workload, to be measured.
type phase struct {
	w      string       // workload
	cellar bool         // the cellar side, profiled with --cpuprofile
	prep   func() error // untimed set-up right before the run: cache eviction
	mem    *memResult   // if set, receives the RSS during the run
	run    func() error
}

// measure settles the machine, runs p.prep, and times p.run.
func (b *bench) measure(p phase) (sample, error) {
	var s sample
	b.settle()
	if p.prep != nil {
		if err := p.prep(); err != nil {
			return s, err
		}
	}
	var probe *memProbe
	if p.mem != nil {
		probe = startMem()
	}
	stopProfile, err := b.startProfile(p.w, p.cellar)
	if err != nil {
		return s, err
	}
	u0, s0 := cpuTimes()
	r0, ok0 := diskReadBytes()
	t0 := time.Now()
	err = p.run()
	s.d = time.Since(t0)
	r1, ok1 := diskReadBytes()
	u1, s1 := cpuTimes()
	s.user, s.sys = u1-u0, s1-s0
	s.disk, s.diskOK = r1-r0, ok0 && ok1
	err = errors.Join(err, stopProfile())
	if probe != nil {
		*p.mem = probe.stop()
	}
	return s, err
}

// settle makes the start of a timed run quiet: no garbage of the last run
// left to collect, no dirty pages of it left to write back.
func (b *bench) settle() {
	runtime.GC()
	syncAll()
}

// startProfile starts a CPU profile of the cellar side of workload w if
// --cpuprofile asks for one, and returns the function that ends it.
func (b *bench) startProfile(w string, cellarSide bool) (stop func() error, err error) {
	if b.cfg.cpuprofile == "" || !cellarSide {
		return func() error { return nil }, nil
	}
	name := b.cfg.cpuprofile + "-" + w + ".pprof"
	for i := 2; slices.Contains(b.profiles, name); i++ {
		name = fmt.Sprintf("%s-%s-%d.pprof", b.cfg.cpuprofile, w, i)
	}
	f, err := os.Create(name)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	b.profiles = append(b.profiles, name)
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}

// pair measures the cellar side and the baseline of a workload reps times
// each, alternating which goes first so that neither always runs on the
// heels of the other, and returns their samples.
func (b *bench) pair(reps int, cellarSide, baseline func() (sample, error)) (cs, bs []sample, err error) {
	sides := [2]func() (sample, error){cellarSide, baseline}
	var out [2][]sample
	for r := range reps {
		for j := range 2 {
			side := j ^ r%2
			s, err := sides[side]()
			if err != nil {
				if side == 1 {
					err = fmt.Errorf("baseline: %w", err)
				}
				return nil, nil, err
			}
			out[side] = append(out[side], s)
		}
	}
	return out[0], out[1], nil
}

// best is the fastest of ss: noise from other work on the machine only
// ever slows a run down.
func best(ss []sample) sample {
	return slices.MinFunc(ss, func(a, b sample) int { return int(a.d - b.d) })
}

// describe says how long the runs took and what the fastest cost.
func describe(ss []sample) string {
	var sb strings.Builder
	s := best(ss)
	if len(ss) == 1 {
		sb.WriteString(secs(s.d))
	} else {
		times := make([]string, len(ss))
		for i, x := range ss {
			times[i] = fmt.Sprintf("%.3f", x.d.Seconds())
		}
		fmt.Fprintf(&sb, "best %s of %s s", secs(s.d), strings.Join(times, ", "))
	}
	fmt.Fprintf(&sb, " (cpu %s user + %s sys", secs(s.user), secs(s.sys))
	if s.diskOK && s.disk >= 64<<10 {
		fmt.Fprintf(&sb, ", %s from disk", mib(s.disk))
	}
	sb.WriteString(")")
	return sb.String()
}

// memResult is the RSS of one measured run.
type memResult struct {
	idle, peak int64
	ok         bool
}

// memProbe samples the process's RSS in the background.
type memProbe struct {
	idle        int64
	ok          bool
	stopc, done chan struct{}
	peak        int64 // written by the sampler, read after done
	failed      bool
}

// startMem measures the idle RSS, after collecting garbage and returning
// free memory to the OS, and starts sampling every rssEvery.
func startMem() *memProbe {
	runtime.GC()
	debug.FreeOSMemory()
	p := &memProbe{stopc: make(chan struct{}), done: make(chan struct{})}
	var err error
	p.idle, err = readRSS()
	p.ok = err == nil
	p.peak = p.idle
	if !p.ok {
		close(p.done)
		return p
	}
	go func() {
		defer close(p.done)
		t := time.NewTicker(rssEvery)
		defer t.Stop()
		for {
			select {
			case <-p.stopc:
				return
			case <-t.C:
			}
			v, err := readRSS()
			if err != nil {
				p.failed = true
				return
			}
			p.peak = max(p.peak, v)
		}
	}()
	return p
}

// stop ends sampling, takes one last sample and returns the result.
func (p *memProbe) stop() memResult {
	if p.ok {
		close(p.stopc)
	}
	<-p.done
	if !p.ok || p.failed {
		return memResult{}
	}
	if v, err := readRSS(); err == nil {
		p.peak = max(p.peak, v)
	}
	return memResult{idle: p.idle, peak: p.peak, ok: true}
}
