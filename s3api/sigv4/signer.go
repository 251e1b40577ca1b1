package sigv4

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Credentials are an access key and its secret.
type Credentials struct {
	AccessKey, SecretKey string
}

// headers that SignRequest leaves unsigned: set or changed by transports
// and proxies after signing.
var unsignedHeaderNames = map[string]bool{
	"authorization":     true,
	"user-agent":        true,
	"expect":            true,
	"transfer-encoding": true,
	"x-amzn-trace-id":   true,
	"content-length":    true, // signed from r.ContentLength instead
	"connection":        true,
	"accept-encoding":   true,
}

// SignRequest signs r in place with an Authorization header (for tests and
// Go clients), using payloadHash as x-amz-content-sha256
// ("UNSIGNED-PAYLOAD", a STREAMING- value, or a hex SHA-256). It sets
// X-Amz-Date and X-Amz-Content-Sha256, signs host, Content-Length when
// r.ContentLength > 0 and every other header present, and sets
// r.URL.RawPath to S3's encoding of the path so the path sent is the one
// signed.
func SignRequest(r *http.Request, c Credentials, region string, now time.Time, payloadHash string) error {
	_, err := signRequest(r, c, region, now, payloadHash)
	return err
}

// signRequest signs r and returns the signature, the seed of a stream.
func signRequest(r *http.Request, c Credentials, region string, now time.Time, payloadHash string) (string, error) {
	if err := checkCredentials(c, region); err != nil {
		return "", err
	}
	if r.URL == nil {
		return "", errors.New("sigv4: request has no URL")
	}
	if e := checkPayloadHash(payloadHash); e != nil {
		return "", fmt.Errorf("sigv4: payload hash %q: %s", payloadHash, e.Message)
	}
	params, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		return "", fmt.Errorf("sigv4: query string: %w", err)
	}
	if r.Header == nil {
		r.Header = http.Header{}
	}
	now = now.UTC()
	timestamp := now.Format(timeFormat)
	r.Header.Set("X-Amz-Date", timestamp)
	r.Header.Set("X-Amz-Content-Sha256", payloadHash)
	r.Header.Del("Authorization")

	signed := []string{"host"}
	if r.ContentLength > 0 {
		signed = append(signed, "content-length")
	}
	for name := range r.Header {
		l := strings.ToLower(name)
		if !unsignedHeaderNames[l] && l != "host" && !slices.Contains(signed, l) {
			signed = append(signed, l)
		}
	}
	slices.Sort(signed)

	uri := canonicalURI(r.URL.Path)
	setRawPath(r.URL, uri)
	date := now.Format(dateFormat)
	cr := canonicalRequest(r, uri, canonicalQuery(params, ""), requestHost(r), signed, payloadHash)
	sig := signature(signingKey(c.SecretKey, date, region), stringToSign(timestamp, scope(date, region), cr))
	r.Header.Set("Authorization", algorithm+" Credential="+c.AccessKey+"/"+scope(date, region)+
		", SignedHeaders="+strings.Join(signed, ";")+", Signature="+sig)
	return sig, nil
}

func checkCredentials(c Credentials, region string) error {
	switch {
	case c.AccessKey == "" || strings.ContainsAny(c.AccessKey, "/,= "):
		return fmt.Errorf("sigv4: invalid access key %q", c.AccessKey)
	case c.SecretKey == "":
		return errors.New("sigv4: empty secret key")
	case region == "" || strings.Contains(region, "/"):
		return fmt.Errorf("sigv4: invalid region %q", region)
	}
	return nil
}

// setRawPath makes u send path encoding enc, when that is a valid encoding
// of u.Path (it always is for canonicalURI's output).
func setRawPath(u *url.URL, enc string) {
	if u.Opaque != "" {
		return
	}
	if p, err := url.PathUnescape(enc); err == nil && p == u.Path {
		u.RawPath = enc
		if u.EscapedPath() != enc {
			u.RawPath = ""
		}
	}
}

// Presign returns a presigned URL for method and rawURL valid for expires
// (1 s to 7 days; fractions of a second are dropped). Only host is signed
// and the payload is UNSIGNED-PAYLOAD. Query parameters already in rawURL
// are kept and signed; the result's query is in canonical order and
// encoding, and its path in S3's encoding.
func Presign(method, rawURL string, c Credentials, region string, now time.Time, expires time.Duration) (string, error) {
	if err := checkCredentials(c, region); err != nil {
		return "", err
	}
	if method == "" {
		return "", errors.New("sigv4: empty method")
	}
	secs := int64(expires / time.Second)
	if secs < 1 || expires > maxExpires {
		return "", fmt.Errorf("sigv4: presigned URL expiry %v is not between 1s and %v", expires, maxExpires)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("sigv4: %w", err)
	}
	if u.Host == "" || u.Opaque != "" {
		return "", fmt.Errorf("sigv4: presigned URL %q has no host", rawURL)
	}
	params, err := parseQuery(u.RawQuery)
	if err != nil {
		return "", fmt.Errorf("sigv4: query string: %w", err)
	}
	params = slices.DeleteFunc(params, func(p queryParam) bool {
		switch p.name {
		case queryAlgorithm, queryCredential, queryDate, queryExpires, querySignedHeaders, querySignature:
			return true
		}
		return false
	})
	now = now.UTC()
	date := now.Format(dateFormat)
	timestamp := now.Format(timeFormat)
	params = append(params,
		queryParam{queryAlgorithm, algorithm},
		queryParam{queryCredential, c.AccessKey + "/" + scope(date, region)},
		queryParam{queryDate, timestamp},
		queryParam{queryExpires, strconv.FormatInt(secs, 10)},
		queryParam{querySignedHeaders, "host"},
	)
	query := canonicalQuery(params, "")
	uri := canonicalURI(u.Path)
	r := &http.Request{Method: method, URL: u, Host: u.Host, Header: http.Header{}}
	cr := canonicalRequest(r, uri, query, u.Host, []string{"host"}, UnsignedPayload)
	sig := signature(signingKey(c.SecretKey, date, region), stringToSign(timestamp, scope(date, region), cr))
	setRawPath(u, uri)
	u.RawQuery = query + "&" + querySignature + "=" + sig
	return u.String(), nil
}

