package sigv4

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"hash"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
)

// Limits on what the aws-chunked decoder reads. Past them it fails with an
// *Error rather than allocating.
const (
	// maxLineLen bounds a chunk header or trailer line, CRLF included. A
	// signed chunk header is under 100 bytes.
	maxLineLen = 4 << 10
	// MaxSignedChunkSize is the largest signed chunk accepted. A signed chunk
	// is held in memory until its signature is checked; SDKs send 64 KiB
	// (aws-sdk-go-v2, minio-go) to 128 KiB (aws-sdk-java) chunks. Unsigned
	// chunks stream through and may be any size.
	MaxSignedChunkSize = 16 << 20
	// maxTrailers bounds the trailing header lines.
	maxTrailers = 16
)

const (
	chunkPrefix       = "AWS4-HMAC-SHA256-PAYLOAD"
	trailerPrefix     = "AWS4-HMAC-SHA256-TRAILER"
	chunkSigParam     = "chunk-signature="
	trailerSignature  = "x-amz-trailer-signature"
	signatureHexBytes = 64
)

// chunkSigner computes the chained signatures of an aws-chunked stream:
// each chunk's signature covers the previous one, starting from the seed
// signature of the request.
type chunkSigner struct {
	key       []byte
	timestamp string // the request's x-amz-date
	scope     string
	prev      string // the last signature verified, hex
	mac       hash.Hash
	scratch   []byte
}

// chunkSignature returns the signature of a chunk whose SHA-256 is sum:
//
//	AWS4-HMAC-SHA256-PAYLOAD \n timestamp \n scope \n prev \n sha256("") \n sum
func (s *chunkSigner) chunkSignature(sum []byte) string {
	return s.sign(chunkPrefix, emptySHA256, sum)
}

// trailerSignature returns the signature of the canonical trailer lines:
//
//	AWS4-HMAC-SHA256-TRAILER \n timestamp \n scope \n prev \n sha256(trailers)
func (s *chunkSigner) trailerSignature(canonical []byte) string {
	sum := sha256.Sum256(canonical)
	return s.sign(trailerPrefix, "", sum[:])
}

// sign returns the hex HMAC of prefix, the timestamp, scope and previous
// signature, then extra (if any) and the hex of sum, each line ended by
// '\n' but the last. The HMAC is reused from chunk to chunk.
func (s *chunkSigner) sign(prefix, extra string, sum []byte) string {
	if s.mac == nil {
		s.mac = hmac.New(sha256.New, s.key)
	}
	b := s.scratch[:0]
	for _, part := range []string{prefix, s.timestamp, s.scope, s.prev, extra} {
		if part != "" {
			b = append(b, part...)
			b = append(b, '\n')
		}
	}
	b = hex.AppendEncode(b, sum)
	s.scratch = b
	s.mac.Reset()
	s.mac.Write(b)
	var out [sha256.Size]byte
	return hex.EncodeToString(s.mac.Sum(out[:0]))
}

// verify compares a claimed signature with want in constant time and, on a
// match, makes it the previous signature of the chain.
func (s *chunkSigner) verify(want, claimed string) bool {
	if subtle.ConstantTimeCompare([]byte(want), []byte(claimed)) != 1 {
		return false
	}
	s.prev = want
	return true
}

// chunkedReader decodes an aws-chunked body:
//
//	hex-size;chunk-signature=sig \r\n data \r\n ... 0;chunk-signature=sig \r\n
//	[trailer-name:value \r\n ... [x-amz-trailer-signature:sig \r\n]] \r\n
//
// Unsigned streams (STREAMING-UNSIGNED-PAYLOAD-TRAILER) have bare
// "hex-size\r\n" chunk headers and no trailer signature.
//
// INVARIANT: a signed chunk's bytes are returned only after its signature
// verified; got never exceeds want.
type chunkedReader struct {
	src      *bufio.Reader
	body     io.Closer
	sig      *chunkSigner // nil for unsigned chunks
	trailers bool         // trailing headers follow the final chunk
	declared []string     // x-amz-trailer names; nil when not declared
	want     int64        // x-amz-decoded-content-length
	got      int64        // payload bytes framed so far
	buf      []byte       // a signed chunk being verified
	pending  []byte       // verified bytes not yet returned
	left     int64        // unread bytes of the current unsigned chunk
	inChunk  bool         // an unsigned chunk's closing CRLF is still due
	done     bool
	err      error // sticky
	end      *atomic.Pointer[http.Header]
}

