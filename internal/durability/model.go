package durability

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// HoursPerYear is the Julian year in hours, the unit of the model's rates.
const HoursPerYear = 365.25 * 24

// ErrInvalid is returned for a model that cannot be evaluated; the wrapped
// message names the bad field.
var ErrInvalid = errors.New("durability: invalid model")

// RepairMode says how failed shards of a stripe come back.
type RepairMode int

const (
	// RepairBatch restores every failed shard of the stripe in one repair
	// event, at rate 1/RepairHours whatever the number failed: cellar's
	// healer rebuilds all missing shards of a data set in one pass.
	RepairBatch RepairMode = iota
	// RepairPerShard repairs each failed shard on its own, in parallel:
	// with f shards failed the next repair comes at rate f/RepairHours and
	// restores one of them.
	RepairPerShard
)

func (r RepairMode) String() string {
	switch r {
	case RepairBatch:
		return "batch"
	case RepairPerShard:
		return "per-shard"
	}
	return fmt.Sprintf("RepairMode(%d)", int(r))
}

// ParseRepairMode parses "batch" or "per-shard".
func ParseRepairMode(s string) (RepairMode, error) {
	switch s {
	case "batch":
		return RepairBatch, nil
	case "per-shard":
		return RepairPerShard, nil
	}
	return 0, fmt.Errorf("%w: repair mode %q: want batch or per-shard", ErrInvalid, s)
}

// Model is one stripe (the k+m shards of one object's data) and the
// failure and repair processes acting on it. See the package comment for
// the assumptions.
type Model struct {
	// PerZone is the number of the stripe's shards in each zone; its sum is
	// k+m. Zones holding no shard may be left out.
	PerZone []int
	// Parity is m: the stripe survives losing up to m shards.
	Parity int
	// AFR is the annual failure probability of the disk holding one shard,
	// in (0, 1).
	AFR float64
	// ZoneAFR is the annual probability of an event that loses every shard
	// of one zone at once, in [0, 1).
	ZoneAFR float64
	// RepairHours is the mean time from a failure to the stripe being
	// repaired (detection plus rebuild), in hours.
	RepairHours float64
	// Mode says whether a repair restores every failed shard or one.
	Mode RepairMode
}

// Validate reports the first field that cannot be evaluated.
func (m Model) Validate() error {
	switch {
	case len(m.PerZone) == 0:
		return fmt.Errorf("%w: PerZone is empty", ErrInvalid)
	case m.Parity < 0:
		return fmt.Errorf("%w: Parity %d is negative", ErrInvalid, m.Parity)
	case !(m.AFR > 0 && m.AFR < 1):
		return fmt.Errorf("%w: AFR %v not in (0, 1)", ErrInvalid, m.AFR)
	case !(m.ZoneAFR >= 0 && m.ZoneAFR < 1):
		return fmt.Errorf("%w: ZoneAFR %v not in [0, 1)", ErrInvalid, m.ZoneAFR)
	case !(m.RepairHours >= 0.1 && m.RepairHours <= HoursPerYear*100):
		return fmt.Errorf("%w: RepairHours %v not in [0.1, %v]", ErrInvalid, m.RepairHours, HoursPerYear*100)
	case m.Mode != RepairBatch && m.Mode != RepairPerShard:
		return fmt.Errorf("%w: Mode %v", ErrInvalid, m.Mode)
	}
	n, states := 0, 1
	for i, c := range m.PerZone {
		if c < 0 {
			return fmt.Errorf("%w: PerZone[%d] = %d is negative", ErrInvalid, i, c)
		}
		n += c
		states *= c + 1
		if states > maxStates {
			return fmt.Errorf("%w: PerZone %v has more than %d failure states", ErrInvalid, m.PerZone, maxStates)
		}
	}
	if n == 0 {
		return fmt.Errorf("%w: PerZone %v holds no shard", ErrInvalid, m.PerZone)
	}
	if m.Parity >= n {
		return fmt.Errorf("%w: Parity %d leaves no data shard of %d", ErrInvalid, m.Parity, n)
	}
	return nil
}

