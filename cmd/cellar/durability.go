package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/cellarhq/cellar"
	"github.com/cellarhq/cellar/erasure"
	"github.com/cellarhq/cellar/internal/durability"
)

// durabilityUsage is the help text of cellar durability.
const durabilityUsage = `Usage: cellar durability [--data 4] [--parity 2] [--zones 3] [--afr 0.02]
                         [--zone-afr 0.001] [--repair-hours 24] [--objects N] [flags]

Durability computes the probability of losing an object within a year for
an RS(data,parity) layout placed over the zones as cellar places it (round
robin, no zone holding more than parity shards), with a Markov model of
the stripe: each shard's disk fails at --afr a year, each zone loses all
its shards at --zone-afr a year, and a repair (one heal pass, restoring
every missing shard) comes after --repair-hours on average. It prints the
figure as a probability and as nines, beside S3's eleven nines, and checks
the model with a Monte Carlo simulation of the same process at failure
rates scaled up until losses are common enough to count. The assumptions
are in the doc of package internal/durability.
`

// s3Nines is Amazon S3's stated design durability, 99.999999999%.
const s3Nines = 11

type durabilityConfig struct {
	data, parity, zones int
	afr, zoneAFR        float64
	repairHours         float64
	repairMode          string
	objects             float64
	years               float64
	trials              int
	seed                uint64
	weak                bool
}

func parseDurabilityFlags(args []string, stderr io.Writer) (*durabilityConfig, error) {
	c := &durabilityConfig{}
	flags := flag.NewFlagSet("durability", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.IntVar(&c.data, "data", 4, "data shards k")
	flags.IntVar(&c.parity, "parity", 2, "parity shards m")
	flags.IntVar(&c.zones, "zones", 3, "zones the shards are spread over")
	flags.Float64Var(&c.afr, "afr", 0.02, "annual failure probability of the disk holding one shard, in (0, 1)")
	flags.Float64Var(&c.zoneAFR, "zone-afr", 0.001, "annual probability that a zone loses every shard it holds at once, in [0, 1)")
	flags.Float64Var(&c.repairHours, "repair-hours", 24, "mean hours from a failure to its repair (detection and heal), at least 0.1")
	flags.StringVar(&c.repairMode, "repair-mode", "batch", "batch (one heal pass restores every missing shard of a stripe, as cellar's healer does) or per-shard (each failed shard repaired on its own, in parallel)")
	flags.Float64Var(&c.objects, "objects", 1, "also give the probability of losing at least one of this many objects (such as 1e9)")
	flags.Float64Var(&c.years, "years", 1, "horizon in years, in (0, 100]")
	flags.IntVar(&c.trials, "trials", 200000, "Monte Carlo trials of the check (0: no check)")
	flags.Uint64Var(&c.seed, "seed", 1, "seed of the Monte Carlo check")
	flags.BoolVar(&c.weak, "weak-placement", false, "allow a zone to hold more than parity shards (Options.AllowWeakPlacement)")
	flags.Usage = func() { dirCommandUsage(flags, durabilityUsage) }
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, errUsageShown
	}
	bad := func(format string, args ...any) (*durabilityConfig, error) {
		return nil, &usageError{fmt.Sprintf(format, args...)}
	}
	switch {
	case flags.NArg() > 0:
		return bad("unexpected argument %q", flags.Arg(0))
	case c.data < 1 || c.data > 256:
		return bad("--data %d: must be in [1, 256]", c.data)
	case c.parity < 0 || c.parity > 256:
		return bad("--parity %d: must be in [0, 256]", c.parity)
	case c.zones < 1 || c.zones > 64:
		return bad("--zones %d: must be in [1, 64]", c.zones)
	case !(c.afr > 0 && c.afr < 1):
		return bad("--afr %v: must be in (0, 1), an annual probability", c.afr)
	case !(c.zoneAFR >= 0 && c.zoneAFR < 1):
		return bad("--zone-afr %v: must be in [0, 1), an annual probability", c.zoneAFR)
	case !(c.repairHours >= 0.1 && c.repairHours <= 100*durability.HoursPerYear):
		return bad("--repair-hours %v: must be in [0.1, %v]", c.repairHours, 100*durability.HoursPerYear)
	case !(c.objects >= 1) || math.IsInf(c.objects, 0):
		return bad("--objects %v: must be at least 1", c.objects)
	case !(c.years > 0 && c.years <= 100):
		return bad("--years %v: must be in (0, 100]", c.years)
	case c.trials < 0:
		return bad("--trials %d: must not be negative", c.trials)
	}
	if _, err := durability.ParseRepairMode(c.repairMode); err != nil {
		return bad("--repair-mode %q: want batch or per-shard", c.repairMode)
	}
	return c, nil
}

