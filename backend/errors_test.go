package backend_test

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/cellarhq/cellar/backend"
)

func TestErrNotExistMatchesFS(t *testing.T) {
	if !errors.Is(backend.ErrNotExist, fs.ErrNotExist) {
		t.Error("ErrNotExist does not match fs.ErrNotExist")
	}
}

// validByRules is the documented rule for blob names, written
// independently of ValidName: 1 to 255 bytes of ASCII letters, digits, '-',
// '_', '.' and '/', where '/' separates non-empty segments that are neither
// "." nor "..".
func validByRules(name string) bool {
	if len(name) < 1 || len(name) > 255 {
		return false
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
		for _, c := range []byte(seg) {
			if !strings.ContainsRune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", rune(c)) {
				return false
			}
		}
	}
	return true
}

func TestValidName(t *testing.T) {
	valid := []string{"a", "a/b", "A-Z_0.9", "...", ".a", "a/.../b", strings.Repeat("x", 255)}
	invalid := []string{
		"", "/", "a/", "/a", "a//b", ".", "..", "a/./b", "a/..", "a b", "é", "a+b",
		strings.Repeat("x", 256),
	}
	for _, name := range valid {
		if err := backend.ValidName(name); err != nil || !validByRules(name) {
			t.Errorf("ValidName(%q) = %v, validByRules = %v; want valid", name, err, validByRules(name))
		}
	}
	for _, name := range invalid {
		if err := backend.ValidName(name); !errors.Is(err, backend.ErrInvalidName) || validByRules(name) {
			t.Errorf("ValidName(%q) = %v, validByRules = %v; want invalid", name, err, validByRules(name))
		}
	}
}

func FuzzValidName(f *testing.F) {
	for _, s := range []string{
		"", "a", "a/b", "a//b", "/a", "a/", ".", "..", "...", "./a", "a/..", "a/../b",
		"shards/0123abcd.4", "A-Z_0.9", "a b", "a\x00", "é", "a+b", "\xff",
		strings.Repeat("x", 255), strings.Repeat("x", 256), strings.Repeat("a/", 127) + "a",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := backend.ValidName(name)
		if err != nil && !errors.Is(err, backend.ErrInvalidName) {
			t.Fatalf("ValidName(%q) = %v, which does not match ErrInvalidName", name, err)
		}
		if got, want := err == nil, validByRules(name); got != want {
			t.Fatalf("ValidName(%q) = %v, but the documented rules say valid = %v", name, err, want)
		}
	})
}
