package lincheck

import (
	"testing"

	"github.com/anishathalye/porcupine"
)

func op(client int, in Input, call int64, out Output, ret int64) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret}
}

// TestModel checks the model on small hand-made histories of two keys,
// each with both models, before and after Prune.
func TestModel(t *testing.T) {
	const end = 100
	for _, tc := range []struct {
		name    string
		history []porcupine.Operation
		ok      bool
	}{
		{"read your write", []porcupine.Operation{
			op(0, Input{Kind: Put, Key: 0, Value: "a"}, 0, Output{}, 1),
			op(1, Input{Kind: Get, Key: 0}, 2, Output{Value: "a"}, 3),
			op(1, Input{Kind: List}, 4, Output{Values: []string{"a", ""}}, 5),
		}, true},
		{"stale get", []porcupine.Operation{
			op(0, Input{Kind: Put, Key: 0, Value: "a"}, 0, Output{}, 1),
			op(0, Input{Kind: Put, Key: 0, Value: "b"}, 2, Output{}, 3),
			op(1, Input{Kind: Get, Key: 0}, 4, Output{Value: "a"}, 5),
		}, false},
		{"get after delete", []porcupine.Operation{
			op(0, Input{Kind: Put, Key: 0, Value: "a"}, 0, Output{}, 1),
			op(0, Input{Kind: Delete, Key: 0}, 2, Output{}, 3),
			op(1, Input{Kind: Get, Key: 0}, 4, Output{Value: "a"}, 5),
		}, false},
		{"concurrent get sees either", []porcupine.Operation{
			op(0, Input{Kind: Put, Key: 0, Value: "a"}, 0, Output{}, 1),
			op(0, Input{Kind: Put, Key: 0, Value: "b"}, 2, Output{}, 6),
			op(1, Input{Kind: Get, Key: 0}, 3, Output{Value: "b"}, 4),
			op(2, Input{Kind: Get, Key: 0}, 5, Output{Value: "b"}, 7),
		}, true},
		{"value seen then unseen", []porcupine.Operation{
			op(0, Input{Kind: Put, Key: 0, Value: "a"}, 0, Output{}, 1),
			op(0, Input{Kind: Put, Key: 0, Value: "b"}, 2, Output{}, 10),
			op(1, Input{Kind: Get, Key: 0}, 3, Output{Value: "b"}, 4),
			op(2, Input{Kind: Get, Key: 0}, 5, Output{Value: "a"}, 6),
		}, false},
		{"failed put that took effect", []porcupine.Operation{
			op(0, Input{Kind: Put, Key: 0, Value: "a"}, 0, Output{Unknown: true}, end),
			op(1, Input{Kind: Get, Key: 0}, 5, Output{Value: "a"}, 6),
		}, true},
		{"failed put that did not", []porcupine.Operation{
			op(0, Input{Kind: Put, Key: 0, Value: "a"}, 0, Output{Unknown: true}, end),
			op(1, Input{Kind: Get, Key: 0}, 5, Output{}, 6),
			op(1, Input{Kind: List}, 7, Output{Values: []string{"", ""}}, 8),
		}, true},
		{"failed put seen before it was called", []porcupine.Operation{
			op(1, Input{Kind: Get, Key: 0}, 0, Output{Value: "a"}, 1),
			op(0, Input{Kind: Put, Key: 0, Value: "a"}, 2, Output{Unknown: true}, end),
		}, false},
		{"failed put seen, then lost", []porcupine.Operation{
			op(0, Input{Kind: Put, Key: 0, Value: "a"}, 0, Output{Unknown: true}, end),
			op(1, Input{Kind: Get, Key: 0}, 1, Output{Value: "a"}, 2),
			op(1, Input{Kind: Get, Key: 0}, 3, Output{}, 4),
		}, false},
		{"list across keys out of order", []porcupine.Operation{
			op(0, Input{Kind: Put, Key: 0, Value: "a"}, 0, Output{}, 1),
			op(0, Input{Kind: Put, Key: 1, Value: "b"}, 2, Output{}, 3),
			op(1, Input{Kind: List}, 4, Output{Values: []string{"", "b"}}, 5),
		}, false},
		{"list concurrent with both puts", []porcupine.Operation{
			op(0, Input{Kind: Put, Key: 0, Value: "a"}, 0, Output{}, 3),
			op(2, Input{Kind: Put, Key: 1, Value: "b"}, 0, Output{}, 3),
			op(1, Input{Kind: List}, 1, Output{Values: []string{"", "b"}}, 2),
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			init := make(State, 2)
			for _, h := range [][]porcupine.Operation{tc.history, Prune(tc.history)} {
				if got := porcupine.CheckOperations(MapModel(init), h); got != tc.ok {
					t.Errorf("whole map: linearizable %v, want %v", got, tc.ok)
				}
				// Listings are out of the per-key check, so only a history
				// with a wrong get can fail it.
				wrongGet := !tc.ok && tc.name != "list across keys out of order"
				if got := porcupine.CheckOperations(KeyModel(init), h); got != !wrongGet {
					t.Errorf("per key: linearizable %v, want %v", got, !wrongGet)
				}
			}
		})
	}
}

func TestPruneKeepsSeenFailedPuts(t *testing.T) {
	h := []porcupine.Operation{
		op(0, Input{Kind: Put, Key: 0, Value: "a"}, 0, Output{Unknown: true}, 9),
		op(0, Input{Kind: Put, Key: 1, Value: "b"}, 0, Output{Unknown: true}, 9),
		op(0, Input{Kind: Put, Key: 1, Value: "c"}, 0, Output{}, 1),
		op(0, Input{Kind: Delete, Key: 1}, 0, Output{Unknown: true}, 9),
		op(1, Input{Kind: List}, 2, Output{Values: []string{"a", ""}}, 3),
	}
	got := Prune(h)
	if len(got) != 4 || got[1].Input.(Input).Value != "c" {
		t.Fatalf("Prune kept %v", got)
	}
}
