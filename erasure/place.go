package erasure

import (
	"fmt"
	"strconv"
	"strings"
)

// Place assigns each of the k+m shards a zone index in [0,zones). Shard i
// goes to zone (i+seed) mod zones: round robin, so every zone holds
// floor((k+m)/zones) or ceil((k+m)/zones) shards, the data shards (the ones
// normally read) are spread over as many zones as possible, and the seed
// rotates which zones take the extra shards so that zones fill evenly across
// objects. Unless allowWeak, Place fails with ErrWeakPlacement when some
// zone would hold more than m shards, as losing that zone would lose data.
func Place(zones int, p Params, seed uint64, allowWeak bool) ([]int, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if zones < 1 {
		return nil, fmt.Errorf("%w: zones %d < 1", ErrInvalidParams, zones)
	}
	n := p.Shards()
	if most := (n + zones - 1) / zones; most > p.ParityShards && !allowWeak {
		return nil, fmt.Errorf("%w: %d shards over %d zones puts %d in a zone, parity covers %d",
			ErrWeakPlacement, n, zones, most, p.ParityShards)
	}
	off := int(seed % uint64(zones))
	place := make([]int, n)
	for i := range place {
		place[i] = (i + off) % zones
	}
	return place, nil
}

const blobPrefix = "data/"

// BlobName is the name of shard's blob of the object data dataID:
// "data/<dataID>/<shard>". dataID must pass validDataID (NewWriter and Open
// check it); the name then satisfies backend.ValidName.
func BlobName(dataID string, shard int) string {
	return blobPrefix + dataID + "/" + strconv.Itoa(shard)
}

// BlobPrefix is the prefix shared by every shard blob of dataID, for
// backend.List.
func BlobPrefix(dataID string) string { return blobPrefix + dataID + "/" }

// ParseBlobName reverses BlobName; ok is false for names BlobName never makes.
func ParseBlobName(name string) (dataID string, shard int, ok bool) {
	rest, found := strings.CutPrefix(name, blobPrefix)
	if !found {
		return "", 0, false
	}
	id, num, found := strings.Cut(rest, "/")
	if !found || validDataID(id) != nil || len(num) == 0 || len(num) > 3 || (len(num) > 1 && num[0] == '0') {
		return "", 0, false
	}
	s, err := strconv.Atoi(num)
	if err != nil || s < 0 || s >= MaxShards {
		return "", 0, false
	}
	return id, s, true
}

// validDataID checks a data ID: 1 to MaxDataIDLen bytes of [a-z0-9].
func validDataID(id string) error {
	if len(id) == 0 || len(id) > MaxDataIDLen {
		return fmt.Errorf("%w: DataID length %d not in [1,%d]", ErrInvalidParams, len(id), MaxDataIDLen)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return fmt.Errorf("%w: DataID %q has byte %#x, want [a-z0-9]", ErrInvalidParams, id, c)
		}
	}
	return nil
}