// runDurability is the durability command.
func runDurability(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseDurabilityFlags(args, stderr)
	if err != nil {
		return err
	}
	mode, _ := durability.ParseRepairMode(c.repairMode)
	place, err := erasure.Place(c.zones, erasure.Params{DataShards: c.data, ParityShards: c.parity, BlockSize: cellar.DefaultBlockSize}, 0, c.weak)
	if errors.Is(err, erasure.ErrWeakPlacement) {
		return &usageError{fmt.Sprintf("RS(%d,%d) over %d zones puts more than %d shards in a zone, so losing that zone loses data; cellar refuses that layout unless told (--weak-placement)", c.data, c.parity, c.zones, c.parity)}
	} else if err != nil {
		return &usageError{fmt.Sprintf("RS(%d,%d): %v", c.data, c.parity, err)}
	}
	perZone := make([]int, c.zones)
	for _, z := range place {
		perZone[z]++
	}
	m := durability.Model{PerZone: perZone, Parity: c.parity, AFR: c.afr, ZoneAFR: c.zoneAFR, RepairHours: c.repairHours, Mode: mode}
	if err := m.Validate(); err != nil {
		return &usageError{err.Error()}
	}
	res, err := durability.Evaluate(m, c.years)
	if err != nil {
		return err
	}
	horizon := "1 year"
	if c.years != 1 {
		horizon = fmt.Sprintf("%g years", c.years)
	}
	repair := "batch: one heal pass restores every missing shard of a stripe"
	if mode == durability.RepairPerShard {
		repair = "per-shard: each failed shard repaired on its own, in parallel"
	}
	fmt.Fprintf(stdout, "cellar durability: %v; disk AFR %g, zone-event AFR %g a zone, repair %g h (%s); horizon %s\n\n",
		m, c.afr, c.zoneAFR, c.repairHours, repair, horizon)
	tw := tabwriter.NewWriter(stdout, 0, 8, 3, ' ', 0)
	fmt.Fprintf(tw, "\tP(loss)\tnines\n")
	line := func(label string, p float64) { fmt.Fprintf(tw, "%s\t%s\t%s\n", label, prob(p), nines(p)) }
	line("one object", res.Loss)
	line("  disk failures alone", res.DiskOnly)
	line("  zone events alone", res.ZoneOnly)
	line(fmt.Sprintf("  1-exp(-t/MTTDL), MTTDL %.3g years", res.MTTDL), res.LossFromMTTDL)
	if c.objects > 1 {
		any, err := res.LossAny(c.objects)
		if err != nil {
			return err
		}
		line(fmt.Sprintf("at least one of %g objects", c.objects), any)
	}
	line("S3's stated design durability", math.Pow(10, -s3Nines))
	tw.Flush()
	fmt.Fprintf(stdout, "\nzone events: one loses an object with probability %s (its shards with any already failed, or a disk failure before the heal)\n", prob(res.ZoneHit[0]))
	fmt.Fprint(stdout, "model: a chain of the failed shards in each zone, solved exactly (uniformization; MTTDL by state reduction)")
	if c.objects > 1 {
		fmt.Fprint(stdout, "; the objects share the zones (zone events hit all at once) but not the disks (independent)")
	}
	fmt.Fprintln(stdout)

	if c.trials == 0 {
		return nil
	}
	scale, err := durability.CheckScale(m, c.years, 0.05)
	if err != nil {
		return err
	}
	sm := m.Scaled(scale)
	sres, err := durability.Evaluate(sm, c.years)
	if err != nil {
		return err
	}
	sim, err := durability.Simulate(ctx, sm, c.years, c.trials, c.seed)
	if err != nil {
		return err
	}
	verdict := "agree: the chain's figure is inside the simulation's 95% interval"
	if !sim.Agrees(sres.Loss) {
		verdict = "DISAGREE: the chain's figure is outside the simulation's 95% interval (by chance for 1 seed in 20; try another --seed)"
	}
	fmt.Fprintf(stdout, "\nMonte Carlo check at failure rates x%g (disk AFR %.4g, zone-event AFR %.4g; the real rates lose too rarely to count), %d trials, seed %d:\n",
		scale, sm.AFR, sm.ZoneAFR, c.trials, c.seed)
	fmt.Fprintf(stdout, "  chain %.5f, simulated %.5f (95%% interval %.5f..%.5f; %d losses, %d events): %s\n",
		sres.Loss, sim.P, sim.Low, sim.High, sim.Losses, sim.Events, verdict)
	return nil
}

func prob(p float64) string {
	if p == 0 {
		return "0"
	}
	return strings.Replace(fmt.Sprintf("%.3e", p), "e-0", "e-", 1)
}

func nines(p float64) string {
	n := durability.Nines(p)
	switch {
	case math.IsInf(n, 1):
		return "inf"
	case n < 0.005:
		return "0.00" // a certain loss, not -0.00
	}
	return fmt.Sprintf("%.2f", n)
}
