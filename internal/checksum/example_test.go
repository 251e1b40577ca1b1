package checksum_test

import (
	"fmt"

	"github.com/cellarhq/cellar/internal/checksum"
)

// A multipart object's checksums from its parts' checksums alone.
func Example() {
	parts := [][]byte{[]byte("12345"), []byte("6789")}
	var sums [][]byte
	var lengths []int64
	for _, p := range parts {
		sums = append(sums, checksum.CRC32.Sum(p))
		lengths = append(lengths, int64(len(p)))
	}
	full, _ := checksum.FullObject(checksum.CRC32, sums, lengths)
	fmt.Printf("FULL_OBJECT %s %x\n", checksum.Encode(full), full)
	fmt.Println("COMPOSITE", checksum.EncodeComposite(checksum.Composite(checksum.CRC32, sums), len(parts)))
	// Output:
	// FULL_OBJECT y/Q5Jg== cbf43926
	// COMPOSITE 4zspdQ==-2
}