func (c *chunkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		switch {
		case len(c.pending) > 0:
			n := copy(p, c.pending)
			c.pending = c.pending[n:]
			return n, nil
		case c.left > 0:
			if int64(len(p)) > c.left {
				p = p[:c.left]
			}
			n, err := c.src.Read(p)
			c.left -= int64(n)
			if n > 0 {
				return n, nil
			}
			if err == nil {
				err = io.ErrNoProgress
			}
			return 0, c.fail(bodyError(err))
		case c.done:
			c.err = io.EOF
			return 0, io.EOF
		default:
			if err := c.next(); err != nil {
				return 0, c.fail(err)
			}
		}
	}
}

func (c *chunkedReader) fail(err error) error {
	c.err = err
	c.pending = nil
	return err
}

func (c *chunkedReader) Close() error { return c.body.Close() }

// next reads the next chunk header and, for a signed chunk, its verified
// data; for the final chunk, the trailer.
func (c *chunkedReader) next() error {
	if c.inChunk {
		if err := c.crlf("chunk data is longer than its declared size"); err != nil {
			return err
		}
		c.inChunk = false
	}
	line, err := c.line()
	if err == io.EOF {
		return incompleteBody("The aws-chunked body ended before its final chunk.")
	}
	if err != nil {
		return err
	}
	size, claimed, err := c.parseHeader(line)
	if err != nil {
		return err
	}
	if size == 0 {
		return c.finish(claimed)
	}
	if size > c.want-c.got {
		return errorf(ErrInvalidRequest,
			"The aws-chunked body is longer than x-amz-decoded-content-length (%d bytes).", c.want)
	}
	if c.sig == nil {
		c.got += size
		c.left, c.inChunk = size, true
		return nil
	}
	if size > MaxSignedChunkSize {
		return malformedChunk("a signed chunk of %d bytes exceeds the %d-byte limit", size, MaxSignedChunkSize)
	}
	if int64(cap(c.buf)) < size {
		c.buf = make([]byte, size)
	}
	data := c.buf[:size]
	if _, err := io.ReadFull(c.src, data); err != nil {
		return bodyError(err)
	}
	if err := c.crlf("chunk data is longer than its declared size"); err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	if !c.sig.verify(c.sig.chunkSignature(sum[:]), claimed) {
		return errorf(ErrSignatureDoesNotMatch, "The signature of the aws-chunked chunk ending at byte %d does not match.", c.got+size)
	}
	c.got += size
	c.pending = data
	return nil
}

// parseHeader parses "hex-size;chunk-signature=sig" (signed) or
// "hex-size[;extensions]" (unsigned).
func (c *chunkedReader) parseHeader(line string) (int64, string, error) {
	hexSize, ext, hasExt := strings.Cut(line, ";")
	if hexSize == "" || len(hexSize) > 16 {
		return 0, "", malformedChunk("bad chunk size %q", truncate(hexSize))
	}
	for i := 0; i < len(hexSize); i++ {
		if !isHex(hexSize[i]) {
			return 0, "", malformedChunk("bad chunk size %q", truncate(hexSize))
		}
	}
	u, err := strconv.ParseUint(hexSize, 16, 64)
	if err != nil || u > 1<<62 {
		return 0, "", malformedChunk("chunk size %q out of range", hexSize)
	}
	if c.sig == nil {
		return int64(u), "", nil
	}
	claimed, ok := strings.CutPrefix(ext, chunkSigParam)
	if !hasExt || !ok || len(claimed) != signatureHexBytes {
		return 0, "", errorf(ErrSignatureDoesNotMatch, "An aws-chunked chunk header lacks a valid chunk-signature: %q.", truncate(line))
	}
	return int64(u), claimed, nil
}

// finish handles the final, zero-size chunk: its signature, the decoded
// length, and the trailer section.
func (c *chunkedReader) finish(claimed string) error {
	if c.sig != nil {
		sum := sha256.Sum256(nil)
		if !c.sig.verify(c.sig.chunkSignature(sum[:]), claimed) {
			return errorf(ErrSignatureDoesNotMatch, "The signature of the final aws-chunked chunk does not match.")
		}
	}
	if c.got != c.want {
		return incompleteBody("The aws-chunked body holds %d bytes; x-amz-decoded-content-length says %d.", c.got, c.want)
	}
	h := http.Header{}
	if c.trailers {
		var err error
		if h, err = c.readTrailers(); err != nil {
			return err
		}
	} else {
		// The final chunk's empty data ends with CRLF. A body that stops
		// right after the chunk header is accepted too.
		line, err := c.line()
		if err != nil && err != io.EOF {
			return err
		}
		if err == nil && line != "" {
			return malformedChunk("data after the final chunk (use a -TRAILER x-amz-content-sha256 to send trailers)")
		}
	}
	c.done = true
	c.end.Store(&h)
	return nil
}

