package durability

import (
	"context"
	"errors"
	"math"
	"testing"
)

func near(got, want, rel float64) bool {
	return math.Abs(got-want) <= rel*math.Abs(want)
}

func layouts() []Model {
	return []Model{
		{PerZone: []int{2, 2, 2}, Parity: 2, AFR: 0.02, ZoneAFR: 0.001, RepairHours: 24},
		{PerZone: []int{3, 3, 3}, Parity: 3, AFR: 0.02, ZoneAFR: 0.001, RepairHours: 24},
		{PerZone: []int{1, 1, 1}, Parity: 1, AFR: 0.02, ZoneAFR: 0.001, RepairHours: 24},
		{PerZone: []int{2, 2, 2}, Parity: 2, AFR: 0.02, RepairHours: 24, Mode: RepairPerShard},
	}
}

// Without parity any failure loses the stripe, and repair never comes in
// time: the loss probability is 1 - (1-AFR)^n (1-ZoneAFR)^zones.
func TestNoParityClosedForm(t *testing.T) {
	for _, zoneAFR := range []float64{0, 0.01} {
		m := Model{PerZone: []int{1, 1, 1, 1}, Parity: 0, AFR: 0.05, ZoneAFR: zoneAFR, RepairHours: 24}
		for _, years := range []float64{0.5, 1, 3} {
			res, err := Evaluate(m, years)
			if err != nil {
				t.Fatal(err)
			}
			want := 1 - math.Pow(1-m.AFR, 4*years)*math.Pow(1-zoneAFR, 4*years)
			if !near(res.Loss, want, 1e-9) {
				t.Errorf("zone AFR %v, %v years: loss %v, want %v", zoneAFR, years, res.Loss, want)
			}
			if mttdl := 1 / (-4*math.Log1p(-m.AFR) - 4*math.Log1p(-zoneAFR)); !near(res.MTTDL, mttdl, 1e-12) {
				t.Errorf("MTTDL %v, want %v", res.MTTDL, mttdl)
			}
		}
	}
}

// With one parity shard, one shard a zone and no zone events, the chain has
// two transient states and MTTDL = ((2n-1)λ + μ) / (n(n-1)λ²) in either
// repair mode (one failed shard is all there is to repair).
func TestMTTDLClosedForm(t *testing.T) {
	for _, n := range []int{2, 3, 6} {
		for _, mode := range []RepairMode{RepairBatch, RepairPerShard} {
			m := Model{PerZone: make([]int, n), Parity: 1, AFR: 0.03, RepairHours: 72, Mode: mode}
			for i := range m.PerZone {
				m.PerZone[i] = 1
			}
			res, err := Evaluate(m, 1)
			if err != nil {
				t.Fatal(err)
			}
			l, mu, fn := -math.Log1p(-m.AFR), HoursPerYear/m.RepairHours, float64(n)
			want := ((2*fn-1)*l + mu) / (fn * (fn - 1) * l * l)
			if !near(res.MTTDL, want, 1e-9) {
				t.Errorf("n=%d %v: MTTDL %v, want %v", n, mode, res.MTTDL, want)
			}
		}
	}
}

// Repairs are much faster than failures, so the exact loss probability is
// 1-exp(-t/MTTDL) to within a small fraction.
func TestLossMatchesMTTDL(t *testing.T) {
	for _, m := range layouts() {
		res, err := Evaluate(m, 1)
		if err != nil {
			t.Fatal(err)
		}
		if res.Loss <= 0 || res.Loss > 1e-3 {
			t.Errorf("%v: loss %v, want a small positive probability", m, res.Loss)
		}
		if !near(res.Loss, res.LossFromMTTDL, 0.01) {
			t.Errorf("%v: loss %v but 1-exp(-1/MTTDL) = %v", m, res.Loss, res.LossFromMTTDL)
		}
		if res.DiskOnly > res.Loss || res.ZoneOnly > res.Loss {
			t.Errorf("%v: a part (disks %v, zones %v) exceeds the whole %v", m, res.DiskOnly, res.ZoneOnly, res.Loss)
		}
	}
}

