package s3api

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// xmlns is the namespace of every S3 XML answer.
const xmlns = "http://s3.amazonaws.com/doc/2006-03-01/"

// Caps on XML request bodies. DeleteObjects and CompleteMultipartUpload
// carry up to 1,000 keys of 1,024 bytes, or 10,000 parts, so they get more
// room than the small configuration documents.
const (
	maxXMLBody      = 1 << 20
	maxXMLBodyLarge = 8 << 20
)

// owner is the one owner the handler reports: the store has no accounts,
// so every bucket and object belongs to it.
type owner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName"`
}

var theOwner = func() owner {
	sum := sha256.Sum256([]byte("cellar"))
	return owner{ID: hex.EncodeToString(sum[:]), DisplayName: "cellar"}
}()

// iso8601 formats a time as S3's XML does, in UTC with milliseconds.
func iso8601(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// httpDate formats a time for Last-Modified and similar headers.
func httpDate(t time.Time) string { return t.UTC().Format(http.TimeFormat) }

// quoteETag puts an ETag in the double quotes S3 sends it with.
func quoteETag(etag string) string { return `"` + etag + `"` }

// writeXML answers with status and v as an XML document.
func (q *request) writeXML(status int, v any) error {
	b, err := xml.Marshal(v)
	if err != nil {
		return err
	}
	q.writeXMLBytes(status, append([]byte(xml.Header), b...))
	return nil
}

func (q *request) writeXMLBytes(status int, body []byte) {
	hdr := q.w.Header()
	hdr.Set("Content-Type", "application/xml")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	q.writeHeader(status)
	if q.r.Method != http.MethodHead {
		q.w.Write(body)
	}
}

// marshalError makes S3's <Error> document.
func marshalError(e *apiError, resource, requestID string) []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString("<Error>")
	elem := func(name, value string) {
		b.WriteString("<" + name + ">")
		xml.EscapeText(&b, []byte(value))
		b.WriteString("</" + name + ">")
	}
	elem("Code", e.Code)
	elem("Message", e.Message)
	for _, f := range e.fields {
		elem(f.name, f.value)
	}
	elem("Resource", resource)
	elem("RequestId", requestID)
	elem("HostId", hostID(requestID))
	b.WriteString("</Error>")
	return b.Bytes()
}

// readXML reads an XML request body of at most limit bytes into v, which
// names its root element. The body must be exactly one element: anything
// but whitespace, comments and processing instructions after it is
// MalformedXML, as an empty body is.
func (q *request) readXML(v any, limit int64) error {
	data, err := q.readBody(limit)
	if err != nil {
		return err
	}
	return decodeXML(data, v)
}

// decodeXML decodes one XML document into v, as readXML describes.
func decodeXML(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return errMalformedXML("")
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	if err := d.Decode(v); err != nil {
		return errMalformedXML(codes["MalformedXML"].message + ": " + err.Error())
	}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return errMalformedXML(codes["MalformedXML"].message + ": " + err.Error())
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return errMalformedXML(codes["MalformedXML"].message + ": text after the root element")
			}
		case xml.Comment, xml.ProcInst:
		default:
			return errMalformedXML(codes["MalformedXML"].message + ": content after the root element")
		}
	}
}

// readBody reads a small request body whole: at most limit bytes, checked
// against Content-MD5 when the request has one.
func (q *request) readBody(limit int64) ([]byte, error) {
	tooBig := func() error {
		return newError("MaxMessageLengthExceeded", "Your request was too big: this request body is limited to "+strconv.FormatInt(limit, 10)+" bytes.")
	}
	if q.r.ContentLength > limit || q.auth != nil && q.auth.DecodedLength > limit {
		return nil, tooBig()
	}
	sum, err := contentMD5(q.r.Header)
	if err != nil {
		return nil, err
	}
	p := newPayload(q.body, -1)
	if sum != nil {
		p.withDigest(md5.New(), func(got []byte) error {
			if !bytes.Equal(got, sum) {
				return newError("BadDigest", "")
			}
			return nil
		})
	}
	data, err := io.ReadAll(io.LimitReader(p, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, tooBig()
	}
	// LimitReader stopped short of limit+1 bytes, so the payload reached
	// its end and ran its checks.
	return data, nil
}

// urlEncode encodes a key, prefix or marker as S3 does for
// encoding-type=url: every byte but letters, digits, '-', '_', '.', '~'
// and '/' as %XX (a space is %20, a '+' %2B).
func urlEncode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~/", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// encodingType reads the encoding-type parameter of a listing: "" or
// "url"; anything else is InvalidArgument, as S3 answers.
func encodingType(q *request) (encode func(string) string, value string, err error) {
	switch v := q.query.Get("encoding-type"); v {
	case "":
		return func(s string) string { return s }, "", nil
	case "url":
		return urlEncode, "url", nil
	default:
		return nil, "", errInvalidArgument("Invalid Encoding Method specified in Request", "encoding-type", v)
	}
}

// intParam reads an integer query parameter from lo to hi, or def when
// absent.
func intParam(q *request, name string, def, lo, hi int, msg string) (int, error) {
	v, ok := q.query[name]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v[0]))
	if err != nil || n < lo || n > hi {
		return 0, errInvalidArgument(msg, name, v[0])
	}
	return n, nil
}
