package backend_test

import (
	"testing"

	"github.com/cellarhq/cellar/backend"
	"github.com/cellarhq/cellar/backend/backendtest"
)

func TestMemory(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Backend { return backend.NewMemory() })
}

func BenchmarkMemory(b *testing.B) {
	backendtest.RunBenchmarks(b, func(b *testing.B) backend.Backend { return backend.NewMemory() })
}
