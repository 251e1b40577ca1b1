package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Fixed parts of AWS Signature Version 4 for S3.
const (
	algorithm        = "AWS4-HMAC-SHA256"
	service          = "s3"
	terminator       = "aws4_request"
	timeFormat       = "20060102T150405Z" // ISO 8601 basic, as in x-amz-date
	dateFormat       = "20060102"
	emptySHA256      = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	maxSignedHeaders = 128
)

// The x-amz-content-sha256 values other than a hex SHA-256.
const (
	UnsignedPayload          = "UNSIGNED-PAYLOAD"
	StreamingPayload         = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	StreamingPayloadTrailer  = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	StreamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
)

// unreserved reports the bytes that SigV4's URI encoding leaves as they are:
// RFC 3986's unreserved set.
func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// uriEncode percent-encodes, with uppercase hex, every byte of s outside the
// unreserved set, except '/' when keepSlash.
func uriEncode(s string, keepSlash bool) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) && !(keepSlash && s[i] == '/') {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hexdigits = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || keepSlash && c == '/' {
			b = append(b, c)
		} else {
			b = append(b, '%', hexdigits[c>>4], hexdigits[c&15])
		}
	}
	return string(b)
}

// canonicalURI returns the canonical URI of a decoded path. S3 encodes the
// path once, keeps '/' and does not normalize "." or ".." or "//".
func canonicalURI(path string) string {
	if path == "" {
		return "/"
	}
	return uriEncode(path, true)
}

// queryParam is one decoded name=value pair of a query string.
type queryParam struct{ name, value string }

// parseQuery decodes a raw query string as net/url does ('+' is a space),
// keeping repeated names and pairs without '='. Empty pairs are skipped.
// A bad percent escape is an error: such a query has no canonical form.
func parseQuery(raw string) ([]queryParam, error) {
	var params []queryParam
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		var err error
		if name, err = url.QueryUnescape(name); err != nil {
			return nil, err
		}
		if value, err = url.QueryUnescape(value); err != nil {
			return nil, err
		}
		params = append(params, queryParam{name, value})
	}
	return params, nil
}

// canonicalQuery returns SigV4's canonical query string for params: each
// name and value URI-encoded, pairs sorted by encoded name then encoded
// value, joined by '&', always with '='. Pairs named omit are left out.
func canonicalQuery(params []queryParam, omit string) string {
	enc := make([]queryParam, 0, len(params))
	for _, p := range params {
		if omit != "" && p.name == omit {
			continue
		}
		enc = append(enc, queryParam{uriEncode(p.name, false), uriEncode(p.value, false)})
	}
	slices.SortFunc(enc, func(a, b queryParam) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	var b strings.Builder
	for i, p := range enc {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.name)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
	return b.String()
}

// trimAll trims a header value and collapses each run of spaces inside it
// to one space, as SigV4 asks of canonical header values.
func trimAll(v string) string {
	v = strings.TrimSpace(v)
	if !strings.Contains(v, "  ") {
		return v
	}
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' && i > 0 && v[i-1] == ' ' {
			continue
		}
		b = append(b, v[i])
	}
	return string(b)
}

// headerValue returns the canonical value of the header name (lowercase)
// of r: its values trimmed and joined by ','. net/http moves Host,
// Content-Length and Transfer-Encoding out of r.Header on the server; they
// are read from where it puts them.
func headerValue(r *http.Request, name, host string) string {
	switch name {
	case "host":
		return trimAll(host)
	case "content-length":
		if vs := r.Header.Values("Content-Length"); len(vs) > 0 {
			return joinValues(vs)
		}
		if r.ContentLength >= 0 {
			return strconv.FormatInt(r.ContentLength, 10)
		}
		return ""
	case "transfer-encoding":
		if vs := r.Header.Values("Transfer-Encoding"); len(vs) > 0 {
			return joinValues(vs)
		}
		return strings.Join(r.TransferEncoding, ",")
	}
	return joinValues(r.Header.Values(name))
}

func joinValues(vs []string) string {
	if len(vs) == 1 {
		return trimAll(vs[0])
	}
	t := make([]string, len(vs))
	for i, v := range vs {
		t[i] = trimAll(v)
	}
	return strings.Join(t, ",")
}

// requestHost returns the host r was sent to: r.Host, else r.URL.Host.
func requestHost(r *http.Request) string {
	if r.Host != "" {
		return r.Host
	}
	return r.URL.Host
}

// canonicalRequest assembles the canonical request:
//
//	method \n uri \n query \n (name:value \n)* \n signed;headers \n payload
func canonicalRequest(r *http.Request, uri, query, host string, signed []string, payload string) []byte {
	var b strings.Builder
	b.Grow(256)
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(uri)
	b.WriteByte('\n')
	b.WriteString(query)
	b.WriteByte('\n')
	for _, name := range signed {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(headerValue(r, name, host))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	for i, name := range signed {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(name)
	}
	b.WriteByte('\n')
	b.WriteString(payload)
	return []byte(b.String())
}

// stringToSign returns "AWS4-HMAC-SHA256\n" timestamp \n scope \n
// hex(sha256(canonical request)).
func stringToSign(timestamp, scope string, canonical []byte) []byte {
	sum := sha256.Sum256(canonical)
	b := make([]byte, 0, len(algorithm)+len(timestamp)+len(scope)+3+64)
	b = append(b, algorithm...)
	b = append(b, '\n')
	b = append(b, timestamp...)
	b = append(b, '\n')
	b = append(b, scope...)
	b = append(b, '\n')
	return hex.AppendEncode(b, sum[:])
}

// scope returns the credential scope date/region/s3/aws4_request.
func scope(date, region string) string {
	return date + "/" + region + "/" + service + "/" + terminator
}

func hmacSHA256(key, data []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(data)
	return h.Sum(nil)
}

// signingKey derives the SigV4 signing key for secret, day (YYYYMMDD) and
// region.
func signingKey(secret, date, region string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), []byte(date))
	k = hmacSHA256(k, []byte(region))
	k = hmacSHA256(k, []byte(service))
	return hmacSHA256(k, []byte(terminator))
}

// signature returns hex(HMAC(key, stringToSign)).
func signature(key, sts []byte) string {
	return hex.EncodeToString(hmacSHA256(key, sts))
}

// stripDefaultPort returns host without an explicit :80 or :443, which some
// signers (aws-sdk-go-v2 among them) leave out of the signed host.
func stripDefaultPort(host string) string {
	for _, p := range []string{":80", ":443"} {
		if h, ok := strings.CutSuffix(host, p); ok && h != "" && !strings.HasSuffix(h, ":") {
			return h
		}
	}
	return host
}

// isToken reports whether s is a non-empty lowercase HTTP header name.
func isLowerToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
