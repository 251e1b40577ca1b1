package index

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

func TestAppendEscaped(t *testing.T) {
	cases := []struct {
		in, want string
	}{
		{"", "\x00\x01"},
		{"a", "a\x00\x01"},
		{"\x00", "\x00\xff\x00\x01"},
		{"\x00\x00", "\x00\xff\x00\xff\x00\x01"},
		{"a\x00b", "a\x00\xffb\x00\x01"},
		{"\xff", "\xff\x00\x01"},
		{"\x01", "\x01\x00\x01"},
		{"photos/2024/img.jpg", "photos/2024/img.jpg\x00\x01"},
	}
	for _, c := range cases {
		if got := AppendEscaped(nil, []byte(c.in)); string(got) != c.want {
			t.Errorf("AppendEscaped(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := AppendEscapedString([]byte("pfx"), c.in); string(got) != "pfx"+c.want {
			t.Errorf("AppendEscapedString(pfx, %q) = %q, want %q", c.in, got, "pfx"+c.want)
		}
		prefix := c.want[:len(c.want)-2]
		if got := AppendEscapedPrefix(nil, []byte(c.in)); string(got) != prefix {
			t.Errorf("AppendEscapedPrefix(%q) = %q, want %q", c.in, got, prefix)
		}
		if got := AppendEscapedPrefixString([]byte("pfx"), c.in); string(got) != "pfx"+prefix {
			t.Errorf("AppendEscapedPrefixString(pfx, %q) = %q, want %q", c.in, got, "pfx"+prefix)
		}
		s, rest, err := DecodeEscaped([]byte(c.want + "tail"))
		if err != nil || string(s) != c.in || string(rest) != "tail" {
			t.Errorf("DecodeEscaped(%q+tail) = %q, %q, %v; want %q, tail", c.want, s, rest, err, c.in)
		}
	}
}

func TestDecodeEscapedCorrupt(t *testing.T) {
	for _, in := range []string{
		"",
		"abc",
		"abc\x00",
		"\x00",
		"\x00\x00",
		"\x00\x02",
		"a\x00\xfe\x00\x01",
		"a\x00\xff",
		"a\x00\xff\x00",
	} {
		s, rest, err := DecodeEscaped([]byte(in))
		if !errors.Is(err, ErrCorruptKey) {
			t.Errorf("DecodeEscaped(%q) = %q, %q, %v; want ErrCorruptKey", in, s, rest, err)
		}
	}
}

func TestDecodeEscapedDoesNotAlias(t *testing.T) {
	enc := AppendEscapedString(nil, "abc")
	s, _, err := DecodeEscaped(enc)
	if err != nil {
		t.Fatal(err)
	}
	s[0] = 'X'
	if string(enc) != "abc\x00\x01" {
		t.Errorf("changing the decoded slice changed the input: %q", enc)
	}
	if s, _, _ := DecodeEscaped([]byte("\x00\x01")); s == nil {
		t.Errorf("DecodeEscaped of the empty string returned nil")
	}
}

func TestPrefixEnd(t *testing.T) {
	cases := []struct {
		in   string
		want []byte
	}{
		{"", nil},
		{"\xff", nil},
		{"\xff\xff", nil},
		{"a", []byte("b")},
		{"a\xff", []byte("b")},
		{"a\xff\xff", []byte("b")},
		{"a\x00", []byte("a\x01")},
		{"a\x00\xff", []byte("a\x01")},
		{"\x00", []byte("\x01")},
		{"ab\xfe", []byte("ab\xff")},
	}
	for _, c := range cases {
		in := []byte(c.in)
		got := PrefixEnd(in)
		if !bytes.Equal(got, c.want) || (got == nil) != (c.want == nil) {
			t.Errorf("PrefixEnd(%q) = %q, want %q", c.in, got, c.want)
		}
		if string(in) != c.in {
			t.Errorf("PrefixEnd(%q) changed its argument to %q", c.in, in)
		}
	}
}

func TestUint64(t *testing.T) {
	vals := []uint64{0, 1, 255, 256, 1 << 32, math.MaxUint64 - 1, math.MaxUint64}
	for i, v := range vals {
		enc := AppendUint64([]byte("x"), v)
		got, rest, err := DecodeUint64(append(enc[1:], "tail"...))
		if err != nil || got != v || string(rest) != "tail" {
			t.Errorf("DecodeUint64(AppendUint64(%d)) = %d, %q, %v", v, got, rest, err)
		}
		if i > 0 {
			prev := AppendUint64(nil, vals[i-1])
			if bytes.Compare(prev, enc[1:]) >= 0 {
				t.Errorf("encoding of %d does not sort before that of %d", vals[i-1], v)
			}
			if bytes.Compare(AppendUint64(nil, ^vals[i-1]), AppendUint64(nil, ^v)) <= 0 {
				t.Errorf("inverted encoding of %d does not sort after that of %d", vals[i-1], v)
			}
		}
	}
	for n := range 8 {
		if _, _, err := DecodeUint64(make([]byte, n)); !errors.Is(err, ErrCorruptKey) {
			t.Errorf("DecodeUint64 of %d bytes: err = %v, want ErrCorruptKey", n, err)
		}
	}
}

// TestEscapedPrefixScan checks that the range [AppendEscapedPrefix(p),
// PrefixEnd(AppendEscapedPrefix(p))) holds the encodings, with components
// after them, of exactly the strings that begin with p.
func TestEscapedPrefixScan(t *testing.T) {
	alphabet := []byte{0x00, 0x01, 'a', 0xfe, 0xff}
	var strs [][]byte
	var gen func(s []byte)
	gen = func(s []byte) {
		strs = append(strs, s)
		if len(s) == 3 {
			return
		}
		for _, c := range alphabet {
			gen(append(s[:len(s):len(s)], c))
		}
	}
	gen([]byte{})
	for _, p := range strs {
		lower := AppendEscapedPrefix([]byte("k"), p)
		upper := PrefixEnd(lower)
		for _, s := range strs {
			for _, tail := range []string{"", "\x00", "\xff\xff\xff"} {
				key := append(AppendEscaped([]byte("k"), s), tail...)
				in := bytes.Compare(key, lower) >= 0 && (upper == nil || bytes.Compare(key, upper) < 0)
				if want := bytes.HasPrefix(s, p); in != want {
					t.Fatalf("string %q, prefix %q, tail %q: in scan range = %v, want %v", s, p, tail, in, want)
				}
			}
		}
	}
}

func FuzzEscapedRoundTrip(f *testing.F) {
	for _, s := range []string{"", "a", "\x00", "\x00\x01", "\x00\xff", "\xff\x00", "a\x00b\x00\x00c", "\x01\x00\x01"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		// Round trip, with something after the component.
		enc := AppendEscaped([]byte("pfx"), in)
		enc = AppendUint64(enc, 42)
		s, rest, err := DecodeEscaped(enc[3:])
		if err != nil || !bytes.Equal(s, in) {
			t.Fatalf("DecodeEscaped(AppendEscaped(%q)) = %q, %v", in, s, err)
		}
		if v, rest, err := DecodeUint64(rest); err != nil || v != 42 || len(rest) != 0 {
			t.Fatalf("rest after the component is wrong: %d, %q, %v", v, rest, err)
		}
		if str := AppendEscapedString(nil, string(in)); !bytes.Equal(str, enc[3:len(enc)-8]) {
			t.Fatalf("AppendEscapedString(%q) = %q, AppendEscaped gave %q", in, str, enc[3:len(enc)-8])
		}
		if pre := AppendEscapedPrefix(nil, in); !bytes.HasPrefix(enc[3:], pre) {
			t.Fatalf("AppendEscapedPrefix(%q) = %q is not a prefix of the encoding %q", in, pre, enc[3:])
		}

		// Arbitrary input never panics, and what decodes is canonical: it
		// encodes back to the bytes it was decoded from.
		s, rest, err = DecodeEscaped(in)
		if err != nil {
			if !errors.Is(err, ErrCorruptKey) {
				t.Fatalf("DecodeEscaped(%q): err = %v, want ErrCorruptKey", in, err)
			}
			return
		}
		consumed := in[:len(in)-len(rest)]
		if re := AppendEscaped(nil, s); !bytes.Equal(re, consumed) {
			t.Fatalf("DecodeEscaped(%q) = %q, which encodes to %q, not %q", in, s, re, consumed)
		}
	})
}

