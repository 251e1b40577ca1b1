package lincheck

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"
)

// ErrNotFound is what a Client's Get returns for a key that is absent.
var ErrNotFound = errors.New("lincheck: not found")

// Client is the store under test, as the workload sees it.
type Client interface {
	// Put writes body under key and returns the new version ID ("" or
	// "null" where the bucket is not versioned).
	Put(ctx context.Context, key string, body []byte) (versionID string, err error)
	// Get returns the body of key, or an error matching ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Delete deletes key and returns the delete marker's version ID, if
	// any.
	Delete(ctx context.Context, key string) (versionID string, err error)
	// List returns the ETag (hex MD5, no quotes) of each key under prefix.
	List(ctx context.Context, prefix string) (map[string]string, error)
}

// Config shapes a workload.
type Config struct {
	Prefix      string // every key begins with it
	Keys        int    // how many keys
	Clients     int    // goroutines racing in each round
	OpsPerRound int    // operations of each client in a round
	MaxBody     int    // largest body; most are far smaller
	Seed        uint64
	// Settle runs after the clients of a round stop and before the
	// listing that ends the round: it clears the faults, so that the
	// listing can succeed.
	Settle func()
}

// Stats counts what the workload did.
type Stats struct {
	Rounds, Ops                int
	Puts, Gets, Deletes, Lists int
	FailedWrites, FailedReads  int
	NotFound                   int
}

func (s Stats) String() string {
	return fmt.Sprintf("%d rounds, %d operations in the histories checked (%d puts, %d gets, %d deletes, %d lists; %d failed writes of unknown outcome, %d not-found reads), %d failed reads left out",
		s.Rounds, s.Ops, s.Puts, s.Gets, s.Deletes, s.Lists, s.FailedWrites, s.NotFound, s.FailedReads)
}

// Write is an acknowledged put or delete with the version it made.
type Write struct {
	Key          string
	VersionID    string
	Call, Return int64
}

// Round is one round's history and the state it started from.
type Round struct {
	Init     State
	History  []porcupine.Operation
	Problems []string // bodies or listings that match no put
}

// Workload runs rounds of a Config against a Client.
type Workload struct {
	cfg   Config
	c     Client
	keys  []string
	start time.Time
	round int

	mu       sync.Mutex
	values   map[string]string // ETag → value ID
	writes   []Write
	failed   map[string]int // key → failed writes
	state    State
	stats    Stats
	problems []string
}

// New returns a workload on keys cfg.Prefix + "0", "1", ...: all absent
// at the start.
func New(c Client, cfg Config) *Workload {
	w := &Workload{cfg: cfg, c: c, start: time.Now(), values: map[string]string{}, failed: map[string]int{}, state: make(State, cfg.Keys)}
	for i := range cfg.Keys {
		w.keys = append(w.keys, fmt.Sprintf("%s%d", cfg.Prefix, i))
	}
	return w
}

// Keys returns the workload's keys.
func (w *Workload) Keys() []string { return w.keys }

// Stats returns the counts so far.
func (w *Workload) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

// Writes returns every acknowledged write so far, and how many writes of
// each key failed.
func (w *Workload) Writes() ([]Write, map[string]int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writes, w.failed
}

func (w *Workload) now() int64 { return int64(time.Since(w.start)) }

// body is value repeated with a separator to n bytes or a little more.
func body(value string, n int) []byte {
	unit := value + "|"
	return bytes.Repeat([]byte(unit), max(1, n/len(unit)))
}

// parse returns the value ID a body holds, or an error if the body is not
// one that a put wrote whole.
func parse(b []byte) (string, error) {
	i := bytes.IndexByte(b, '|')
	if i <= 0 || len(b)%(i+1) != 0 || !bytes.Equal(b, bytes.Repeat(b[:i+1], len(b)/(i+1))) {
		return "", fmt.Errorf("torn or foreign body of %d bytes", len(b))
	}
	return string(b[:i]), nil
}

