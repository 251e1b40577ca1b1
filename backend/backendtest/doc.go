// Package backendtest is the conformance suite for backend.Backend. Every
// implementation, fake and wrapper runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		backendtest.Run(t, func(t *testing.T) backend.Backend {
//			return backend.NewMemory()
//		})
//	}
//
//	func BenchmarkBackend(b *testing.B) {
//		backendtest.RunBenchmarks(b, func(b *testing.B) backend.Backend {
//			return backend.NewMemory()
//		})
//	}
//
// Run checks the contract written in the backend package documentation:
// atomic publish and replace, invisibility of uncommitted and aborted
// writes, name validation, errors for missing blobs, io.ReaderAt semantics
// of ReadAt, prefix listing, context cancellation, spent writers, and
// concurrent writers to different names and to one name. It calls
// newBackend once per subtest, on the subtest's *testing.T, and expects an
// empty, working backend each time; subtests run one after another.
//
// RunBenchmarks measures what the erasure layer does most: writing 1 MiB
// shard blobs, creating and committing small blobs, and 256 KiB ranged
// reads. Each benchmark calls newBackend once and reports bytes per second
// and allocations.
package backendtest
