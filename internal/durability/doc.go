// Package durability models how likely cellar is to lose an object, for
// `cellar durability`: a continuous-time Markov chain of one stripe's
// failed shards, solved exactly, and a Monte Carlo simulation of the same
// process to check it.
//
// # The stripe and its placement
//
// An object's data is a stripe of k+m shards; any k of them rebuild it, so
// it is lost once more than m are gone at the same time. cellar places the
// shards round robin over the zones (erasure.Place), so no zone holds more
// than m of them unless the store accepts weak placement: RS(4,2) over 3
// zones puts 2 shards in each, RS(6,3) 3, RS(2,1) 1. Model.PerZone is that
// count per zone.
//
// # Assumptions
//
//   - Disks: each shard sits on its own disk, and a disk fails (losing the
//     shard) as a Poisson process of rate λ = -ln(1-AFR) a year, so that
//     it fails within a year with probability AFR; failures of different
//     disks are independent. Bit rot that the scrubber finds counts as a
//     failure of that shard; the AFR should include it.
//   - Zone events: a zone loses every shard it holds at once (fire, flood,
//     an operator deleting a zone's directory, a storage array lost) as a
//     Poisson process of rate ζ = -ln(1-ZoneAFR) a year per zone,
//     independent of the disks and of the other zones. The default of
//     0.001 a year is about one destroyed data centre per thousand
//     data-centre-years: conservative against public record (OVHcloud's
//     SBG2 fire in 2021 is the one widely known case of a cloud data
//     centre destroyed with its data), and high enough that the model
//     shows what a whole-zone loss costs. An outage that does not destroy
//     data (a zone offline for a while) loses nothing in cellar, which
//     heals what the zone missed when it returns, so it is not modelled.
//   - Repair: the time from a failure to the stripe being whole again
//     (detection by a read or the scrubber, a replacement disk or zone,
//     the rebuild) is exponential with mean RepairHours. In the default
//     RepairBatch mode one repair restores every failed shard of the
//     stripe, because cellar's healer rebuilds all of a data set's missing
//     shards in one pass; RepairPerShard instead repairs each failed shard
//     on its own, in parallel. Repairs never fail and do not slow down as
//     more shards are missing. A realistic RepairHours is the time to heal
//     a lost zone's worth of data at the measured heal rate (cellar bench
//     heal) plus the time to notice and replace.
//   - The state is the number of failed shards in each zone, not just in
//     all, because a zone event takes only the shards still sound in its
//     zone. Every state with more than m failed is one absorbing state.
//
// # Computation
//
// The probability of losing an object within a horizon (a year) is the
// probability of absorption by then, computed by uniformization: the mass
// reaching the absorbing state is summed directly, in non-negative terms,
// so a probability of 1e-15 keeps its digits (1 minus a survival
// probability would not). The mean time to data loss comes from a linear
// solve by state reduction (Grassmann-Taksar-Heyman), also free of
// cancellation; 1-exp(-t/MTTDL) is printed beside the exact figure and
// agrees with it when repairs are much faster than failures.
//
// # Many objects
//
// For n objects, the stripes share the zones but are taken to sit on
// different disks, chosen independently: a large fleet. Then zone events
// are common to all objects and disk failures independent between them,
// and Result.LossAny combines three parts: zone events alone (counted once,
// not n times), disk failures alone (1-(1-p)^n), and a zone event that
// loses some object together with disk failures, before it (shards already
// down, from the chain's long-run distribution) or during its repair, each
// object independently given the event. That split is first order in the
// zone events (two zone events are only in the first part), which are
// rare. Where stripes do share disks, as in a real cluster, losses of
// different objects are positively correlated and 1-(1-p)^n overstates the
// chance of losing at least one (while understating how many go at once).
//
// # Monte Carlo check
//
// Simulate runs the same process event by event from the shards and zones,
// with no code in common with the chain. At the real rates a loss is a
// 1e-11 event that no simulation hits, so the check runs at failure rates
// scaled up (Model.Scaled, CheckScale picks the smallest power of two that
// makes a loss likely enough to count) and compares the chain at those same
// rates with the simulated frequency and its 95% Wilson interval. That the
// two agree across rates is the evidence that the chain, evaluated at the
// real rates, is the model described here.
package durability