func FuzzEscapedOrder(f *testing.F) {
	seeds := []struct{ a, b, ta, tb string }{
		{"", "", "", ""},
		{"", "\x00", "", ""},
		{"a", "a\x00", "\xff", ""},
		{"a", "ab", "\xff\xff", "\x00"},
		{"a\x00", "a\x01", "", ""},
		{"a\x00\xff", "a\x00", "", "\xff"},
		{"\xff", "\xff\xff", "\x00", ""},
		{"photos/", "photos", "\x00", "\xff"},
		{"x", "x", "\x01", "\x00"},
	}
	for _, s := range seeds {
		f.Add([]byte(s.a), []byte(s.b), []byte(s.ta), []byte(s.tb))
	}
	sign := func(c int) int { return max(-1, min(1, c)) }
	f.Fuzz(func(t *testing.T, a, b, ta, tb []byte) {
		ea, eb := AppendEscaped(nil, a), AppendEscaped(nil, b)
		want := bytes.Compare(a, b)
		if got := bytes.Compare(ea, eb); got != want {
			t.Fatalf("compare(enc(%q), enc(%q)) = %d, want %d", a, b, got, want)
		}
		// Components that follow only break ties.
		got := bytes.Compare(append(ea, ta...), append(eb, tb...))
		if want == 0 {
			want = bytes.Compare(ta, tb)
		}
		if sign(got) != want {
			t.Fatalf("compare(enc(%q)+%q, enc(%q)+%q) = %d, want %d", a, ta, b, tb, got, want)
		}
		// Two components each: (a, ta) against (b, tb).
		ca := AppendEscaped(AppendEscaped(nil, a), ta)
		cb := AppendEscaped(AppendEscaped(nil, b), tb)
		want = bytes.Compare(a, b)
		if want == 0 {
			want = bytes.Compare(ta, tb)
		}
		if got := bytes.Compare(ca, cb); got != want {
			t.Fatalf("compare((%q, %q), (%q, %q)) = %d, want %d", a, ta, b, tb, got, want)
		}
		// Prefix scans: enc(b) lies in the range of prefix a exactly when b
		// begins with a.
		lower := AppendEscapedPrefix(nil, a)
		upper := PrefixEnd(lower)
		in := bytes.Compare(eb, lower) >= 0 && (upper == nil || bytes.Compare(eb, upper) < 0)
		if in != bytes.HasPrefix(b, a) {
			t.Fatalf("enc(%q) in the prefix range of %q: %v, want %v", b, a, in, !in)
		}
	})
}