// DefaultChunkSize is the chunk size SignStreaming uses when none is given.
const DefaultChunkSize = 64 << 10

// StreamOptions shape the aws-chunked body SignStreaming writes.
type StreamOptions struct {
	// ChunkSize is the payload bytes per chunk; 0 means DefaultChunkSize.
	ChunkSize int
	// Trailer holds trailing headers sent after the final chunk (and named
	// in X-Amz-Trailer), e.g. X-Amz-Checksum-Crc32.
	Trailer http.Header
	// Unsigned sends STREAMING-UNSIGNED-PAYLOAD-TRAILER: chunks and trailer
	// carry no signatures.
	Unsigned bool
}

// SignStreaming signs r (as SignRequest does) for an aws-chunked upload of
// payload, and sets r.Body to the encoded body: STREAMING-AWS4-HMAC-SHA256-PAYLOAD
// without trailers, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER with them,
// or STREAMING-UNSIGNED-PAYLOAD-TRAILER when o.Unsigned. It is for tests and
// Go clients; the body is built in memory.
func SignStreaming(r *http.Request, c Credentials, region string, now time.Time, payload []byte, o *StreamOptions) error {
	if o == nil {
		o = &StreamOptions{}
	}
	size := o.ChunkSize
	if size == 0 {
		size = DefaultChunkSize
	}
	if size < 1 {
		return fmt.Errorf("sigv4: chunk size %d", size)
	}
	mode := StreamingPayload
	switch {
	case o.Unsigned:
		mode = StreamingUnsignedTrailer
	case len(o.Trailer) > 0:
		mode = StreamingPayloadTrailer
	}
	if r.Header == nil {
		r.Header = http.Header{}
	}
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(len(payload)))
	r.Header.Del("X-Amz-Trailer")
	var names []string
	for name := range o.Trailer {
		names = append(names, strings.ToLower(name))
	}
	slices.Sort(names)
	if len(names) > 0 {
		r.Header.Set("X-Amz-Trailer", strings.Join(names, ","))
	}

	// The encoded length is signed, so frame once with placeholder
	// signatures to count it (every signature has the same length), then
	// again with the real ones.
	var s *chunkSigner
	placeholder := strings.Repeat("0", signatureHexBytes)
	encode := func() []byte {
		var b bytes.Buffer
		header := func(data []byte) {
			b.WriteString(strconv.FormatInt(int64(len(data)), 16))
			if !o.Unsigned {
				sig := placeholder
				if s != nil {
					sum := sha256.Sum256(data)
					sig = s.chunkSignature(sum[:])
					s.prev = sig
				}
				b.WriteString(";" + chunkSigParam + sig)
			}
			b.WriteString("\r\n")
		}
		for rest := payload; len(rest) > 0; {
			n := min(size, len(rest))
			header(rest[:n])
			b.Write(rest[:n])
			b.WriteString("\r\n")
			rest = rest[n:]
		}
		header(nil) // the final chunk
		if mode == StreamingPayload {
			b.WriteString("\r\n")
			return b.Bytes()
		}
		var canon []byte
		for _, name := range names {
			v := trimAll(strings.Join(o.Trailer.Values(name), ","))
			b.WriteString(name + ":" + v + "\r\n")
			canon = append(canon, name+":"+v+"\n"...)
		}
		if !o.Unsigned {
			sig := placeholder
			if s != nil {
				sig = s.trailerSignature(canon)
			}
			b.WriteString(trailerSignature + ":" + sig + "\r\n")
		}
		b.WriteString("\r\n")
		return b.Bytes()
	}
	body := encode()
	r.ContentLength = int64(len(body))
	seed, err := signRequest(r, c, region, now, mode)
	if err != nil {
		return err
	}
	if !o.Unsigned {
		now = now.UTC()
		date := now.Format(dateFormat)
		s = &chunkSigner{
			key:       signingKey(c.SecretKey, date, region),
			timestamp: now.Format(timeFormat),
			scope:     scope(date, region),
			prev:      seed,
		}
		body = encode()
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return nil
}
