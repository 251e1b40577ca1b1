package erasure

// AllBlobsPrefix is the prefix of every shard blob name, for listing a
// zone's shards (scrubbing, sweeping orphans, rebuilding an index).
const AllBlobsPrefix = blobPrefix