// maxStates bounds the chain's size: (c+1) per zone, multiplied.
const maxStates = 1 << 16

// String describes the layout, e.g. "RS(4,2) over 3 zones (2+2+2)".
func (m Model) String() string {
	n := 0
	parts := make([]string, len(m.PerZone))
	for i, c := range m.PerZone {
		n += c
		parts[i] = fmt.Sprint(c)
	}
	return fmt.Sprintf("RS(%d,%d) over %d zones (%s shards)", n-m.Parity, m.Parity, len(m.PerZone), strings.Join(parts, "+"))
}

// Scaled returns the model with the disk and zone failure rates multiplied
// by s (the repair rate unchanged): AFR' = 1-(1-AFR)^s. The Monte Carlo
// check runs at such rates, where losses are frequent enough to count.
func (m Model) Scaled(s float64) Model {
	m.PerZone = append([]int(nil), m.PerZone...)
	m.AFR = -math.Expm1(s * math.Log1p(-m.AFR))
	m.ZoneAFR = -math.Expm1(s * math.Log1p(-m.ZoneAFR))
	return m
}

// rates are the model's exponential rates, per year.
type rates struct {
	disk, zone, repair float64
}

// rates converts annual probabilities to rates: an event of rate r
// happens within a year with probability 1-exp(-r), so r = -ln(1-AFR).
func (m Model) rates() rates {
	return rates{
		disk:   -math.Log1p(-m.AFR),
		zone:   -math.Log1p(-m.ZoneAFR),
		repair: HoursPerYear / m.RepairHours,
	}
}

// lost is the index of the absorbing state in edges.
const lost = -1

// edge is one transition of the chain.
type edge struct {
	to   int // a state's index, or lost
	rate float64
}

// chain is the continuous-time Markov chain of one stripe. A state is the
// number of failed shards in each zone, f[i] in [0, PerZone[i]], encoded in
// mixed radix; the transient states are those with at most Parity failed
// shards in all, and every state with more is the one absorbing state
// "lost".
type chain struct {
	perZone []int
	parity  int
	states  [][]int  // transient states, by index; states[0] is all sound
	out     [][]edge // transitions of each transient state
	exit    []float64
}

func newChain(perZone []int, parity int, r rates, mode RepairMode) *chain {
	c := &chain{perZone: perZone, parity: parity}
	radix := make([]int, len(perZone))
	total := 1
	for i, n := range perZone {
		radix[i] = total
		total *= n + 1
	}
	// Index the transient states in code order, so all-sound is 0.
	index := make([]int, total)
	for code := range total {
		f := make([]int, len(perZone))
		sum := 0
		for i := range perZone {
			f[i] = code / radix[i] % (perZone[i] + 1)
			sum += f[i]
		}
		if sum > parity {
			index[code] = lost
			continue
		}
		index[code] = len(c.states)
		c.states = append(c.states, f)
	}
	encode := func(f []int) int {
		code := 0
		for i, v := range f {
			code += v * radix[i]
		}
		return index[code]
	}
	c.out = make([][]edge, len(c.states))
	c.exit = make([]float64, len(c.states))
	for s, f := range c.states {
		var out []edge
		add := func(rate float64, change func(g []int)) {
			if rate <= 0 {
				return
			}
			g := append([]int(nil), f...)
			change(g)
			out = append(out, edge{to: encode(g), rate: rate})
		}
		failed := 0
		for i, n := range perZone {
			failed += f[i]
			if f[i] < n {
				add(float64(n-f[i])*r.disk, func(g []int) { g[i]++ })
				add(r.zone, func(g []int) { g[i] = n })
			}
		}
		switch mode {
		case RepairBatch:
			if failed > 0 {
				add(r.repair, func(g []int) { clear(g) })
			}
		case RepairPerShard:
			for i := range perZone {
				if f[i] > 0 {
					add(float64(f[i])*r.repair, func(g []int) { g[i]-- })
				}
			}
		}
		// Merge parallel edges (several ways into "lost").
		merged := out[:0]
		for _, e := range out {
			found := false
			for j := range merged {
				if merged[j].to == e.to {
					merged[j].rate += e.rate
					found = true
					break
				}
			}
			if !found {
				merged = append(merged, e)
			}
		}
		c.out[s] = merged
		for _, e := range merged {
			c.exit[s] += e.rate
		}
	}
	return c
}

