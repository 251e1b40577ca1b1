// Command cellar runs and inspects a cellar object store.
//
// Usage:
//
//	cellar <command> [flags]
//	cellar help [command]
//
// With no arguments cellar prints its usage and exits with status 2, as
// does an unknown command. "cellar help" prints the usage on stdout, and
// "cellar help <command>" (or "cellar <command> -h") a command's flags.
// A bad command line exits with status 2, a failure with status 1.
//
// # serve
//
//	cellar serve (--dir D | --memory) [--addr 127.0.0.1:9000] [--tls-cert F --tls-key F]
//	             [--region us-east-1] [--base-domain D] [--shutdown-timeout 30s] [--log-format text]
//
// Serve opens the embedded default store in D (or an in-memory one) and
// serves the S3 API (package s3api) over it. Clients sign with the pair in
// CELLAR_ACCESS_KEY and CELLAR_SECRET_KEY; with neither set, serve makes up
// a pair and prints it once on stderr. Once listening it prints
// "cellar serve: listening on URL" on stdout. GET /healthz answers 200
// "ok". Requests are logged on stderr (never the query string, which may
// hold a presigned signature). SIGINT or SIGTERM lets requests in flight
// finish for up to --shutdown-timeout, closes the store and exits 0.
//
// # heal, scrub and fsck
//
//	cellar heal --dir D
//	cellar scrub --dir D [--heal] [--rate 100MiB]
//	cellar fsck --dir D [--repair]
//
// These work on a closed store in the embedded default layout (D/index,
// D/az1..az3); the index's lock keeps a running server out while they
// work. They refuse a directory without D/index rather than take it for a
// new, empty store. A zone directory that was deleted is recreated empty
// (said on stderr), and its shards count as missing, so heal rebuilds them
// all. Progress lines (data sets, bytes, rate, time left) go to stderr:
// redrawn in place with a bar on a terminal, a plain line every 10
// seconds and at the end of each phase otherwise. Summaries go to stdout.
//
// heal verifies every shard the index references (Store.Scrub), which
// queues each data set with a missing or corrupt shard, then drains the
// heal queue (Store.Heal). It exits 0 once every object is at full
// redundancy, and 1, naming the data sets lost, if any could not be
// brought back.
//
// scrub verifies every shard, parity shards included, at up to --rate
// bytes a second (default unlimited), prints a line per zone, and queues
// what it finds bad; with --heal it rebuilds it before exiting. It exits 0
// if every shard verified, or with --heal was healed, and 1 otherwise.
//
// fsck runs Store.Check and prints each problem: data sets with missing or
// corrupt shards, data that cannot be read, shard files no record
// references, latest pointers that disagree with the versions, zone
// metadata records missing, disagreeing with the index, unreadable or
// stale. It exits 0 when index and zones agree and 1 when it finds a
// problem. With --repair it removes orphaned shard files and leftover
// temporary files, heals, fixes the zone metadata records
// (Store.RepairMeta), and checks again, exiting 0 if that check is clean.
// A store whose index was lost needs rebuild-index first: to fsck with an
// empty index every shard is an orphan.
//
// # rebuild-index
//
//	cellar rebuild-index --dir D [--force]
//
// Rebuild-index makes the index of a closed store again from its zones
// alone (cellar.RebuildIndex) and prints what it recovered: buckets,
// versions, delete markers, versions kept deleted, data queued for
// deletion, multipart uploads dropped, shards missing (queued for
// healing) and records unreadable. It refuses when D/index exists unless
// --force, which renames the old index to D/index.old-<time>; it never
// deletes one. It exits 0 on success.
//
// # durability
//
//	cellar durability [--data 4] [--parity 2] [--zones 3] [--afr 0.02] [--zone-afr 0.001]
//	                  [--repair-hours 24] [--repair-mode batch] [--objects N] [--years 1]
//	                  [--trials 200000] [--seed 1] [--weak-placement]
//
// Durability prints the probability of losing one object (and, with
// --objects, at least one of N) within a year, and its nines, from the
// Markov model of package internal/durability, whose doc states the
// assumptions: independent disk failures at --afr, whole-zone losses at
// --zone-afr (default 0.001 a year a zone: about one destroyed data centre
// per thousand data-centre-years), repair after --repair-hours on average,
// by default in one heal pass for all of a stripe's missing shards as
// cellar's healer does. The shards are placed as cellar places them
// (round robin; a layout with more than parity shards in a zone is refused
// unless --weak-placement). A Monte Carlo run of the same process checks
// the model at failure rates scaled up until losses are common enough to
// count, and prints both figures and whether they agree.
//
// # bench
//
//	cellar bench --dir D [--size 1GiB] [--small-count 10000] [--small-size 4KiB]
//	             [--part-size 8MiB] [--part-concurrency 4]
//	             [--concurrency 16] [--list-keys 100000] [--reps 3]
//	             [--s3-small 1MiB] [--s3-large 64MiB] [--s3-count N]
//	             [--only put-large,get-large] [--warm] [--keep]
//
// Bench measures the embedded default store (cellar.Open with only Dir:
// Pebble in D/store/index, directory zones D/store/az1..az3, RS(4,2) in
// 1 MiB blocks) against raw-disk baselines that do the same logical work on
// the same filesystem, and prints one table: workload, the cellar figure,
// the baseline figure and their ratio, cellar/baseline (higher is better
// for cellar; memory shows both figures and no ratio). A header line gives
// the machine and settings, notes under the table give times and what
// each side did (times, CPU used, bytes read from disk), and the last line
// is the command that was run. All workloads run in one process, one after
// the other, never overlapping; before each timed run bench collects
// garbage and syncs the filesystems.
//
// put-large, get-large, get-degraded and list run each side --reps times,
// alternating which side goes first, and the table shows each side's
// fastest run: on a shared machine noise only ever slows a run down, and a
// side that always ran second would inherit the first one's writeback. (On
// a lazily backed virtual machine the first run to touch fresh guest memory
// pays several times the system CPU of later runs; alternation and the
// fastest run keep that off the ratio.) put-small runs once a side.
//
//	put-large      one object of --size through Bucket.Put into a fresh
//	               store, the body from a deterministic generator (an 8 MiB
//	               pseudo-random pattern, replayed). Baseline: k+m files
//	               of size/k bytes (1.5x the object for RS(4,2)) written
//	               at once, one goroutine each, from the same generator in
//	               1 MiB writes, each fsynced and renamed from a temporary
//	               name, under D/raw. Both in MB/s (10^6 bytes a second)
//	               of object bytes.
//	get-large      Get and io.Copy to io.Discard of that object. Baseline:
//	               the raw data files, which together are the object's
//	               bytes, read in turn with io.Copy to io.Discard.
//	get-degraded   the same read with zone az2 offline (faulty.Offline), so
//	               its shards are decoded from parity; same baseline,
//	               measured again.
//	put-small      --small-count objects of --small-size, --concurrency at a
//	               time, into a fresh default store in D/small. Baseline:
//	               per object, create a temporary file, write, fsync, rename,
//	               as many at a time, in D/raw-small. Objects a second.
//	list           --list-keys empty objects "logs/2026/%07d", put untimed
//	               into Pebble on disk (D/list/index) with memory zones (a
//	               listing reads only the index), listed with Prefix
//	               "logs/2026/" and Delimiter "/", 1000 a page. Baseline: an
//	               index.Pebble iterator over the same key range of the
//	               index, First then Next over every key. Keys a second;
//	               both sides run warm, after one untimed pass.
//	put-large-mem  peak resident set size (VmRSS, sampled every 5 ms) above
//	               the idle RSS measured just before, after runtime.GC and
//	               debug.FreeOSMemory, during each side of put-large; the
//	               largest of the runs.
//	s3-put         rows "s3-put 1MiB" and "s3-put 64MiB": --s3-count objects
//	               of --s3-small and of --s3-large (default 64 and 8),
//	               --concurrency at a time, put with aws-sdk-go-v2
//	               PutObject (path style, static credentials,
//	               RequestChecksumCalculation WhenSupported; over plain HTTP
//	               the SDK signs the body's SHA-256 and sends its CRC32 in a
//	               header) to s3api.New on 127.0.0.1 over plain HTTP, into a
//	               fresh default store in D/s3 each run. This cellar-HTTP
//	               figure is the cellar column; the baseline column is the
//	               same puts through Bucket.Put into the same kind of store.
//	               MB/s of object bytes; the ratio is HTTP/Go API.
//	               Rows ".../TLS" ("s3-put 64MiB/TLS") do the same over
//	               TLS (httptest's certificate, HTTP/1.1), where the SDK,
//	               as against AWS, sends STREAMING-UNSIGNED-PAYLOAD-TRAILER:
//	               an aws-chunked body with a CRC32 trailer and no payload
//	               SHA-256.
//	s3-get         rows "s3-get 1MiB" and "s3-get 64MiB", and their /TLS
//	               rows: objects put untimed by the same SDK client (so
//	               each carries the SDK's default CRC32) read with
//	               GetObject (response checksums validated where
//	               supported), and through Bucket.Get, each with io.Copy to
//	               io.Discard, cold like get-large.
//	heal           --heal-size of --heal-object objects in a default store
//	               in D/heal (no background work); zone az2's directory is
//	               then deleted and the store reopened with it empty; an
//	               untimed Store.Scrub queues its shards; Store.Heal,
//	               unpaced, rebuilds them, cold. Baseline: the same objects
//	               as plain files in D/raw-heal, read 4 at a time (as many
//	               as the healer rebuilds at once), cold. MB/s of object
//	               bytes brought back to full redundancy; afterwards every
//	               object is read (first and last 64 KiB) with az1 offline.
//	scrub          Store.Scrub, unpaced, of the healed store, cold: MB/s of
//	               shard bytes read and verified, parity included. Baseline:
//	               heal's raw read again.
//	heal-10k       not in the default set (its setup alone takes tens of
//	               seconds): --only heal,scrub,heal-10k. --heal-count
//	               (10000) objects of --small-size written with az2 offline
//	               (faulty.Offline, marked so by the prober, which runs
//	               every second here); then az2 comes back and the time until
//	               Stats shows it online and the heal queue empty is the
//	               figure: the prober's return probe and the background
//	               healer. Objects a second in the table, the seconds in
//	               the notes. Baseline: writing the missed shard blobs as
//	               files of their mean size, each fsynced and renamed, 4 at
//	               a time, in D/raw-many.
//
// s3-put and s3-get run each side --reps times, alternating, like the
// large workloads. Every s3-put run is checked untimed (every size, and the
// first and last objects byte for byte, through the Go API); after s3-get
// the first and last objects are read whole through the SDK and compared.
// As a peer, the notes give the same puts and gets through the same SDK
// client against gofakes3 with its in-memory backend (s3mem) behind
// httptest: its MB/s and cellar-HTTP/peer. It keeps objects in memory,
// cellar on disk, so it is a reference point, not a baseline.
//
// Before each read phase, on both sides, bench fsyncs every file under the
// side's directory and evicts it from the page cache with
// fadvise(FADV_DONTNEED), so both read cold from the disk; the notes give
// the bytes the kernel then fetched from storage (read_bytes of
// /proc/self/io). --warm skips the eviction. Cold reads need Linux and a
// disk-backed directory: bench refuses tmpfs unless --warm. A virtual disk
// may still be cached by its host, which no guest can evict.
//
// Every figure is checked: the sizes Put reports, the length of every timed
// read, and after the runs of each large read (untimed) 16 ranges of the
// object, including its first and last 64 KiB, compared with the generator;
// the small objects are all listed and three read back; the listing must
// return exactly --list-keys keys in order, and so must the raw scan, which
// also guards against a change of the index layout.
//
// Bench creates D if missing and refuses to start if any of D/store,
// D/raw, D/small, D/raw-small, D/list, D/parts, D/s3, D/heal, D/raw-heal,
// D/heal-many or D/raw-many exists. It removes them at the end,
// and D if it made it, unless --keep. --only limits the table to some
// workloads; get-large, get-degraded and put-large-mem still perform
// put-large, whose object they need.
//
// For developers, --cpuprofile P writes a CPU profile of the cellar side
// of each workload to P-<workload>.pprof, for go tool pprof.
package main
