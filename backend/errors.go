package backend

import (
	"errors"
	"fmt"
	"io/fs"
)

var (
	// ErrNotExist reports a blob that is not there. It matches fs.ErrNotExist.
	ErrNotExist = fmt.Errorf("backend: blob does not exist: %w", fs.ErrNotExist)
	// ErrInvalidName reports a blob name that ValidName refuses.
	ErrInvalidName = errors.New("backend: invalid blob name")
	// ErrSpent reports use of a Writer after Commit or Abort.
	ErrSpent = errors.New("backend: writer already committed or aborted")
)

// ValidName checks a blob name: 1 to 255 bytes of ASCII letters, digits,
// '-', '_', '.' and '/', where '/' separates non-empty segments that are
// neither "." nor "..".
func ValidName(name string) error {
	if len(name) == 0 || len(name) > 255 {
		return fmt.Errorf("%w: length %d not in 1..255", ErrInvalidName, len(name))
	}
	segStart := 0
	for i := 0; i <= len(name); i++ {
		if i == len(name) || name[i] == '/' {
			seg := name[segStart:i]
			if seg == "" || seg == "." || seg == ".." {
				return fmt.Errorf("%w: %q has an empty, \".\" or \"..\" segment", ErrInvalidName, name)
			}
			segStart = i + 1
			continue
		}
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.':
		default:
			return fmt.Errorf("%w: %q has byte %#x", ErrInvalidName, name, c)
		}
	}
	return nil
}
