// Package cellar is an S3-style object store that Go programs import.
//
// A Store holds buckets of versioned objects. Object data is Reed-Solomon
// coded (RS(k,m), default RS(4,2)) into shards spread over pluggable
// backends, one per simulated availability zone; each shard block carries
// its BLAKE3 hash and is verified before use. Metadata lives in an ordered
// index, Pebble by default.
//
//	st, err := cellar.Open(ctx, &cellar.Options{Dir: "data"})
//	err = st.CreateBucket(ctx, "photos", nil)
//	info, err := st.Bucket("photos").Put(ctx, "cat.jpg", f, &cellar.PutOptions{ContentType: "image/jpeg"})
//	obj, err := st.Bucket("photos").Get(ctx, "cat.jpg", nil) // io.ReadSeekCloser and io.ReaderAt
//
// # Write path
//
// A Put validates its input, streams the body into a fresh data set (a
// random data ID, never the key) while computing its MD5, and only then,
// under a lock on the key, checks conditions, assigns the commit sequence
// number and version ID, writes the version record into every shard's
// trailer, commits the shards (fsynced and atomically published by each
// zone; at least the write quorum must succeed) and commits one synced
// index batch holding the version record, the key's latest pointer, the
// data reference and any replaced data queued for deferred deletion. A
// crash before the index commit leaves the old object intact and orphaned
// shards, which SweepOrphans removes; after it the new object is durable
// and visible. Shards that missed a write are queued for healing.
//
// # Consistency
//
// Reads go to the index, so once Put, Delete or a bucket operation returns,
// every Get, Head and List sees it. Writers to one key are ordered by their
// commit under the key's lock: the last commit wins and versions keep that
// order. Conditional puts (IfNoneMatch "*", IfMatch) are checked under the
// same lock as the commit, so they are atomic.
//
// # Deferred deletion
//
// Replaced and deleted data is queued with a due time (Options.DeleteGrace
// after the change) and removed by Sweep, which a background goroutine runs
// every Options.SweepInterval. Data that an open Object still reads is
// kept until the Object is closed, so a reader mid-stream survives an
// overwrite or delete of its key. Work that fails (a zone offline) stays
// queued; nothing is dropped.
//
// # Index layout
//
// Every index key begins with one byte naming its space. Bucket names and
// object keys are escaped with index.AppendEscapedString, which keeps
// bytewise order and is prefix-free.
//
//	B esc(bucket)                       bucket record (JSON: creation time, versioning, region, lifecycle)
//	L esc(bucket) esc(key)              version record of the current version; live objects only
//	V esc(bucket) esc(key) ^seq(8)      version record; newest first per key
//	D dataID                            data referenced by a committed record
//	G due(8) dataID                     segment to delete once due
//	H dataID / shard(2)                 segment with a shard to rebuild
//	U esc(bucket) esc(key) uploadID     multipart upload in progress
//	P uploadID partNumber(2)            uploaded part of a multipart upload
//	X due(8) kind esc(bucket) ...       lifecycle work due, in Unix seconds (see Lifecycle)
//	M name                              zone metadata record to write again (see Index rebuild)
//
// A version record is a format byte and a list of tagged fields (see
// record.go); unknown fields are skipped, so fields can be added freely.
// Listing reads only the L space: one entry per live key, and one seek to
// skip everything under a delimiter's common prefix, so a page costs
// O(page), not O(bucket).
//
// # Decisions where S3 is silent or the store differs
//
//   - Version IDs are 32 hex digits: the commit sequence number then 64
//     random bits. Unversioned and suspended buckets use "null".
//   - User metadata names are stored lowercased, as S3 does; they must be
//     HTTP tokens and values printable, since they travel as headers.
//   - A content type left empty is stored as binary/octet-stream, as S3
//     does.
//   - Deleting a version ID that does not exist succeeds, as S3 does;
//     a malformed version ID is ErrInvalidArgument.
//   - MaxKeys over 1000 lists 1000 and says IsTruncated, as S3 does.
//   - Store.Close does not close an Index or Zones the caller passed in.
//
// # Copy and tags
//
//   - CopyObject reads the source through an Object (which holds its data
//     against the sweeper), re-encodes the bytes into a fresh data set and
//     commits it like a Put, so a copy shares no data with its source:
//     either can be deleted, and swept, without touching the other. Its
//     ETag is the MD5 of the bytes: equal to a single-part source's, a
//     plain MD5 for a multipart source, as S3 gives a CopyObject.
//   - Copy-source conditions follow S3 and RFC 7232: a true If-Match
//     overrides a false If-Unmodified-Since; a false If-None-Match fails
//     whatever If-Modified-Since says; an If-Modified-Since in the future
//     is ignored. Every failure is ErrPreconditionFailed, never
//     ErrNotModified. The destination's IfMatch and IfNoneMatch "*" are
//     checked before any byte moves and again atomically with the commit.
//   - A copy onto itself (same bucket and key, no source version ID) with
//     MetadataDirective COPY is ErrInvalidRequest, as S3 refuses it;
//     TaggingDirective REPLACE alone does not make it legal. REPLACE always
//     does, even with the same metadata; naming a source version (the way
//     to restore an old version) always does.
//   - A missing source is ErrNoSuchKey (a *DeleteMarkerError when a delete
//     marker hides it) or ErrNoSuchVersion. A source version ID naming a
//     delete marker, a malformed source version ID, and a source over 5 GiB
//     are ErrInvalidRequest, as S3 answers CopyObject.
//   - Unlike S3, which silently ignores them, ContentType or Metadata with
//     MetadataDirective COPY, and Tags with TaggingDirective COPY, are
//     ErrInvalidArgument: a Go caller learns that they would be dropped.
//     Directives are exactly "COPY" or "REPLACE"; empty means COPY.
//   - The copy gets CopyOptions.StorageClass, or STANDARD when it is
//     empty, not the source's class, as S3 does without
//     x-amz-storage-class. A copy onto itself that names a storage class
//     other than the source's is legal (S3 allows a copy that changes
//     only the storage class); naming the source's own class does not
//     make it legal.
//   - Object tags live in the version record. PutObjectTagging and
//     DeleteObjectTagging rewrite one version's record (and the latest
//     pointer if the version is current) in one index batch under the
//     key's lock; ETag and LastModified do not change. A current delete
//     marker is ErrNoSuchKey; a delete marker named by version ID is
//     ErrMethodNotAllowed; both as a *DeleteMarkerError.
//   - Shard trailers keep the record as written; a later tag change is
//     kept on the zones as a metadata record (see "Index rebuild"), so an
//     index rebuilt from the zones has the tags in force.
//
// # Multipart uploads
//
//   - An upload is a record in the U space; each part is erasure-coded
//     when uploaded, its shards committed with a part record (not a
//     version record) in their trailers, then recorded in the P space
//     with its data reference, so the orphan sweeper and Check know it.
//     Complete copies no data: the object's segments are the parts', and
//     one index commit adds the version, removes the upload and its part
//     records, and queues the parts left out for deletion. A part record
//     starts with its own format byte, so an index rebuild from the zones
//     can tell parts from versions; it cannot recover which completed
//     object a part became.
//   - Upload IDs are 48 hex digits: the commit sequence number when the
//     upload was made, then 128 random bits. They are URL-safe and
//     unguessable, and ListMultipartUploads, sorted by key then upload ID,
//     thereby lists the uploads of a key in the order they were made, as
//     S3 does. UploadIDMarker is compared with upload IDs bytewise; a
//     KeyMarker that is a common prefix skips everything under it.
//   - Part commits, Complete and Abort of one upload are serialized by a
//     lock on the upload, held only around the index update, never while
//     data streams. A part commit checks under that lock that the upload
//     still exists, so a part that loses the race with Complete or Abort
//     is deleted and fails with ErrNoSuchUpload: nothing leaks.
//   - Once Complete returns, the upload is gone: completing it again, or
//     after Abort, is ErrNoSuchUpload. (S3 briefly answers a repeated
//     Complete with success.) A Complete that fails a check or condition
//     (412) leaves the upload unchanged, to be completed again.
//   - Complete with no parts is ErrInvalidArgument (S3: MalformedXML); a
//     part number outside 1 to 10,000 is ErrInvalidArgument everywhere.
//     CreateMultipartUpload refuses PutOptions.Size and conditions
//     (ErrInvalidArgument) rather than ignore them: Complete takes them.
//   - A bucket with uploads in progress is not empty: DeleteBucket is
//     ErrBucketNotEmpty, as S3 answers.
//   - ObjectInfo.PartsCount is set for every multipart object (from its
//     "-N" ETag) on Get, Head and List; S3 sends x-amz-mp-parts-count
//     only with partNumber. GetOptions.PartNumber 1 of an object not
//     uploaded in parts is the whole object; any other part is
//     ErrInvalidPartNumber.
//   - UploadPartCopy reads the source through Get and writes the bytes
//     afresh: the part shares nothing with its source.
//   - Bucket.Upload never seeks its reader: a resume reads the body from
//     the start and keeps each stored part whose size and MD5 match,
//     uploading the rest. Its buffers (PartSize × Concurrency at most)
//     are made per call and reused across its parts.
//
// # Durability
//
// Redundancy is kept, not assumed: missing and corrupt shards are found,
// queued in the index and rebuilt, and no repair work is ever dropped.
//
//   - The heal queue is the H space of the index. Writes that missed a
//     zone, reads that met a missing or corrupt shard, Check and Scrub add
//     to it; Heal drains it. Heal verifies each queued shard first (a read
//     may have failed for a passing reason, such as a zone marked offline)
//     and rebuilds the bad ones with erasure.Rebuild, four data sets at a
//     time, one Heal at a time. Shards in a zone marked offline, and
//     shards that cannot be rebuilt now, stay queued. The background
//     sweeper runs Heal every SweepInterval; a zone coming back and a
//     background scrub that found bad shards each start a pass at once.
//   - Scrub walks the index a few records at a time (the P space, then V)
//     and verifies every shard of every data set whole, so parity shards
//     that reads never touch are checked too; it holds no lock while it
//     reads, only each data set against the sweeper, as a reader does.
//     golang.org/x/time/rate paces its reads at
//     ScrubOptions.BytesPerSecond. A data set with more bad shards than
//     parity is reported lost, not queued.
//   - Decision: the background scrubber is on by default, a pass a day
//     (ScrubInterval) at up to 32 MiB/s (ScrubBytesPerSecond), because
//     silent corruption is found only by looking; a store larger than a
//     day's budget is scrubbed continuously at that rate. Its progress is
//     one record, Z "scrub" → JSON {done, running, started, cursor}: a
//     pass interrupted by Close resumes after the last record it finished,
//     and a store reopened more often than ScrubInterval is scrubbed all
//     the same, since the wait counts from the last pass's end, not from
//     Open. Scheduling uses the wall clock, not Options.Clock.
//   - Decision: the healer is paced too, at HealBytesPerSecond (256 MiB/s
//     by default, negative for unlimited) over every byte it reads and
//     writes, through the same limited zone wrapper as the scrubber
//     (pacedZone, golang.org/x/time/rate), one limiter for all heal passes
//     at once. The default is high because the time to repair is what
//     durability rests on (see cellar durability): it keeps a zone
//     replacement from taking every disk's bandwidth, yet heals a
//     terabyte in about an hour and a quarter. The admin commands (cellar
//     heal, scrub --heal) run unlimited.
//   - Zone health: every zone is probed (Backend.Probe, with
//     ProbeTimeout) every ProbeInterval, 10 seconds by default. One failed
//     or timed-out probe marks the zone offline: the store reaches every
//     zone through a gate (zones.go) that then fails operations at once,
//     and cancels those in flight on the zone, so that a hung zone does
//     not hold up writes; the writer records the zone's shards as missed
//     and commits on the others (RS(4,2) over three zones keeps writing
//     with one zone down). A zone marked offline is probed every second
//     and comes back at the first probe that succeeds; Heal, Check and
//     Scrub also probe it before they start. The gate is a backend.Backend
//     wrapper rather than a hook in the erasure package: it covers reads,
//     writes, rebuilds, sweeps and listings alike, and erasure stays
//     unaware of zone health.
//   - Store.Stats reports the heal and garbage queue lengths (counted from
//     the index), counters since Open (shards found bad by Scrub and
//     Check, shards and bytes healed and scrubbed, scrub passes) and each
//     zone's state. Store.Zones returns the caller's backends, not the
//     gates.
//   - A zone directory deleted outright is recreated empty by the next
//     Open (backend.NewDir); a Scrub, or cellar heal, then queues and
//     rebuilds every shard it held.
//
// # Index rebuild
//
// The index can be made again from the zones alone (RebuildIndex, cellar
// rebuild-index). A version written with its data has its record in every
// shard's trailer; everything else the index holds that a rebuild needs
// is kept as small metadata records on the zones, beside "data/":
//
//	meta/b/<bucket>                bucket record (JSON, as in the B space) or its removal
//	meta/v/<seq>-<hash>            version record, or its tombstone naming its data IDs;
//	                               seq is 16 hex digits, hash the first 8 bytes of
//	                               BLAKE3(bucket 0x00 key) in hex
//	meta/g/<dataID>                tombstone of a data set queued for deletion (its segment)
//
// Each is a format byte (0x91), tagged fields as in record.go (kind,
// generation, removed, bucket, key, seq, body, data IDs) and the BLAKE3-256
// of what precedes it; a record that fails its hash, or sits under a name
// its content does not give, is unreadable and counted, never trusted.
//
//   - One function, Store.apply, commits every index batch that changes a
//     bucket, a version or the garbage queue. It derives the records from
//     the batch itself (a B key set or deleted, a V key set to a record
//     not in a fresh data trailer, a V key deleted, a G key set), writes
//     them to every zone at once and needs a majority of zones for each,
//     and only then commits the batch. So whatever the index acknowledges
//     is on the zones, and a later change (another developer's transition
//     queuing replaced data with garbageKey, say) is covered without a
//     hook of its own.
//   - A Put of a new version costs no extra zone write: its record is in
//     its data's trailers. Writes that need records: delete markers, a
//     multipart Complete (the parts' trailers hold part records), tag
//     changes, bucket changes, lifecycle expirations, and any removal: a
//     version removed (overwritten null version, delete by ID, an
//     unversioned delete, an expiration) gets a tombstone and each data
//     set queued for deletion (its data, an aborted upload's parts, a
//     replaced part) a garbage tombstone. Overwriting a null version thus
//     costs two small records per zone, written in parallel.
//   - Ordering. For one name the record with the highest generation
//     wins (generations come from the commit sequence clock; a tombstone
//     wins a tie). For one version, a metadata record, live or tombstone,
//     wins over its trailer record: it is written only after the trailer.
//     A version any of whose data IDs has a garbage tombstone is dropped:
//     deleted data never comes back. A key keeps one null version, the
//     one with the highest Seq; older null versions still on the zones
//     are dropped and their data queued for deletion. The latest pointer
//     is the newest version unless that is a delete marker.
//   - A garbage tombstone goes when Sweep has removed its data's shards
//     (it is removed before the G entry, and retried until every zone
//     took the delete). A version tombstone is needed only until every
//     copy of the version's record is a tombstone (the data's trailers
//     are covered by garbage tombstones): it is removed right after the
//     index commit if every zone took it, else by Heal, which first
//     writes it to every zone.
//   - A record that misses a zone (offline) but reaches its quorum is
//     queued in the M space of the same index batch; Heal writes it
//     again, from what the index holds then, to every zone, under the
//     bucket lock so that no newer change to it interleaves. Scrub and
//     Check queue records missing or unreadable on some zone (a zone
//     replaced by an empty directory) and records that disagree with the
//     index (left by an interrupted commit); Check counts them in
//     CheckReport.MetaDegraded. A record the index needs that is on no
//     zone, or a record unreadable everywhere, is a Problem; RepairMeta
//     (cellar fsck --repair) writes and removes what Check found.
//   - Failed commits. If the records miss their quorum, or the index
//     commit fails after they were written, the store rewrites them from
//     what the index holds then (a version or bucket the index still has
//     is written back live; a garbage tombstone for data the index did not
//     queue is removed). Should the process die in between, the zones'
//     records win on a rebuild: the change, which was never acknowledged,
//     takes effect, as it might have had the crash come just after the
//     commit. Likewise shards of a Put whose index commit failed and whose
//     removal failed too may come back as a version on a rebuild; an
//     acknowledged change is never lost.
//   - RebuildIndex is a package function on a closed store, shaped like
//     Open: it opens the zones and a new index with no background work and
//     refuses to run unless that index is empty. With Options.Dir an
//     existing Dir/index is ErrIndexExists unless RebuildOptions.Replace
//     renames it to Dir/index.old-<time> (never deleted). It reads every
//     zone's metadata records and, per data set, the header and trailer of
//     the first shard that verifies (one is enough: the trailer carries
//     its own hash), then writes buckets, versions, latest pointers, data
//     references, heal work for every shard absent from its zone, garbage
//     entries (due after DeleteGrace) for deleted data still present, and
//     a lifecycle re-plan item for each bucket with rules, which it then
//     plans. A zone that cannot be listed is reported; its shards are
//     queued for healing. Multipart uploads in progress are not recovered:
//     their parts are queued for deletion and counted. A bucket with
//     versions but no metadata record (a store written before these
//     records existed) is made with default settings and counted.
//   - A data set whose trailer names a version but which has fewer than
//     k shards on the zones that its placement names (zones that cannot
//     be listed count as holding theirs) is a write killed while its
//     shards were committing: never acknowledged, and unreadable. It is
//     not recovered, so it cannot shadow the version before it; it is
//     counted (RebuildReport.DataIncomplete) and left to the orphan sweep.
//   - Each zone takes a batch's live records before its removals, so a
//     process killed while writing them leaves no zone with the tombstone
//     of a replaced version, or of its data, without the record that
//     replaced it. A transition writes the moved version's record as a
//     metadata record, although the new data's trailers hold it: the
//     version may have had one (a multipart upload, changed tags, a
//     restore), which would otherwise name the old, deleted data.
//   - The rebuilt index takes every record as it won; records that are
//     not the same on every zone, live records of versions the rebuild
//     dropped (an older null version, a version whose data is deleted)
//     and version tombstones are queued in the M space, and the next Heal
//     writes them from the new index to every zone (and removes the
//     tombstones). TestCrashKill rebuilds the index after every kill,
//     before the orphan sweep, and checks every key and Check.
//   - Check compares the metadata records with the index, reading one
//     shard trailer per version to tell whether the version needs a
//     record of its own. On a store in use it may see a record written
//     for a commit not yet applied; it only queues such a record, and
//     Heal, under the bucket lock, writes what the index then holds.
//
// # Lifecycle
//
// A bucket's lifecycle configuration (ParseLifecycle reads the aws CLI's
// JSON and S3's XML; Bucket.SetLifecycle puts it in force) is kept in the
// bucket record and enforced by Store.RunLifecycle, which a background
// runner calls every Options.LifecycleInterval (an hour by default), by
// the store's clock (Options.Clock).
//
//   - Due work is a queue in the index, the X space, ordered by due time.
//     Every write that can make an action due queues an item in its own
//     index batch: a put, copy or Complete (the new version's expiration,
//     the replaced version's noncurrent expiration), a delete (the hidden
//     version's), a delete by version ID (a lone delete marker left, an
//     older version made current), a change of tags (for tag filters), a
//     new multipart upload (its abort). SetLifecycle reads the bucket once
//     to plan what is already there, and commits a re-plan item with the
//     rules, so that a plan cut short is finished by the next run. A run
//     reads only the items due, never a bucket: with nothing due it costs
//     one empty index seek. Nothing due is lost across a restart.
//   - An item says only when to look again. When it comes due, its key
//     (or upload) is evaluated under its lock against its versions and
//     the rules in force at that moment; only the actions due then are
//     taken, and the key's next item is queued, in one index batch. An
//     object changed since, or a rule changed or deleted since, makes the
//     item stale: it does nothing. Old items are not hunted down when the
//     rules change; each costs one evaluation when it comes due.
//   - Timing is S3's: the days are added to the time the version was made
//     (for a noncurrent version, the time the next newer version was
//     made; for an upload, the time it was initiated) and the result is
//     rounded up to the next midnight UTC, so an object made
//     2026-01-01T15:00Z under Days 1 goes at 2026-01-03T00:00Z. A result
//     exactly at midnight also goes to the next one (S3's "rounded to the
//     next day midnight"). A Date rule expires what exists on that date at
//     its midnight, and what is made later at the midnight after it is
//     made. A delete marker a run adds is dated by the run's clock.
//   - Expiration of a current version: an unversioned bucket loses the
//     object; a versioned one gets a delete marker; a suspended one a null
//     delete marker that replaces the null version (whose data goes). A
//     current delete marker with versions behind it is left alone. A
//     delete marker that is the only version (an expired object delete
//     marker) goes at the midnight after it was made under
//     ExpiredObjectDeleteMarker, or when an Expiration Days or Date rule
//     would expire an object made when the marker was, as S3 does.
//   - Where S3 is silent: NewerNoncurrentVersions counts noncurrent object
//     versions, not delete markers, and never keeps a noncurrent delete
//     marker, which holds no data: that goes NoncurrentDays after it
//     became noncurrent. When the version that made another noncurrent is
//     itself removed, the time of the next newer version counts. For
//     filters a delete marker has no tags and size 0. When several rules
//     apply, the earliest action wins.
//   - Validation is S3's. Each violation is an error that names the rule
//     and field and matches ErrInvalidLifecycle (S3: InvalidArgument);
//     documents that are not well-formed or not shaped as S3 wants them
//     match ErrMalformedLifecycle (S3: MalformedXML) too. Unknown JSON
//     fields and XML elements are refused, as S3 refuses them, and so are
//     IDs and prefixes with characters XML cannot carry. The parser checks
//     presence where a Go field cannot (Days 0, an empty Prefix beside a
//     Tag). Decisions: an Expiration holding only ExpiredObjectDeleteMarker
//     false, which S3 takes and ignores, is refused; an And needs two
//     conditions, an empty Prefix not counting as one. SetLifecycle gives
//     a rule without an ID a random one, as S3 does.
//   - The data of removed versions and aborted uploads is queued for Sweep
//     like any deleted data.
//   - ObjectInfo.Expiration (S3's x-amz-expiration) is filled by Put,
//     Copy, Complete, Head and Get for a current version that an
//     Expiration Days or Date rule selects: the earliest such rule and its
//     date. It reads the bucket record once more; noncurrent rules are not
//     reported, as S3 reports only the current version's expiry.
//
// # Storage classes
//
// Every version records its class (the record's StorageClass; empty, as
// in records made before classes existed, is STANDARD). A class is a
// placement: which zones hold its shards and with what RS(k,m)
// (Options.StorageClasses). Each segment records its own k, m and global
// zone placement, so reads, Heal, Scrub and Check need nothing from the
// class, and a store reopened with other class options still reads old
// data.
//
//   - Defaults on any layout: STANDARD, STANDARD_IA, INTELLIGENT_TIERING,
//     GLACIER_IR, GLACIER and DEEP_ARCHIVE use the store's RS(k,m) over
//     every zone (they differ in accounting, price and readability, not in
//     durability). REDUCED_REDUNDANCY uses RS(z-1,1) over z >= 3 zones
//     (RS(2,1) on the embedded three): one shard a zone, so the loss of a
//     zone still loses nothing, but two lost shards do (RS(4,2) survives
//     two). On three zones the overhead is the same 1.5x (any lower would
//     put two shards of one parity in a zone); what it saves is shards:
//     three blobs an object instead of six. With fewer than three zones
//     it uses the store's RS(k,m). ONEZONE_IA puts every shard of an object in one
//     zone, chosen per object from its data ID (so objects spread over the
//     zones): losing that zone loses the object, which is what S3's
//     One Zone-IA promises; Open never refuses it as weak placement. Any
//     other class whose placement would let one zone hold more shards
//     than its parity is refused by Open unless AllowWeakPlacement.
//   - Write quorum: the store's WriteQuorum for classes with the store's
//     RS(k,m); k (plus one when k == m) for classes with other counts.
//   - Small objects: an object (or part, or copy, or transition) of at
//     most SmallObjectSize (4 KiB) bytes is written as RS(1,m) over its
//     class's zones: one data shard and m parity shards, each a whole copy
//     (with k = 1 Reed-Solomon parity is a copy). It survives any m lost
//     shards as RS(k,m) does, and so any lost zone, in 1+m shard files
//     instead of k+m: a put of 4 KiB commits three files instead of six
//     on the embedded default, about twice the puts a second on a disk
//     bound by fsync. On disk it costs no more where every file takes at
//     least a 4 KiB block (ext4, xfs, tmpfs; TestSmallObjectDiskUse): at
//     4 KiB or less every RS(k,m) shard still takes such a block. With the default
//     placement it also keeps a copy in every zone, so it reads with any
//     two of three zones gone, where RS(4,2) needs two zones. Its write
//     quorum is the class's share of shards, rounded up (RS(4,2) with a
//     quorum of 4 of 6 becomes 2 of 3), so a small write needs as many
//     zones as a large one. A body of unknown length is read up to
//     SmallObjectSize+1 bytes before its layout is chosen. The segment
//     records its k and m, so readers, Heal, Scrub, Check and
//     RebuildIndex need nothing new, and a store written before keeps
//     reading its RS(k,m) small objects.
//   - An unknown class is ErrInvalidStorageClass (S3: InvalidStorageClass);
//     names are S3's, case-sensitive. A multipart upload's class (from
//     CreateMultipartUpload's PutOptions.StorageClass) places its parts as
//     they are uploaded, and Complete gives the object that class.
//   - Transitions (Transitions, NoncurrentVersionTransitions) are planned
//     in the X queue like expirations, with the same timing: the midnight
//     UTC after Days (Date: at the date), noncurrent days from when the
//     version became noncurrent, NewerNoncurrentVersions counting newer
//     noncurrent object versions. A transition goes only to a colder
//     class, down S3's waterfall (STANDARD and REDUCED_REDUNDANCY, then
//     STANDARD_IA, INTELLIGENT_TIERING, ONEZONE_IA, GLACIER_IR, GLACIER,
//     DEEP_ARCHIVE); nothing moves back up. When several are due at once
//     (a late run), the version goes straight to the coldest. An
//     expiration due at the same time wins: the version is expired, not
//     moved. Validation adds S3's rules: STANDARD_IA and ONEZONE_IA no
//     sooner than 30 days, each class once per rule, a colder class later
//     than a warmer one (30 days after an IA class), and an expiration's
//     days beyond every transition's.
//   - Minimum size: objects smaller than 128 KiB (MinTransitionSize) are
//     not transitioned to any class unless the rule filters by object
//     size, S3's default since September 2024
//     (all_storage_classes_128K), where a size filter takes precedence.
//   - A transition re-encodes each segment of the version into the target
//     class's placement (new data IDs; the shards carry the updated record
//     in their trailers; each segment's MD5 is checked against its ETag as
//     it is copied), outside the key's lock. Then, under the key's lock,
//     if the version is still there, byte for byte as it was read, and
//     still due to go to that class, one index batch points the version
//     (and the latest pointer) at the new data, adds its data references,
//     queues the old data for Sweep after the grace period (a reader
//     still streaming it holds it until it closes) and queues the key's
//     next lifecycle item. Version ID, ETag, LastModified, checksum and
//     part layout stay. Until that commit a key with a transition due
//     keeps a queue item due now, so a transition that failed or was cut
//     short by a crash is retried by the next run; a crash leaves the old
//     version whole and the new shards unreferenced, for SweepOrphans.
//   - The lifecycle run transitions synchronously (RunLifecycle returns
//     when they are done), so LifecycleReport.Transitioned counts them.
//
// # Restore
//
//   - GLACIER and DEEP_ARCHIVE versions are readable (Get, CopyObject and
//     UploadPartCopy sources) only while restored; otherwise
//     ErrInvalidObjectState (S3: InvalidObjectState, 403). Head, List and
//     ListObjectVersions work and show ObjectInfo.Restore.
//   - Bucket.Restore records, in the version record in the index only
//     (not in shard trailers), when the restore completes (now plus
//     Options.RestoreTimes[class][tier]: GLACIER Expedited 5m, Standard
//     4h, Bulk 12h; DEEP_ARCHIVE Standard 12h, Bulk 48h) and when the
//     restored copy expires: Days after completion, rounded up to the next
//     midnight UTC as S3 does (restored 10:30 on 10/15 for 3 days expires
//     10/19 00:00). Completion and expiry are evaluated lazily by the
//     store's clock on every access, so nothing is queued and
//     RunLifecycle reports no restores. The restored copy costs no extra
//     data: the archived shards are read directly.
//   - A restore while one runs is ErrRestoreAlreadyInProgress (409). A
//     restore of a restored version sets its expiry to Days after now
//     (S3 answers 200 then, 202 for a new restore; a handler tells them
//     apart with Head first). Expedited for DEEP_ARCHIVE, which S3 does
//     not offer, Days < 1 and unknown tiers are ErrInvalidArgument. A
//     restore of any other class is ErrInvalidObjectState, as S3 answers.
//   - A transition (GLACIER to DEEP_ARCHIVE) drops a restore in effect.
//
// # Intelligent-Tiering
//
//   - An INTELLIGENT_TIERING version is in the infrequent access tier
//     once 30 days (IntelligentTieringIdle) have passed since it was last
//     read or written, and back in the frequent tier when read. The last
//     read is kept in the version record (index only) and written at most
//     once a day per version: a Get writes it only when the day of the
//     last recorded access differs from today's, so the tier is exact to
//     within a day and reads stay reads. The tier is computed when asked
//     (Usage), not stored; ObjectInfo.StorageClass stays
//     INTELLIGENT_TIERING.
//
// # Usage
//
//   - Store.Usage scans the V space of an index snapshot (every version,
//     current and noncurrent; not delete markers), rather than keeping
//     counters: it costs O(versions) per report and adds nothing to any
//     write. StoredBytes is, over segments, (k+m) times each shard's
//     share of the data (block hashes and headers left out). MonthlyCost
//     is logical bytes (as S3 bills) in GB of 2^30 bytes times
//     Options.Prices, whose defaults are S3's us-east-1 prices per
//     GB-month: STANDARD 0.023, REDUCED_REDUNDANCY 0.024, STANDARD_IA
//     0.0125, INTELLIGENT_TIERING 0.023 frequent and 0.0125 infrequent
//     (monitoring fees left out), ONEZONE_IA 0.01, GLACIER_IR 0.004,
//     GLACIER 0.0036, DEEP_ARCHIVE 0.00099. Minimum storage durations and
//     minimum billable sizes are not modelled.
package cellar