// state returns the index of transient state f, or lost.
func (c *chain) state(f []int) int {
	for i, g := range c.states {
		if equal(f, g) {
			return i
		}
	}
	return lost
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// maxSteps bounds uniformization's work: rate × horizon.
const maxSteps = 1e6

// lossWithin returns the probability that the chain, started all sound, is
// absorbed within t years. It uses uniformization, which sums only
// non-negative terms: the mass that has reached "lost" after n jumps of
// the uniformized chain is accumulated directly, never as 1 minus a
// survival probability, so a probability of 1e-15 keeps its digits.
func (c *chain) lossWithin(t float64) (float64, error) {
	lambda := 0.0
	for _, x := range c.exit {
		lambda = max(lambda, x)
	}
	if lambda == 0 {
		return 0, nil
	}
	lt := lambda * t
	n := int(math.Ceil(lt + 12*math.Sqrt(lt) + 30))
	if float64(n) > maxSteps {
		return 0, fmt.Errorf("%w: horizon %v years at %.3g events a year needs %d uniformization steps, more than %g", ErrInvalid, t, lambda, n, float64(maxSteps))
	}
	v := make([]float64, len(c.states))
	next := make([]float64, len(c.states))
	v[0] = 1
	absorbed := 0.0 // mass in "lost" after k jumps
	p, wsum := 0.0, 0.0
	for k := 0; k <= n; k++ {
		// Poisson(k; lt), in logs so that a large lt does not underflow.
		w := math.Exp(-lt + float64(k)*math.Log(lt) - lgamma(k+1))
		p += w * absorbed
		wsum += w
		clear(next)
		for s, x := range v {
			if x == 0 {
				continue
			}
			next[s] += x * (1 - c.exit[s]/lambda)
			for _, e := range c.out[s] {
				if e.to == lost {
					absorbed += x * e.rate / lambda
				} else {
					next[e.to] += x * e.rate / lambda
				}
			}
		}
		v, next = next, v
	}
	// The Poisson tail beyond n, at most absorbed (which only grows).
	p += max(0, 1-wsum) * absorbed
	return min(p, 1), nil
}

func lgamma(x int) float64 {
	v, _ := math.Lgamma(float64(x))
	return v
}

// solve returns, for each state i of a set, x_i with
//
//	x_i = (b_i + Σ_j a_ij x_j) / (Σ_j a_ij + e_i)
//
// where a_ij ≥ 0 are rates between states of the set (i ≠ j), e_i ≥ 0 the
// rate of leaving the set, and b_i ≥ 0: the expected time to leave the set
// (b = 1), or the probability of leaving it one way (b = that way's rate).
// It eliminates states one at a time as Grassmann, Taksar and Heyman do,
// keeping the rate out of the set separate instead of computing a pivot as
// a difference, so every operation adds or multiplies non-negative numbers
// and nothing cancels: an MTTDL of 1e12 years keeps its digits. a is
// overwritten. A state that cannot leave gets +Inf.
func solve(a [][]float64, e, b []float64) []float64 {
	n := len(e)
	d := make([]float64, n)
	for p := n - 1; p >= 0; p-- {
		d[p] = e[p]
		for j := range p {
			d[p] += a[p][j]
		}
		if d[p] == 0 {
			continue
		}
		for i := range p {
			if a[i][p] == 0 {
				continue
			}
			f := a[i][p] / d[p]
			for j := range p {
				if j != i {
					a[i][j] += f * a[p][j]
				}
			}
			e[i] += f * e[p]
			b[i] += f * b[p]
		}
	}
	x := make([]float64, n)
	for p := range n {
		if d[p] == 0 {
			x[p] = math.Inf(1)
			continue
		}
		s := b[p]
		for j := range p {
			s += a[p][j] * x[j]
		}
		x[p] = s / d[p]
	}
	return x
}

// mttdl is the mean time from all sound to loss, in years.
func (c *chain) mttdl() float64 {
	n := len(c.states)
	a := make([][]float64, n)
	e := make([]float64, n)
	b := make([]float64, n)
	for i := range n {
		a[i] = make([]float64, n)
		b[i] = 1
		for _, ed := range c.out[i] {
			if ed.to == lost {
				e[i] += ed.rate
			} else if ed.to != i {
				a[i][ed.to] += ed.rate
			}
		}
	}
	return solve(a, e, b)[0]
}

// lossBeforeSound returns the probability that the chain, started in state
// from, is lost before it is next all sound.
func (c *chain) lossBeforeSound(from int) float64 {
	if from == lost {
		return 1
	}
	if from == 0 {
		return 0
	}
	// The set is every transient state but 0; leaving it is reaching lost
	// or 0, and b counts only the way to lost.
	n := len(c.states) - 1
	a := make([][]float64, n)
	e := make([]float64, n)
	b := make([]float64, n)
	for i := range n {
		a[i] = make([]float64, n)
		for _, ed := range c.out[i+1] {
			switch ed.to {
			case lost:
				e[i] += ed.rate
				b[i] += ed.rate
			case 0:
				e[i] += ed.rate
			default:
				if ed.to != i+1 {
					a[i][ed.to-1] += ed.rate
				}
			}
		}
	}
	return solve(a, e, b)[from-1]
}

// stationary returns the long-run fraction of time the chain spends in each
// transient state when a loss is followed at once by a fresh stripe (lost
// redirected to all sound), by GTH state reduction: no subtraction, so the
// small probabilities of the failed states keep their digits.
func (c *chain) stationary() []float64 {
	n := len(c.states)
	a := make([][]float64, n)
	for i := range n {
		a[i] = make([]float64, n)
		for _, ed := range c.out[i] {
			to := ed.to
			if to == lost {
				to = 0
			}
			if to != i {
				a[i][to] += ed.rate
			}
		}
	}
	d := make([]float64, n)
	for p := n - 1; p > 0; p-- {
		for j := range p {
			d[p] += a[p][j]
		}
		if d[p] == 0 {
			continue // unreachable from below: it gets no mass
		}
		for i := range p {
			if a[i][p] == 0 {
				continue
			}
			f := a[i][p] / d[p]
			for j := range p {
				if j != i {
					a[i][j] += f * a[p][j]
				}
			}
		}
	}
	pi := make([]float64, n)
	pi[0] = 1
	sum := 1.0
	for p := 1; p < n; p++ {
		if d[p] == 0 {
			continue
		}
		for i := range p {
			pi[p] += pi[i] * a[i][p]
		}
		pi[p] /= d[p]
		sum += pi[p]
	}
	for i := range pi {
		pi[i] /= sum
	}
	return pi
}

// zoneHit returns the probability that a zone event in zone z, striking at a
// random moment of the chain's long run, leads to the stripe's loss before
// it is next all sound: through the shards the event takes with those
// already failed, or through disk failures during the repair.
func (c *chain) zoneHit(z int, pi []float64) float64 {
	q := 0.0
	for s, f := range c.states {
		if f[z] == c.perZone[z] {
			continue // nothing left in zone z to take
		}
		g := append([]int(nil), f...)
		g[z] = c.perZone[z]
		q += pi[s] * c.lossBeforeSound(c.state(g))
	}
	return min(q, 1)
}
