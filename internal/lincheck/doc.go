// Package lincheck records histories of concurrent puts, gets, deletes and
// listings against an object store and checks them for linearizability
// with porcupine. The root package's tests drive it through the Go API and
// cellartest's through the S3 HTTP API, with the same workload and model.
//
// # Model
//
// The state is the value of each of a handful of keys: a value ID, or
// absent. Every put writes a fresh value ID, embedded in its body, so a
// get (or a listing, by ETag) names exactly the put it saw. A put or
// delete that fails may or may not have taken effect; it is recorded as
// still pending at the end of the round (its return time after every
// other operation's), so the checker may linearize it anywhere from its
// call on, including after everything else, where it changes nothing
// that any operation saw. A get or listing that fails saw nothing and is
// left out.
//
// Two checks run on each round's history: puts, gets and deletes
// partitioned per key (KeyModel), and everything, listings included, on
// the whole map (MapModel), since a listing spans keys.
//
// # Rounds
//
// A workload runs in rounds: clients race for a while, stop, and one
// listing of every key, after every fault is cleared, ends the round. That
// listing is linearized after every operation of the round, so what it saw
// is the state the next round starts from, and each round is checked on
// its own: the cost of a check stays bounded however long the workload
// runs.
//
// # Faults and the long form
//
// Test runs the workload while Faults slow zones down, take one offline
// and bring it back, and make another fail every operation after a few,
// so that some writes reach quorum and some do not. By default it runs a
// round or two, a few seconds under -race; with
//
//	go test -run TestLinearizable -linearizability.duration=10m
//
// (in the package's directory: go test prints a passing test's output only
// in that mode or with -v) it runs rounds for that long and prints how many
// operations of each kind were checked. A failed check writes porcupine's visualization (an
// HTML page) to a temporary file and names it in the test's error.
//
// In a versioned bucket a get reads the latest version, so the model is
// the same; CheckVersions also checks the version history that
// ListObjectVersions gives against the acknowledged writes.
package lincheck
