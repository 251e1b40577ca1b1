package checksum

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestKnownVectors(t *testing.T) {
	check := []byte("123456789")
	for _, tc := range []struct {
		a    Algorithm
		data []byte
		hex  string
	}{
		{CRC32, check, "cbf43926"},
		{CRC32C, check, "e3069283"},
		{CRC64NVME, check, "ae8b14860a799888"},
		{SHA1, []byte("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d"},
		{SHA256, []byte("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{CRC32, nil, "00000000"},
		{CRC64NVME, nil, "0000000000000000"},
		{SHA256, nil, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	} {
		got := hex.EncodeToString(tc.a.Sum(tc.data))
		if got != tc.hex {
			t.Errorf("%s(%q) = %s, want %s", tc.a, tc.data, got, tc.hex)
		}
		if n := len(tc.a.Sum(tc.data)); n != tc.a.Size() {
			t.Errorf("%s: digest of %d bytes, Size() = %d", tc.a, n, tc.a.Size())
		}
	}
	// The S3 documentation's example: 65 KiB of 'a' has CRC32C sOO8/Q==.
	if got := Encode(CRC32C.Sum(bytes.Repeat([]byte("a"), 65*1024))); got != "sOO8/Q==" {
		t.Errorf("CRC32C of 65 KiB of 'a' = %s, want sOO8/Q==", got)
	}
}

func TestParseAlgorithm(t *testing.T) {
	for _, a := range Algorithms() {
		for _, s := range []string{string(a), strings.ToLower(string(a)), mixedCase(string(a))} {
			got, err := ParseAlgorithm(s)
			if err != nil || got != a {
				t.Errorf("ParseAlgorithm(%q) = %q, %v; want %q", s, got, err, a)
			}
		}
		if got, ok := ByHeaderName(strings.ToUpper(a.HeaderName())); !ok || got != a {
			t.Errorf("ByHeaderName(%q) = %q, %v", a.HeaderName(), got, ok)
		}
		if !a.Valid() {
			t.Errorf("%s not Valid", a)
		}
	}
	for _, s := range []string{"", "MD5", "crc", "sha512", "CRC32 ", "crc64"} {
		if _, err := ParseAlgorithm(s); !errors.Is(err, ErrUnknownAlgorithm) {
			t.Errorf("ParseAlgorithm(%q) error = %v, want ErrUnknownAlgorithm", s, err)
		}
	}
	for _, s := range []string{"x-amz-checksum-", "x-amz-checksum-md5", "content-md5", "x-amz-checksum-mode"} {
		if _, ok := ByHeaderName(s); ok {
			t.Errorf("ByHeaderName(%q) ok", s)
		}
	}
	want := map[Algorithm]string{
		CRC32: "x-amz-checksum-crc32", CRC32C: "x-amz-checksum-crc32c", CRC64NVME: "x-amz-checksum-crc64nvme",
		SHA1: "x-amz-checksum-sha1", SHA256: "x-amz-checksum-sha256", "MD5": "",
	}
	for a, h := range want {
		if a.HeaderName() != h {
			t.Errorf("%q.HeaderName() = %q, want %q", a, a.HeaderName(), h)
		}
	}
	if Algorithm("MD5").Size() != 0 || Algorithm("MD5").SupportsFullObject() || Algorithm("MD5").SupportsComposite() {
		t.Error("unknown algorithm claims support")
	}
	for a, full := range map[Algorithm]bool{CRC32: true, CRC32C: true, CRC64NVME: true, SHA1: false, SHA256: false} {
		if a.SupportsFullObject() != full {
			t.Errorf("%s.SupportsFullObject() = %v", a, !full)
		}
		if a.SupportsComposite() != (a != CRC64NVME) {
			t.Errorf("%s.SupportsComposite() wrong", a)
		}
	}
}

func TestNewPanicsOnUnknown(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("New on an unknown algorithm did not panic")
		}
	}()
	Algorithm("MD5").New()
}

func TestEncodeDecode(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, a := range Algorithms() {
		for range 50 {
			data := make([]byte, rng.IntN(300))
			for i := range data {
				data[i] = byte(rng.Uint32())
			}
			sum := a.Sum(data)
			got, err := Decode(Encode(sum), a)
			if err != nil || !bytes.Equal(got, sum) {
				t.Fatalf("%s: Decode(Encode(%x)) = %x, %v", a, sum, got, err)
			}
		}
	}
	if got := Encode([]byte{0xcb, 0xf4, 0x39, 0x26}); got != "y/Q5Jg==" {
		t.Errorf("Encode = %s", got)
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, tc := range []struct {
		s string
		a Algorithm
	}{
		{"", CRC32},
		{"y/Q5Jg", CRC32},                        // padding missing
		{"y/Q5Jg=", CRC32},                       // short padding
		{"y/Q5Jg===", CRC32},                     // extra padding
		{"y/Q5Jh==", CRC32},                      // non-zero padding bits
		{"y/Q5J!==", CRC32},                      // not base64
		{"y-Q5Jg==", CRC32},                      // URL alphabet
		{"AAAAAAAAAA==", CRC64NVME},              // 7 bytes in 12 characters
		{"AAAAAAAAAAAA", CRC32},                  // 9 bytes for a 4-byte CRC
		{"AAAAAA==", CRC64NVME},                  // 4 bytes for an 8-byte CRC
		{"qZk+NkcGgWq6PiVxeFDCbJzQ2J0=", SHA256}, // a SHA1 as SHA256
		{"AAAAAA==", "MD5"},
		{" y/Q5Jg==", CRC32},
	} {
		if _, err := Decode(tc.s, tc.a); err == nil {
			t.Errorf("Decode(%q, %s) accepted", tc.s, tc.a)
		}
	}
	if _, err := Decode("qZk+NkcGgWq6PiVxeFDCbJzQ2J0=", SHA1); err != nil {
		t.Errorf("Decode of a valid SHA1: %v", err)
	}
}

func TestComposite(t *testing.T) {
	parts := [][]byte{[]byte("part one "), []byte("part two "), []byte("three")}
	for _, a := range Algorithms() {
		var concat []byte
		var sums [][]byte
		for _, p := range parts {
			s := a.Sum(p)
			sums = append(sums, s)
			concat = append(concat, s...)
		}
		want := a.Sum(concat)
		got := Composite(a, sums)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: Composite = %x, want %x", a, got, want)
		}
		s := EncodeComposite(got, len(parts))
		if !strings.HasSuffix(s, "-3") {
			t.Errorf("EncodeComposite = %q", s)
		}
		back, n, err := DecodeComposite(s, a)
		if err != nil || n != 3 || !bytes.Equal(back, got) {
			t.Errorf("DecodeComposite(%q) = %x, %d, %v", s, back, n, err)
		}
	}
	// A fixed value: CRC32 of the concatenated CRC32s of "a" and "b".
	sums := [][]byte{CRC32.Sum([]byte("a")), CRC32.Sum([]byte("b"))}
	if got, want := hex.EncodeToString(Composite(CRC32, sums)), hex.EncodeToString(CRC32.Sum(append(CRC32.Sum([]byte("a")), CRC32.Sum([]byte("b"))...))); got != want {
		t.Errorf("Composite = %s, want %s", got, want)
	}
	good := EncodeComposite(CRC32.Sum(nil), 2)
	for _, s := range []string{"", "AAAAAA==", "AAAAAA==-", "AAAAAA==-0", "AAAAAA==-01", "AAAAAA==-+1",
		"AAAAAA==--1", "AAAAAA==-10001", "AAAAAA==-x", "AAAA-2", good + "0000000"} {
		if _, _, err := DecodeComposite(s, CRC32); err == nil {
			t.Errorf("DecodeComposite(%q) accepted", s)
		}
	}
	if _, n, err := DecodeComposite("AAAAAA==-10000", CRC32); err != nil || n != 10000 {
		t.Errorf("DecodeComposite 10000 parts: %d, %v", n, err)
	}
}

func TestCombineMatchesDirect(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	data := make([]byte, 1<<16)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	for _, a := range []Algorithm{CRC32, CRC32C, CRC64NVME} {
		for i := range 300 {
			n := rng.IntN(len(data) + 1)
			if i < 20 {
				n = i // the small sizes, including 0
			}
			split := rng.IntN(n + 1)
			whole, left, right := data[:n], data[:split], data[split:n]
			got, err := Combine(a, a.Sum(left), a.Sum(right), int64(len(right)))
			if err != nil {
				t.Fatal(err)
			}
			if want := a.Sum(whole); !bytes.Equal(got, want) {
				t.Fatalf("%s: Combine at %d/%d = %x, want %x", a, split, n, got, want)
			}
		}
	}
}

func TestFullObject(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for _, a := range []Algorithm{CRC32, CRC32C, CRC64NVME} {
		for range 30 {
			var whole []byte
			var sums [][]byte
			var lens []int64
			for range rng.IntN(12) {
				p := make([]byte, rng.IntN(5000))
				for i := range p {
					p[i] = byte(rng.Uint32())
				}
				whole = append(whole, p...)
				sums = append(sums, a.Sum(p))
				lens = append(lens, int64(len(p)))
			}
			got, err := FullObject(a, sums, lens)
			if err != nil {
				t.Fatal(err)
			}
			if want := a.Sum(whole); !bytes.Equal(got, want) {
				t.Fatalf("%s: FullObject of %d parts = %x, want %x", a, len(sums), got, want)
			}
		}
	}
	if _, err := FullObject(SHA256, nil, nil); !errors.Is(err, ErrNotFullObject) {
		t.Errorf("FullObject(SHA256) error = %v", err)
	}
	if _, err := FullObject(CRC32, [][]byte{CRC32.Sum(nil)}, nil); err == nil {
		t.Error("FullObject with mismatched lengths accepted")
	}
	if _, err := FullObject(CRC32, [][]byte{{1, 2}}, []int64{2}); !errors.Is(err, ErrBadDigest) {
		t.Errorf("FullObject with a short digest: %v", err)
	}
}

func TestCombineLargeLength(t *testing.T) {
	// Combining with a huge zero run must agree with combining in halves:
	// crc(A||Z||Z) where Z is n zero bytes, built two ways.
	for _, a := range []Algorithm{CRC32, CRC32C, CRC64NVME} {
		zeros := make([]byte, 4096)
		zsum := a.Sum(zeros)
		direct := a.Sum(append([]byte("head"), append(zeros, zeros...)...))
		step, _ := Combine(a, a.Sum([]byte("head")), zsum, 4096)
		step, _ = Combine(a, step, zsum, 4096)
		if !bytes.Equal(step, direct) {
			t.Errorf("%s: stepwise combine differs", a)
		}
		// Very long lengths must not misbehave (5 TiB).
		if _, err := Combine(a, zsum, zsum, 5<<40); err != nil {
			t.Error(err)
		}
	}
}

func TestCombineErrors(t *testing.T) {
	for _, a := range []Algorithm{SHA1, SHA256} {
		s := a.Sum(nil)
		if _, err := Combine(a, s, s, 1); !errors.Is(err, ErrNotFullObject) {
			t.Errorf("Combine(%s) error = %v, want ErrNotFullObject", a, err)
		}
	}
	if _, err := Combine("MD5", nil, nil, 0); !errors.Is(err, ErrUnknownAlgorithm) {
		t.Errorf("Combine(MD5) error = %v", err)
	}
	if _, err := Combine(CRC32, []byte{1}, CRC32.Sum(nil), 0); !errors.Is(err, ErrBadDigest) {
		t.Errorf("Combine with a short digest: %v", err)
	}
	if _, err := Combine(CRC64NVME, CRC64NVME.Sum(nil), CRC32.Sum(nil), 0); !errors.Is(err, ErrBadDigest) {
		t.Errorf("Combine with mixed sizes: %v", err)
	}
	if _, err := Combine(CRC32, CRC32.Sum(nil), CRC32.Sum(nil), -1); !errors.Is(err, ErrBadDigest) {
		t.Errorf("Combine with a negative length: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, a := range Algorithms() {
		f.Add(Encode(a.Sum([]byte("seed"))), string(a))
	}
	f.Add("y/Q5Jh==", "CRC32")
	f.Add("", "SHA1")
	f.Fuzz(func(t *testing.T, s, name string) {
		a, err := ParseAlgorithm(name)
		if err != nil {
			return
		}
		sum, err := Decode(s, a)
		if err != nil {
			return
		}
		if len(sum) != a.Size() {
			t.Fatalf("Decode(%q, %s) gave %d bytes", s, a, len(sum))
		}
		// Exactly one spelling per digest.
		if Encode(sum) != s {
			t.Fatalf("Decode(%q) accepted a non-canonical spelling of %q", s, Encode(sum))
		}
	})
}

func BenchmarkCombine(b *testing.B) {
	for _, a := range []Algorithm{CRC32C, CRC64NVME} {
		b.Run(string(a), func(b *testing.B) {
			s := a.Sum([]byte("x"))
			b.ReportAllocs()
			for b.Loop() {
				Combine(a, s, s, 5<<20)
			}
		})
	}
}

func mixedCase(s string) string {
	b := []byte(strings.ToLower(s))
	for i := 0; i < len(b); i += 2 {
		b[i] = strings.ToUpper(string(b[i]))[0]
	}
	return string(b)
}
