// Package faulty wraps a backend.Backend to inject the faults that
// durability tests need: failing operations, slowness, a zone going offline
// and coming back, bits flipped on read, and torn or lying commits.
//
//	zone := faulty.Wrap(backend.NewMemory(), faulty.FailAfter(3))
//
// Faults are set by options to Wrap and changed while a test runs by the
// Set methods of *Backend, which are safe to call from any goroutine:
//
//	zone.SetOffline(true)  // the zone drops out mid-test...
//	zone.SetOffline(false) // ...and comes back, with its blobs intact
//
// # Operations
//
// Each of these counts as one operation: Create, Open, Stat, Delete, List
// (the whole walk), Probe, and every Write, ReadAt and Commit. Ops returns
// how many have begun. Abort and Reader.Close are never faulted or counted,
// so cleanup always works. Each operation, in this order:
//
//  1. fails at once with ErrOffline if the zone is offline;
//  2. fails with its context's error if that is done (the ctx given to
//     Create or Open, for a Writer's or Reader's operations);
//  3. sleeps for the latency, returning early with the context's error if
//     the context is done first;
//  4. fails with ErrInjected if the FailAfter budget is spent, and otherwise
//     takes one from it;
//  5. runs on the wrapped backend.
//
// So FailAfter(n) lets exactly n operations through and fails every one
// after. A test can raise n from 0 until an operation succeeds and check at
// every step that a failure leaves no partial state:
//
//	for n := int64(0); ; n++ {
//		zone := faulty.Wrap(backend.NewMemory(), faulty.FailAfter(n))
//		err := doSomething(zone)
//		checkInvariants(t, zone.Unwrap())
//		if err == nil {
//			break
//		}
//	}
//
// Failed Writes poison the Writer, as the backend contract says, and a
// Commit that fails by injection publishes nothing and aborts the wrapped
// Writer itself.
//
// # Corruption
//
// BitFlip(p) flips one bit in the data of each ReadAt with probability p;
// Corrupt(match) flips one bit in the data of every ReadAt of a blob whose
// name matches. The stored blob is untouched and the ReadAt reports no
// error: only a checksum can tell. Which reads are hit and which bit is
// flipped come from a random generator seeded by Seed (1 by default), so
// a single-goroutine test sees the same faults every run.
//
// # Torn writes
//
// TornWrite(keep) makes Commit publish only the first keep fraction of the
// bytes written (rounded down) and return ErrInjected: the state a crash
// mid-write leaves on a store without atomic publish. LyingDisk(keep)
// publishes the same prefix and returns nil, as a disk that acknowledges
// writes it has not made. A Writer reads the torn-write setting when it is
// created, and while it is set the Writer keeps its data in memory until
// Commit.
package faulty
