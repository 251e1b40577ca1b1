package cellar

import (
	"encoding/binary"

	"github.com/cellarhq/cellar/index"
)

// Index key spaces. Each key starts with one prefix byte; bucket names and
// object keys are escaped with index.AppendEscapedString so that composite
// keys sort by (bucket, key) bytewise. See doc.go for the full layout.
const (
	spaceBucket   = 'B' // B esc(bucket) → bucketRecord (JSON)
	spaceLatest   = 'L' // L esc(bucket) esc(key) → versionRecord of the current version, live objects only
	spaceVersions = 'V' // V esc(bucket) esc(key) ^seq → versionRecord, newest first per key
	spaceDataRef  = 'D' // D dataID → (empty): data that an index record references
	spaceGarbage  = 'G' // G due(uint64 ns) dataID → segment: data to delete once due
	spaceHeal     = 'H' // H dataID / shard(uint16) → segment: a shard to rebuild
	spaceUpload   = 'U' // U esc(bucket) esc(key) uploadID → upload record (multipart.go)
	spacePart     = 'P' // P uploadID partNumber(uint16) → part record (multipart.go)
	// X due(uint64 Unix seconds) kind esc(bucket) ... → lifecycle work due (lifecycle.go)
	spaceLifecycle = 'X'
	// M name → index key: a zone metadata record that missed a zone, to
	// write again from the index (zonemeta.go)
	spaceMetaHeal = 'M'
)

func metaHealKey(name string) []byte { return append([]byte{spaceMetaHeal}, name...) }

func bucketKey(bucket string) []byte {
	return index.AppendEscapedString([]byte{spaceBucket}, bucket)
}

// objectPrefix is the start of every key of one bucket in space.
func objectPrefix(space byte, bucket string) []byte {
	return index.AppendEscapedString([]byte{space}, bucket)
}

func latestKey(bucket, key string) []byte {
	return index.AppendEscapedString(objectPrefix(spaceLatest, bucket), key)
}

// versionsPrefix is the start of every version key of one object key.
func versionsPrefix(bucket, key string) []byte {
	return index.AppendEscapedString(objectPrefix(spaceVersions, bucket), key)
}

// INVARIANT: versions of a key sort newest first, because the key ends in
// the bitwise complement of the commit sequence number.
func versionKey(bucket, key string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(versionsPrefix(bucket, key), ^seq)
}

func dataRefKey(dataID string) []byte {
	return append([]byte{spaceDataRef}, dataID...)
}

func garbageKey(due int64, dataID string) []byte {
	k := binary.BigEndian.AppendUint64([]byte{spaceGarbage}, uint64(due))
	return append(k, dataID...)
}

func healKey(dataID string, shard int) []byte {
	k := append([]byte{spaceHeal}, dataID...)
	k = append(k, '/')
	return binary.BigEndian.AppendUint16(k, uint16(shard))
}
