package faulty

import (
	"fmt"
	"time"
)

// An Option sets a fault when a Backend is wrapped. Each has a Set method
// that changes it later.
type Option func(*Backend)

// FailAfter lets n operations succeed and fails every later one with
// ErrInjected. A negative n turns the fault off (the default).
func FailAfter(n int64) Option { return func(b *Backend) { b.SetFailAfter(n) } }

// Latency makes every operation sleep for d first, or until its context is
// done.
func Latency(d time.Duration) Option { return func(b *Backend) { b.SetLatency(d) } }

// Offline starts the zone offline: every operation fails with ErrOffline
// until SetOffline(false).
func Offline() Option { return func(b *Backend) { b.SetOffline(true) } }

// BitFlip flips one bit of the data returned by each ReadAt with
// probability p, which must be in [0, 1].
func BitFlip(p float64) Option { return func(b *Backend) { b.SetBitFlip(p) } }

// Corrupt flips one bit of the data returned by every ReadAt of a blob
// whose name satisfies match. A nil match turns the fault off.
func Corrupt(match func(name string) bool) Option {
	return func(b *Backend) { b.SetCorrupt(match) }
}

// TornWrite makes Commit publish only the first keep fraction of a blob,
// with keep in [0, 1], and return ErrInjected.
func TornWrite(keep float64) Option { return func(b *Backend) { b.SetTorn(TornFail, keep) } }

// LyingDisk makes Commit publish only the first keep fraction of a blob,
// with keep in [0, 1], and report success.
func LyingDisk(keep float64) Option { return func(b *Backend) { b.SetTorn(TornSilent, keep) } }

// Seed seeds the random generator that BitFlip and Corrupt draw from.
func Seed(seed uint64) Option { return func(b *Backend) { b.SetSeed(seed) } }

// Torn says what Commit does to the data it publishes.
type Torn int

const (
	// TornOff publishes every byte written: no fault.
	TornOff Torn = iota
	// TornFail publishes a prefix and fails with ErrInjected.
	TornFail
	// TornSilent publishes a prefix and reports success.
	TornSilent
)

func (t Torn) String() string {
	switch t {
	case TornOff:
		return "TornOff"
	case TornFail:
		return "TornFail"
	case TornSilent:
		return "TornSilent"
	}
	return fmt.Sprintf("Torn(%d)", int(t))
}

func checkFraction(what string, f float64) {
	if !(f >= 0 && f <= 1) {
		panic(fmt.Sprintf("faulty: %s %v not in [0, 1]", what, f))
	}
}