// The Monte Carlo simulation, at failure rates scaled up until losses are
// common, agrees with the chain at the same rates.
func TestSimulationAgrees(t *testing.T) {
	for i, m := range layouts() {
		s, err := CheckScale(m, 1, 0.05)
		if err != nil {
			t.Fatal(err)
		}
		if s <= 1 {
			t.Errorf("%v: scale %v; the real rates should need scaling", m, s)
		}
		sm := m.Scaled(s)
		res, err := Evaluate(sm, 1)
		if err != nil {
			t.Fatal(err)
		}
		sim, err := Simulate(context.Background(), sm, 1, 40000, uint64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		if sim.Losses < 1000 || !sim.Agrees(res.Loss) {
			t.Errorf("%v x%v: chain %v, simulation %v in [%v, %v] (%d losses)", m, s, res.Loss, sim.P, sim.Low, sim.High, sim.Losses)
		}
		again, _ := Simulate(context.Background(), sm, 1, 40000, uint64(i+1))
		if again != sim {
			t.Errorf("%v: the same seed gave %+v, then %+v", m, sim, again)
		}
	}
}

// A wrong chain must be caught: the simulation of RS(4,2) does not agree
// with the chain of the weaker RS(4,1)-like stripe at the same rates.
func TestSimulationDistinguishes(t *testing.T) {
	m := layouts()[0].Scaled(256)
	weaker := m
	weaker.Parity = 1
	res, err := Evaluate(weaker, 1)
	if err != nil {
		t.Fatal(err)
	}
	sim, err := Simulate(context.Background(), m, 1, 20000, 7)
	if err != nil {
		t.Fatal(err)
	}
	if sim.Agrees(res.Loss) {
		t.Errorf("simulation %v agrees with the wrong chain's %v", sim.P, res.Loss)
	}
}

func TestLossAny(t *testing.T) {
	for _, m := range layouts() {
		res, err := Evaluate(m, 1)
		if err != nil {
			t.Fatal(err)
		}
		one, err := res.LossAny(1)
		if err != nil {
			t.Fatal(err)
		}
		if !near(one, res.Loss, 0.02) {
			t.Errorf("%v: LossAny(1) = %v, Loss %v", m, one, res.Loss)
		}
		last := one
		for _, n := range []float64{10, 1e3, 1e6, 1e9, 1e12} {
			p, err := res.LossAny(n)
			if err != nil {
				t.Fatal(err)
			}
			if p < last || p > 1 || p > n*one*1.0001 {
				t.Errorf("%v: LossAny(%v) = %v after %v; want non-decreasing, at most 1 and at most n times one object's", m, n, p, last)
			}
			last = p
		}
		if m.ZoneAFR > 0 {
			// Zone events are shared: a zone event loses some object for
			// sure in a large fleet, but no more often than zone events come.
			zones := float64(len(m.PerZone))
			if p, _ := res.LossAny(1e15); p > -math.Expm1(-zones*(-math.Log1p(-m.ZoneAFR)))+res.ZoneOnly+(-math.Expm1(1e15*math.Log1p(-res.DiskOnly))) {
				t.Errorf("%v: LossAny(1e15) = %v exceeds the zone event rate", m, p)
			}
		}
	}
}

func TestMonotone(t *testing.T) {
	base := layouts()[0]
	loss := func(m Model) float64 {
		res, err := Evaluate(m, 1)
		if err != nil {
			t.Fatal(err)
		}
		return res.Loss
	}
	p := loss(base)
	for name, m := range map[string]Model{
		"higher AFR":       {PerZone: base.PerZone, Parity: 2, AFR: 0.04, ZoneAFR: base.ZoneAFR, RepairHours: 24},
		"slower repair":    {PerZone: base.PerZone, Parity: 2, AFR: 0.02, ZoneAFR: base.ZoneAFR, RepairHours: 168},
		"more zone loss":   {PerZone: base.PerZone, Parity: 2, AFR: 0.02, ZoneAFR: 0.01, RepairHours: 24},
		"weaker placement": {PerZone: []int{3, 3}, Parity: 2, AFR: 0.02, ZoneAFR: base.ZoneAFR, RepairHours: 24},
	} {
		if q := loss(m); q <= p {
			t.Errorf("%s: loss %v, not above the base's %v", name, q, p)
		}
	}
	// Two zones of three shards with parity 2: one zone event loses it.
	res, _ := Evaluate(Model{PerZone: []int{3, 3}, Parity: 2, AFR: 0.02, ZoneAFR: 0.001, RepairHours: 24}, 1)
	if !near(res.ZoneHit[0], 1, 1e-12) {
		t.Errorf("weak placement: a zone event loses the stripe with probability %v, want 1", res.ZoneHit[0])
	}
}

func TestInvalid(t *testing.T) {
	good := layouts()[0]
	for name, m := range map[string]Model{
		"no zones":        {Parity: 1, AFR: 0.02, RepairHours: 24},
		"negative parity": {PerZone: []int{2}, Parity: -1, AFR: 0.02, RepairHours: 24},
		"all parity":      {PerZone: []int{1, 1}, Parity: 2, AFR: 0.02, RepairHours: 24},
		"zero AFR":        {PerZone: []int{1, 1}, Parity: 1, AFR: 0, RepairHours: 24},
		"AFR one":         {PerZone: []int{1, 1}, Parity: 1, AFR: 1, RepairHours: 24},
		"NaN AFR":         {PerZone: []int{1, 1}, Parity: 1, AFR: math.NaN(), RepairHours: 24},
		"zone AFR one":    {PerZone: []int{1, 1}, Parity: 1, AFR: 0.02, ZoneAFR: 1, RepairHours: 24},
		"negative zone":   {PerZone: []int{1, 1}, Parity: 1, AFR: 0.02, ZoneAFR: -0.1, RepairHours: 24},
		"no repair":       {PerZone: []int{1, 1}, Parity: 1, AFR: 0.02, RepairHours: 0},
		"negative count":  {PerZone: []int{2, -1}, Parity: 1, AFR: 0.02, RepairHours: 24},
		"bad mode":        {PerZone: []int{1, 1}, Parity: 1, AFR: 0.02, RepairHours: 24, Mode: 9},
		"too many states": {PerZone: []int{40, 40, 40, 40}, Parity: 2, AFR: 0.02, RepairHours: 24},
	} {
		if _, err := Evaluate(m, 1); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Evaluate error %v, want ErrInvalid", name, err)
		}
		if _, err := Simulate(context.Background(), m, 1, 10, 1); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Simulate error %v, want ErrInvalid", name, err)
		}
	}
	for _, years := range []float64{0, -1, math.Inf(1), 1000} {
		if _, err := Evaluate(good, years); !errors.Is(err, ErrInvalid) {
			t.Errorf("%v years: error %v, want ErrInvalid", years, err)
		}
	}
	if _, err := Simulate(context.Background(), good, 1, 0, 1); !errors.Is(err, ErrInvalid) {
		t.Errorf("0 trials: error %v", err)
	}
	res, _ := Evaluate(good, 1)
	for _, n := range []float64{0, -5, math.NaN(), math.Inf(1)} {
		if _, err := res.LossAny(n); !errors.Is(err, ErrInvalid) {
			t.Errorf("LossAny(%v): error %v", n, err)
		}
	}
	if _, err := ParseRepairMode("serial"); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseRepairMode(serial): %v", err)
	}
	if _, err := CheckScale(good, 1, 1.5); !errors.Is(err, ErrInvalid) {
		t.Errorf("CheckScale target 1.5: %v", err)
	}
	if Nines(1e-11) < 10.999 || Nines(1e-11) > 11.001 || !math.IsInf(Nines(0), 1) {
		t.Errorf("Nines(1e-11) = %v, Nines(0) = %v", Nines(1e-11), Nines(0))
	}
}
