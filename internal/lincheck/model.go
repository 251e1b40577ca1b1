package lincheck

import (
	"fmt"
	"hash/fnv"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// Kind is the kind of an operation.
type Kind uint8

const (
	Put Kind = iota
	Get
	Delete
	List
)

func (k Kind) String() string {
	return [...]string{"put", "get", "delete", "list"}[k]
}

// Input is an operation as it was called. Key indexes the workload's keys
// (unused by List); Value is the value ID a Put writes.
type Input struct {
	Kind  Kind
	Key   int
	Value string
}

// Output is what an operation returned. Value is what a Get read, "" for
// not found; Values is what a List saw of each key, "" for absent. Unknown
// marks a put or delete that failed: it may or may not have taken effect.
type Output struct {
	Value   string
	Values  []string
	Unknown bool
}

// State is the value ID of each key, "" for absent. Models never change a
// State they are given.
type State []string

func (s State) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, v := range s {
		if i > 0 {
			b.WriteString(", ")
		}
		if v == "" {
			v = "∅"
		}
		fmt.Fprintf(&b, "%d:%s", i, v)
	}
	b.WriteByte('}')
	return b.String()
}

func step(state, input, output any) (bool, any) {
	s, in, out := state.(State), input.(Input), output.(Output)
	switch in.Kind {
	case Put, Delete:
		// A failed write is linearized where it might have taken effect;
		// where it did not, it is linearized after everything (its return
		// is the end of the round), which is the same as never.
		next := slices.Clone(s)
		next[in.Key] = in.Value // "" for Delete
		return true, next
	case Get:
		return s[in.Key] == out.Value, s
	case List:
		return slices.Equal(s, State(out.Values)), s
	}
	return false, s
}

func describe(input, output any) string {
	in, out := input.(Input), output.(Output)
	switch in.Kind {
	case Put:
		if out.Unknown {
			return fmt.Sprintf("put(%d, %s) failed", in.Key, in.Value)
		}
		return fmt.Sprintf("put(%d, %s)", in.Key, in.Value)
	case Delete:
		if out.Unknown {
			return fmt.Sprintf("delete(%d) failed", in.Key)
		}
		return fmt.Sprintf("delete(%d)", in.Key)
	case Get:
		v := out.Value
		if v == "" {
			v = "not found"
		}
		return fmt.Sprintf("get(%d) → %s", in.Key, v)
	case List:
		return "list → " + State(out.Values).String()
	}
	return "?"
}

func model(init State) porcupine.Model {
	return porcupine.Model{
		Init:  func() any { return init },
		Step:  step,
		Equal: func(a, b any) bool { return slices.Equal(a.(State), b.(State)) },
		Hash: func(s any) uint64 {
			h := fnv.New64a()
			for _, v := range s.(State) {
				h.Write([]byte(v))
				h.Write([]byte{0})
			}
			return h.Sum64()
		},
		DescribeOperation: describe,
		DescribeState:     func(s any) string { return s.(State).String() },
	}
}

// MapModel is the whole map of keys, starting from init: every operation,
// listings included, on one history.
func MapModel(init State) porcupine.Model { return model(init) }

// KeyModel checks puts, gets and deletes one key at a time, starting from
// init; it leaves listings out. Each partition's state is still the whole
// map, of which only its key ever changes.
func KeyModel(init State) porcupine.Model {
	m := model(init)
	m.Partition = func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := make([][]porcupine.Operation, len(init))
		for _, op := range history {
			in := op.Input.(Input)
			if in.Kind != List {
				byKey[in.Key] = append(byKey[in.Key], op)
			}
		}
		return slices.DeleteFunc(byKey, func(p []porcupine.Operation) bool { return len(p) == 0 })
	}
	return m
}

// Check checks history against m. If it is not linearizable (or the check
// times out), it writes porcupine's visualization to a temporary file and
// returns its path.
func Check(m porcupine.Model, history []porcupine.Operation, timeout time.Duration) (porcupine.CheckResult, string, error) {
	res, info := porcupine.CheckOperationsVerbose(m, history, timeout)
	if res == porcupine.Ok {
		return res, "", nil
	}
	f, err := os.CreateTemp("", "cellar-linearizability-*.html")
	if err != nil {
		return res, "", err
	}
	path := f.Name()
	if err := porcupine.Visualize(m, info, f); err != nil {
		f.Close()
		return res, path, err
	}
	return res, path, f.Close()
}

// CheckRound checks a round with both models and returns what is wrong:
// the round's own problems, and each check that did not pass, with the
// path of its visualization.
func CheckRound(r Round, timeout time.Duration) []string {
	problems := r.Problems
	history := Prune(r.History)
	for _, c := range []struct {
		name string
		m    porcupine.Model
	}{{"per key", KeyModel(r.Init)}, {"whole map", MapModel(r.Init)}} {
		res, path, err := Check(c.m, history, timeout)
		switch {
		case res == porcupine.Ok:
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s: %s history of %d operations; writing its visualization: %v", c.name, res, len(history), err))
		default:
			problems = append(problems, fmt.Sprintf("%s: %s history of %d operations (%s means not linearizable, %s that the check timed out); visualization: %s", c.name, res, len(history), porcupine.Illegal, porcupine.Unknown, path))
		}
	}
	return problems
}

// Prune drops from history every failed put whose value no read saw. That
// changes no verdict: if such a put took effect, nothing read the key
// between it and the next write of the key (or the end), so the history
// without it is linearizable exactly when the history with it is. What is
// left pending to the end is only the failed puts that some read proves
// took effect, and failed deletes, so the search stays small however
// many puts a fault made fail.
func Prune(history []porcupine.Operation) []porcupine.Operation {
	seen := map[string]bool{}
	for _, op := range history {
		out := op.Output.(Output)
		switch op.Input.(Input).Kind {
		case Get:
			seen[out.Value] = true
		case List:
			for _, v := range out.Values {
				seen[v] = true
			}
		}
	}
	return slices.DeleteFunc(slices.Clone(history), func(op porcupine.Operation) bool {
		in := op.Input.(Input)
		return in.Kind == Put && op.Output.(Output).Unknown && !seen[in.Value]
	})
}
