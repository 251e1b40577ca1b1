package durability

import (
	"fmt"
	"math"
)

// Result is what Evaluate computes for one model and horizon.
type Result struct {
	// Years is the horizon.
	Years float64
	// Loss is the probability that one object is lost within Years,
	// computed exactly from the chain by uniformization.
	Loss float64
	// MTTDL is the mean time to data loss of one object from all sound, in
	// years, and LossFromMTTDL is 1-exp(-Years/MTTDL), the figure that
	// treats loss as a Poisson process of that mean: it agrees with Loss
	// when the chain is back to all sound long before a loss, as it is when
	// repairs are much faster than failures.
	MTTDL         float64
	LossFromMTTDL float64
	// DiskOnly is Loss with ZoneAFR 0: disk failures alone.
	DiskOnly float64
	// ZoneOnly is Loss from zone events alone (no disk ever fails): the
	// part of the risk that every object shares.
	ZoneOnly float64
	// ZoneHit[i] is the probability that a zone event in zone i, striking
	// at a random moment, loses an object: through the shards it takes
	// with those already failed on disks, or through disk failures before
	// the repair.
	ZoneHit []float64

	zoneRate float64
}

// Evaluate computes the loss figures of m over years.
func Evaluate(m Model, years float64) (Result, error) {
	if err := m.Validate(); err != nil {
		return Result{}, err
	}
	if !(years > 0 && years <= 100) {
		return Result{}, fmt.Errorf("%w: horizon %v years not in (0, 100]", ErrInvalid, years)
	}
	r := m.rates()
	res := Result{Years: years, zoneRate: r.zone}
	full := newChain(m.PerZone, m.Parity, r, m.Mode)
	var err error
	if res.Loss, err = full.lossWithin(years); err != nil {
		return Result{}, err
	}
	res.MTTDL = full.mttdl()
	res.LossFromMTTDL = -math.Expm1(-years / res.MTTDL)

	diskOnly := newChain(m.PerZone, m.Parity, rates{disk: r.disk, repair: r.repair}, m.Mode)
	if res.DiskOnly, err = diskOnly.lossWithin(years); err != nil {
		return Result{}, err
	}
	if r.zone > 0 {
		zoneOnly := newChain(m.PerZone, m.Parity, rates{zone: r.zone, repair: r.repair}, m.Mode)
		if res.ZoneOnly, err = zoneOnly.lossWithin(years); err != nil {
			return Result{}, err
		}
	}
	pi := diskOnly.stationary()
	res.ZoneHit = make([]float64, len(m.PerZone))
	for i := range m.PerZone {
		res.ZoneHit[i] = diskOnly.zoneHit(i, pi)
	}
	return res, nil
}

// LossAny returns the probability of losing at least one of n objects
// within the horizon, for n ≥ 1. The objects' stripes share the zones but
// not the disks (see the package comment): zone events are common to all
// of them and disk failures independent. So
//
//	P(no loss) = (1-ZoneOnly) · (1-DiskOnly)^n · exp(-Years · Σ_i ζ · (1-(1-ZoneHit[i])^n))
//
// the first factor for zone events alone, the second for disks alone, and
// the third for a zone event (a Poisson process of rate ζ per zone) that
// loses some object together with its disk failures, before or after.
// The split is first order in the zone events, as the package comment
// says; for n = 1 it agrees with Loss to that order.
func (r Result) LossAny(n float64) (float64, error) {
	if !(n >= 1) || math.IsInf(n, 0) {
		return 0, fmt.Errorf("%w: object count %v: want at least 1", ErrInvalid, n)
	}
	logNone := math.Log1p(-r.ZoneOnly) + n*math.Log1p(-r.DiskOnly)
	for _, q := range r.ZoneHit {
		some := 1.0
		if q < 1 {
			some = -math.Expm1(n * math.Log1p(-q))
		}
		logNone -= r.Years * r.zoneRate * some
	}
	return -math.Expm1(logNone), nil
}

// Nines is -log10(p): 11 nines is p = 1e-11. It is +Inf for p = 0.
func Nines(p float64) float64 {
	if p <= 0 {
		return math.Inf(1)
	}
	return -math.Log10(p)
}

// CheckScale returns the smallest power of two s such that m.Scaled(s)
// loses an object within years with probability at least target: a rate
// at which a Monte Carlo run of a few hundred thousand trials sees enough
// losses to check the chain.
func CheckScale(m Model, years, target float64) (float64, error) {
	if err := m.Validate(); err != nil {
		return 0, err
	}
	if !(target > 0 && target < 1) {
		return 0, fmt.Errorf("%w: target %v not in (0, 1)", ErrInvalid, target)
	}
	for s := 1.0; s <= 1<<40; s *= 2 {
		sm := m.Scaled(s)
		if sm.Validate() != nil {
			break // the scaled AFR reached 1
		}
		res, err := Evaluate(sm, years)
		if err != nil {
			return 0, err
		}
		if res.Loss >= target {
			return s, nil
		}
	}
	return 0, fmt.Errorf("%w: no scaling of the failure rates of %v reaches a loss probability of %v", ErrInvalid, m, target)
}