// Run runs one round and returns its history. It returns an error only if
// the listing that ends the round keeps failing after Settle.
func (w *Workload) Run(ctx context.Context) (Round, error) {
	w.round++
	init := w.state
	var (
		mu  sync.Mutex
		ops []porcupine.Operation
	)
	record := func(op porcupine.Operation) {
		mu.Lock()
		ops = append(ops, op)
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for client := range w.cfg.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(w.cfg.Seed, uint64(w.round)<<16|uint64(client)))
			for n := range w.cfg.OpsPerRound {
				if ctx.Err() != nil {
					return
				}
				if op, ok := w.one(ctx, rng, client, n); ok {
					record(op)
				}
			}
		}()
	}
	wg.Wait()
	if w.cfg.Settle != nil {
		w.cfg.Settle()
	}
	// The listing that ends the round, retried until the store has
	// noticed that every zone is back.
	var final porcupine.Operation
	deadline := time.Now().Add(30 * time.Second)
	for {
		op, err := w.list(ctx, w.cfg.Clients)
		if err == nil {
			final = op
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return Round{}, fmt.Errorf("lincheck: the listing that ends round %d: %w", w.round, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	ops = append(ops, final)
	end := final.Return + 1
	for i := range ops {
		if ops[i].Output.(Output).Unknown {
			ops[i].Return = end
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.state = State(final.Output.(Output).Values)
	w.stats.Rounds++
	w.stats.Ops += len(ops)
	w.stats.Lists++
	problems := w.problems
	w.problems = nil
	return Round{Init: init, History: ops, Problems: problems}, nil
}

func (w *Workload) problem(format string, args ...any) {
	w.mu.Lock()
	w.problems = append(w.problems, fmt.Sprintf(format, args...))
	w.mu.Unlock()
}

// one runs one random operation; ok is false for a failed read, which is
// left out of the history.
func (w *Workload) one(ctx context.Context, rng *rand.Rand, client, n int) (porcupine.Operation, bool) {
	ki := rng.IntN(len(w.keys))
	key := w.keys[ki]
	p := rng.IntN(100)
	switch {
	case p < 40:
		value := fmt.Sprintf("r%dc%dn%d", w.round, client, n)
		size := 1 + rng.IntN(2000)
		if rng.IntN(8) == 0 {
			size = w.cfg.MaxBody/2 + rng.IntN(w.cfg.MaxBody/2+1)
		}
		b := body(value, size)
		sum := md5.Sum(b)
		w.mu.Lock()
		w.values[hex.EncodeToString(sum[:])] = value
		w.mu.Unlock()
		call := w.now()
		vid, err := w.c.Put(ctx, key, b)
		ret := w.now()
		w.wrote(Put, key, vid, call, ret, err)
		return porcupine.Operation{ClientId: client, Input: Input{Kind: Put, Key: ki, Value: value}, Call: call, Output: Output{Unknown: err != nil}, Return: ret}, true
	case p < 50:
		call := w.now()
		vid, err := w.c.Delete(ctx, key)
		ret := w.now()
		w.wrote(Delete, key, vid, call, ret, err)
		return porcupine.Operation{ClientId: client, Input: Input{Kind: Delete, Key: ki}, Call: call, Output: Output{Unknown: err != nil}, Return: ret}, true
	case p < 85:
		call := w.now()
		b, err := w.c.Get(ctx, key)
		ret := w.now()
		var value string
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			w.count(func(s *Stats) { s.FailedReads++ })
			return porcupine.Operation{}, false
		default:
			value, err = parse(b)
			if err != nil {
				w.problem("get %s: %v", key, err)
				return porcupine.Operation{}, false
			}
		}
		w.count(func(s *Stats) {
			s.Gets++
			if value == "" {
				s.NotFound++
			}
		})
		return porcupine.Operation{ClientId: client, Input: Input{Kind: Get, Key: ki}, Call: call, Output: Output{Value: value}, Return: ret}, true
	default:
		op, err := w.list(ctx, client)
		if err != nil {
			w.count(func(s *Stats) { s.FailedReads++ })
			return porcupine.Operation{}, false
		}
		w.count(func(s *Stats) { s.Lists++ })
		return op, true
	}
}

func (w *Workload) count(f func(*Stats)) {
	w.mu.Lock()
	f(&w.stats)
	w.mu.Unlock()
}

func (w *Workload) wrote(kind Kind, key, vid string, call, ret int64, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.stats.FailedWrites++
		w.failed[key]++
	}
	if kind == Put {
		w.stats.Puts++
	} else {
		w.stats.Deletes++
	}
	if err == nil && vid != "" && vid != "null" {
		w.writes = append(w.writes, Write{Key: key, VersionID: vid, Call: call, Return: ret})
	}
}

// list lists the prefix and turns what it saw into a value per key.
func (w *Workload) list(ctx context.Context, client int) (porcupine.Operation, error) {
	call := w.now()
	etags, err := w.c.List(ctx, w.cfg.Prefix)
	ret := w.now()
	if err != nil {
		return porcupine.Operation{}, err
	}
	values := make([]string, len(w.keys))
	w.mu.Lock()
	for i, key := range w.keys {
		if etag, ok := etags[key]; ok {
			v, ok := w.values[strings.Trim(etag, `"`)]
			if !ok {
				w.problems = append(w.problems, fmt.Sprintf("list: %s has ETag %s, which no put wrote", key, etag))
				v = "?" + etag
			}
			values[i] = v
			delete(etags, key)
		}
	}
	for key := range etags {
		w.problems = append(w.problems, fmt.Sprintf("list: key %q, which no put wrote", key))
	}
	w.mu.Unlock()
	return porcupine.Operation{ClientId: client, Input: Input{Kind: List}, Call: call, Output: Output{Values: values}, Return: ret}, nil
}

// CheckVersions checks a versioned bucket's version history against the
// acknowledged writes: versions lists each key's version IDs newest first,
// as ListObjectVersions gives them. Every acknowledged write must be there
// once; a write that returned before another was called must be older;
// and the versions no acknowledged write made are at most the writes of
// that key that failed (and so may have taken effect).
func CheckVersions(versions map[string][]string, writes []Write, failed map[string]int) []string {
	var problems []string
	byID := map[string]Write{}
	for _, wr := range writes {
		byID[wr.VersionID] = wr
	}
	seen := map[string]bool{}
	for key, ids := range versions {
		unknown := 0
		var maxCall int64 = -1
		var maxCallID string
		for i := len(ids) - 1; i >= 0; i-- { // oldest first
			wr, ok := byID[ids[i]]
			if !ok || wr.Key != key {
				unknown++
				continue
			}
			if seen[ids[i]] {
				problems = append(problems, fmt.Sprintf("%s: version %s listed twice", key, ids[i]))
			}
			seen[ids[i]] = true
			if maxCall > wr.Return {
				problems = append(problems, fmt.Sprintf("%s: version %s is listed as newer than %s, but its write returned before that one was called", key, maxCallID, ids[i]))
			}
			if wr.Call > maxCall {
				maxCall, maxCallID = wr.Call, ids[i]
			}
		}
		if unknown > failed[key] {
			problems = append(problems, fmt.Sprintf("%s: %d versions match no write, only %d writes failed", key, unknown, failed[key]))
		}
	}
	for _, wr := range writes {
		if !seen[wr.VersionID] {
			problems = append(problems, fmt.Sprintf("%s: acknowledged version %s is not listed", wr.Key, wr.VersionID))
		}
	}
	return problems
}
