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
package lincheck