// readTrailers reads the trailer section: "name:value" lines up to an empty
// line or the end of the body. Clients differ on whether an empty line (the
// final chunk's empty data) comes first; a leading empty line is skipped.
func (c *chunkedReader) readTrailers() (http.Header, error) {
	var lines []string
	for i := 0; ; i++ {
		line, err := c.trailerLine()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if line == "" {
			if i == 0 {
				continue
			}
			break
		}
		if len(lines) == maxTrailers {
			return nil, errorf(ErrMalformedTrailer, "More than %d trailing headers.", maxTrailers)
		}
		lines = append(lines, line)
	}

	h := http.Header{}
	type kv struct{ name, value string }
	var canon []kv
	var claimed string
	haveSig := false
	for i, line := range lines {
		name, value, ok := strings.Cut(line, ":")
		name = strings.ToLower(strings.TrimSpace(name))
		if !ok || !isLowerToken(name) {
			return nil, errorf(ErrMalformedTrailer, "The trailing header line %q is not name:value.", truncate(line))
		}
		value = trimAll(value)
		if name == trailerSignature {
			if c.sig == nil {
				return nil, errorf(ErrMalformedTrailer, "An unsigned trailer carries %s.", trailerSignature)
			}
			if i != len(lines)-1 {
				return nil, errorf(ErrMalformedTrailer, "%s must be the last trailing header.", trailerSignature)
			}
			claimed, haveSig = value, true
			continue
		}
		if _, dup := h[http.CanonicalHeaderKey(name)]; dup {
			return nil, errorf(ErrMalformedTrailer, "The trailing header %q appears twice.", name)
		}
		h[http.CanonicalHeaderKey(name)] = []string{value}
		canon = append(canon, kv{name, value})
	}
	if c.sig != nil {
		if !haveSig {
			return nil, errorf(ErrSignatureDoesNotMatch, "The signed trailer lacks %s.", trailerSignature)
		}
		slices.SortFunc(canon, func(a, b kv) int { return strings.Compare(a.name, b.name) })
		var b []byte
		for _, e := range canon {
			b = append(b, e.name...)
			b = append(b, ':')
			b = append(b, e.value...)
			b = append(b, '\n')
		}
		if !c.sig.verify(c.sig.trailerSignature(b), claimed) {
			return nil, errorf(ErrSignatureDoesNotMatch, "The trailer signature does not match.")
		}
	}
	if c.declared != nil {
		for _, e := range canon {
			if !slices.Contains(c.declared, e.name) {
				return nil, errorf(ErrMalformedTrailer, "The trailing header %q was not declared in x-amz-trailer.", e.name)
			}
		}
		for _, name := range c.declared {
			if _, ok := h[http.CanonicalHeaderKey(name)]; !ok {
				return nil, errorf(ErrMalformedTrailer, "The trailing header %q declared in x-amz-trailer is missing.", name)
			}
		}
	}
	return h, nil
}

// line reads one CRLF-terminated line of at most maxLineLen bytes and
// returns it without the CRLF. It returns io.EOF only at a clean end of the
// body, before any byte of a line.
func (c *chunkedReader) line() (string, error) {
	b, err := c.src.ReadSlice('\n')
	switch {
	case err == bufio.ErrBufferFull:
		return "", malformedChunk("a line longer than %d bytes", maxLineLen)
	case err == io.EOF && len(b) == 0:
		return "", io.EOF
	case err != nil:
		return "", bodyError(err)
	case len(b) < 2 || b[len(b)-2] != '\r':
		return "", malformedChunk("a line not ended by CRLF")
	}
	return string(b[:len(b)-2]), nil
}

// trailerLine reads a line of the trailer section like line, but also
// accepts a bare LF ending: AWS notes that clients differ in the line feeds
// after a trailing checksum value (some send "value\n\r\n\r\n").
func (c *chunkedReader) trailerLine() (string, error) {
	b, err := c.src.ReadSlice('\n')
	switch {
	case err == bufio.ErrBufferFull:
		return "", errorf(ErrMalformedTrailer, "A trailing header line is longer than %d bytes.", maxLineLen)
	case err == io.EOF && len(b) == 0:
		return "", io.EOF
	case err != nil:
		return "", bodyError(err)
	}
	b = b[:len(b)-1]
	if len(b) > 0 && b[len(b)-1] == '\r' {
		b = b[:len(b)-1]
	}
	return string(b), nil
}

// crlf reads the CRLF that ends a chunk's data.
func (c *chunkedReader) crlf(what string) error {
	b, err := c.src.Peek(2)
	if len(b) == 2 && b[0] == '\r' && b[1] == '\n' {
		c.src.Discard(2)
		return nil
	}
	if err != nil {
		return bodyError(err)
	}
	return malformedChunk("%s", what)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// truncate shortens s for an error message.
func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
