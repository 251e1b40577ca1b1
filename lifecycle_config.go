package cellar

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Lifecycle rule statuses.
const (
	LifecycleEnabled  = "Enabled"
	LifecycleDisabled = "Disabled"
)

// S3's limits on lifecycle configurations.
const (
	// MaxLifecycleRules is the most rules one configuration holds.
	MaxLifecycleRules = 1000
	// MaxLifecycleIDLength is the longest rule ID, in characters.
	MaxLifecycleIDLength = 255
	// MaxNewerNoncurrentVersions is the most noncurrent versions a rule
	// can keep with NewerNoncurrentVersions.
	MaxNewerNoncurrentVersions = 100
	// maxLifecycleDays bounds every count of days: S3 takes an int32.
	maxLifecycleDays = math.MaxInt32
)

// s3XMLNamespace is the namespace of S3's XML documents.
const s3XMLNamespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// LifecycleConfig is a bucket's lifecycle configuration, S3's
// LifecycleConfiguration: up to 1,000 rules, each naming the objects it
// applies to and what happens to them as they age. Read one with
// ParseLifecycle from the JSON the aws CLI takes or from S3's XML; write
// it back with MarshalJSON or xml.Marshal. Bucket.SetLifecycle puts it in
// force.
type LifecycleConfig struct {
	Rules []LifecycleRule
}

// LifecycleRule is one rule of a lifecycle configuration. A rule applies
// to the objects its Filter selects or, when Filter is nil, to the keys
// that begin with the legacy rule-level Prefix ("" is every key). It needs
// at least one action.
type LifecycleRule struct {
	// ID names the rule: at most 255 characters, unique in the
	// configuration. SetLifecycle gives a rule without one a random ID, as
	// S3 does.
	ID string
	// Status is LifecycleEnabled or LifecycleDisabled; a disabled rule
	// does nothing.
	Status string
	// Filter selects the objects the rule applies to; an empty Filter
	// selects every object. Nil means the rule uses Prefix instead.
	Filter *LifecycleFilter
	// Prefix is S3's legacy rule-level prefix, used only when Filter is
	// nil. A rule with a Filter cannot have one.
	Prefix string

	// Expiration expires current versions (and removes expired object
	// delete markers).
	Expiration *LifecycleExpiration
	// NoncurrentVersionExpiration removes noncurrent versions for good.
	NoncurrentVersionExpiration *LifecycleNoncurrentExpiration
	// AbortIncompleteMultipartUpload aborts multipart uploads left
	// incomplete.
	AbortIncompleteMultipartUpload *LifecycleAbortIncompleteUpload

	// Transitions and NoncurrentVersionTransitions move versions to
	// another storage class. They are parsed, checked and written back,
	// but SetLifecycle refuses them: storage classes are not supported
	// yet.
	Transitions                  []LifecycleTransition
	NoncurrentVersionTransitions []LifecycleNoncurrentTransition
}

// LifecycleFilter selects the objects a rule applies to. It holds at most
// one of its fields; combine several conditions with And. The zero
// LifecycleFilter selects every object.
type LifecycleFilter struct {
	// Prefix selects keys that begin with it.
	Prefix string
	// Tag selects versions that have this tag (key and value exactly).
	Tag *LifecycleTag
	// ObjectSizeGreaterThan and ObjectSizeLessThan select versions
	// strictly larger or smaller than the size in bytes.
	ObjectSizeGreaterThan *int64
	ObjectSizeLessThan    *int64
	// And selects versions that meet all of its conditions.
	And *LifecycleAnd
}

// LifecycleAnd is the conjunction of two or more filter conditions: a key
// prefix, tags (every one must be on the version), and size bounds.
type LifecycleAnd struct {
	Prefix                string
	Tags                  []LifecycleTag
	ObjectSizeGreaterThan *int64
	ObjectSizeLessThan    *int64
}

// LifecycleTag is one tag a filter asks for. A Value of "" matches only a
// tag whose value is empty, as S3 does.
type LifecycleTag struct {
	Key, Value string
}

// LifecycleExpiration expires the current version of an object Days after
// it was created, or on Date, or (ExpiredObjectDeleteMarker) removes a
// delete marker that has no versions left behind it. Exactly one of the
// three is set.
type LifecycleExpiration struct {
	Days int
	// Date is midnight UTC of the day the rule starts to apply.
	Date                      time.Time
	ExpiredObjectDeleteMarker bool
}

// LifecycleNoncurrentExpiration removes a noncurrent version for good
// NoncurrentDays after it became noncurrent, keeping the
// NewerNoncurrentVersions newest noncurrent versions (0: keep none).
type LifecycleNoncurrentExpiration struct {
	NoncurrentDays          int
	NewerNoncurrentVersions int
}

// LifecycleAbortIncompleteUpload aborts a multipart upload
// DaysAfterInitiation days after it was created, freeing its parts.
type LifecycleAbortIncompleteUpload struct {
	DaysAfterInitiation int
}

// LifecycleTransition moves current versions to StorageClass Days after
// they were created (0 is allowed) or on Date.
type LifecycleTransition struct {
	Days         int
	Date         time.Time
	StorageClass string
}

// LifecycleNoncurrentTransition moves noncurrent versions to StorageClass
// NoncurrentDays after they became noncurrent.
type LifecycleNoncurrentTransition struct {
	NoncurrentDays          int
	NewerNoncurrentVersions int
	StorageClass            string
}

// transitionClasses are the storage classes S3 lets a lifecycle rule
// transition objects to.
var transitionClasses = map[string]bool{
	"STANDARD_IA": true, "ONEZONE_IA": true, "INTELLIGENT_TIERING": true,
	"GLACIER_IR": true, "GLACIER": true, "DEEP_ARCHIVE": true,
}

// ParseLifecycle reads a lifecycle configuration in either form S3 users
// write it: the JSON that the aws CLI takes ({"Rules": [...]}, as for
// put-bucket-lifecycle-configuration) or S3's XML LifecycleConfiguration.
// The first character that is not white space tells which. The
// configuration is checked as S3 checks it; every violation is an error
// matching ErrInvalidLifecycle (and, where S3 answers MalformedXML,
// ErrMalformedLifecycle) that names the rule and the field.
func ParseLifecycle(data []byte) (*LifecycleConfig, error) {
	return decodeLifecycle(data, true)
}

// decodeLifecycle parses either form; validate is false only for
// configurations the store wrote itself.
func decodeLifecycle(data []byte, validate bool) (*LifecycleConfig, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	var w wireLifecycle
	switch {
	case len(trimmed) == 0:
		return nil, fmt.Errorf("%w: empty document", ErrMalformedLifecycle)
	case trimmed[0] == '{':
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&w); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformedLifecycle, err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, fmt.Errorf("%w: data after the JSON document", ErrMalformedLifecycle)
		}
	case trimmed[0] == '<':
		if err := decodeXMLDocument(trimmed, &w); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformedLifecycle, err)
		}
	default:
		return nil, fmt.Errorf("%w: neither JSON ({\"Rules\": [...]}) nor XML (<LifecycleConfiguration>)", ErrMalformedLifecycle)
	}
	c, err := w.config()
	if err != nil {
		return nil, err
	}
	if validate {
		if err := c.Validate(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// decodeXMLDocument decodes one root element into w and refuses anything
// but white space, comments and processing instructions around it.
func decodeXMLDocument(data []byte, w *wireLifecycle) error {
	dec := xml.NewDecoder(bytes.NewReader(data))
	seen := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if !seen {
				return errors.New("no LifecycleConfiguration element")
			}
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if seen {
				return fmt.Errorf("a second root element <%s>", t.Name.Local)
			}
			if err := dec.DecodeElement(w, &t); err != nil {
				return err
			}
			seen = true
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return errors.New("text outside the root element")
			}
		case xml.Directive:
			return errors.New("DTD directives are not allowed")
		}
	}
}

// UnmarshalJSON reads the aws CLI's JSON form, as ParseLifecycle does.
func (c *LifecycleConfig) UnmarshalJSON(data []byte) error {
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return fmt.Errorf("%w: not a JSON object", ErrMalformedLifecycle)
	}
	p, err := ParseLifecycle(data)
	if err != nil {
		return err
	}
	*c = *p
	return nil
}

// MarshalJSON writes the configuration in the JSON form the aws CLI takes
// and prints: {"Rules": [...]}, with Date as 2006-01-02T00:00:00Z.
// ParseLifecycle reads it back to an equal configuration.
func (c *LifecycleConfig) MarshalJSON() ([]byte, error) {
	return json.Marshal(c.wire(time.RFC3339))
}

// UnmarshalXML reads S3's XML LifecycleConfiguration element and checks
// it as ParseLifecycle does.
func (c *LifecycleConfig) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	var w wireLifecycle
	if err := d.DecodeElement(&w, &start); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformedLifecycle, err)
	}
	p, err := w.config()
	if err == nil {
		err = p.Validate()
	}
	if err != nil {
		return err
	}
	*c = *p
	return nil
}

// MarshalXML writes S3's XML LifecycleConfiguration element, in S3's
// namespace and with Date as 2006-01-02T00:00:00.000Z, whatever start
// says: xml.Marshal(cfg) gives the document PutBucketLifecycleConfiguration
// takes. ParseLifecycle reads it back to an equal configuration.
func (c *LifecycleConfig) MarshalXML(e *xml.Encoder, _ xml.StartElement) error {
	w := c.wire("2006-01-02T15:04:05.000Z07:00")
	return e.EncodeElement(w, xml.StartElement{Name: xml.Name{Space: s3XMLNamespace, Local: "LifecycleConfiguration"}})
}

// The wire form is shared by JSON and XML: pointers record which elements
// were present, since S3 checks presence (an empty Prefix, Days 0), and
// the any fields collect XML elements S3 does not know, which it refuses.
type wireLifecycle struct {
	XMLName xml.Name   `json:"-" xml:"LifecycleConfiguration"`
	Rules   []wireRule `json:"Rules" xml:"Rule"`
	Unknown []xmlAny   `json:"-" xml:",any"`
}

type xmlAny struct{ XMLName xml.Name }

type wireRule struct {
	ID                             *string                 `json:"ID,omitempty" xml:"ID,omitempty"`
	Filter                         *wireFilter             `json:"Filter,omitempty" xml:"Filter,omitempty"`
	Prefix                         *string                 `json:"Prefix,omitempty" xml:"Prefix,omitempty"`
	Status                         *string                 `json:"Status,omitempty" xml:"Status,omitempty"`
	Expiration                     *wireExpiration         `json:"Expiration,omitempty" xml:"Expiration,omitempty"`
	Transitions                    []wireTransition        `json:"Transitions,omitempty" xml:"Transition,omitempty"`
	NoncurrentVersionTransitions   []wireNoncurrentTrans   `json:"NoncurrentVersionTransitions,omitempty" xml:"NoncurrentVersionTransition,omitempty"`
	NoncurrentVersionExpiration    *wireNoncurrentExpiry   `json:"NoncurrentVersionExpiration,omitempty" xml:"NoncurrentVersionExpiration,omitempty"`
	AbortIncompleteMultipartUpload *wireAbortIncompleteMPU `json:"AbortIncompleteMultipartUpload,omitempty" xml:"AbortIncompleteMultipartUpload,omitempty"`
	Unknown                        []xmlAny                `json:"-" xml:",any"`
}

type wireFilter struct {
	Prefix                *string  `json:"Prefix,omitempty" xml:"Prefix,omitempty"`
	Tag                   *wireTag `json:"Tag,omitempty" xml:"Tag,omitempty"`
	ObjectSizeGreaterThan *int64   `json:"ObjectSizeGreaterThan,omitempty" xml:"ObjectSizeGreaterThan,omitempty"`
	ObjectSizeLessThan    *int64   `json:"ObjectSizeLessThan,omitempty" xml:"ObjectSizeLessThan,omitempty"`
	And                   *wireAnd `json:"And,omitempty" xml:"And,omitempty"`
	Unknown               []xmlAny `json:"-" xml:",any"`
}

type wireAnd struct {
	Prefix                *string   `json:"Prefix,omitempty" xml:"Prefix,omitempty"`
	Tags                  []wireTag `json:"Tags,omitempty" xml:"Tag,omitempty"`
	ObjectSizeGreaterThan *int64    `json:"ObjectSizeGreaterThan,omitempty" xml:"ObjectSizeGreaterThan,omitempty"`
	ObjectSizeLessThan    *int64    `json:"ObjectSizeLessThan,omitempty" xml:"ObjectSizeLessThan,omitempty"`
	Unknown               []xmlAny  `json:"-" xml:",any"`
}

type wireTag struct {
	Key     *string  `json:"Key,omitempty" xml:"Key,omitempty"`
	Value   *string  `json:"Value,omitempty" xml:"Value,omitempty"`
	Unknown []xmlAny `json:"-" xml:",any"`
}

type wireExpiration struct {
	Date                      *string  `json:"Date,omitempty" xml:"Date,omitempty"`
	Days                      *int64   `json:"Days,omitempty" xml:"Days,omitempty"`
	ExpiredObjectDeleteMarker *bool    `json:"ExpiredObjectDeleteMarker,omitempty" xml:"ExpiredObjectDeleteMarker,omitempty"`
	Unknown                   []xmlAny `json:"-" xml:",any"`
}

type wireTransition struct {
	Date         *string  `json:"Date,omitempty" xml:"Date,omitempty"`
	Days         *int64   `json:"Days,omitempty" xml:"Days,omitempty"`
	StorageClass *string  `json:"StorageClass,omitempty" xml:"StorageClass,omitempty"`
	Unknown      []xmlAny `json:"-" xml:",any"`
}

type wireNoncurrentTrans struct {
	NoncurrentDays          *int64   `json:"NoncurrentDays,omitempty" xml:"NoncurrentDays,omitempty"`
	StorageClass            *string  `json:"StorageClass,omitempty" xml:"StorageClass,omitempty"`
	NewerNoncurrentVersions *int64   `json:"NewerNoncurrentVersions,omitempty" xml:"NewerNoncurrentVersions,omitempty"`
	Unknown                 []xmlAny `json:"-" xml:",any"`
}

type wireNoncurrentExpiry struct {
	NoncurrentDays          *int64   `json:"NoncurrentDays,omitempty" xml:"NoncurrentDays,omitempty"`
	NewerNoncurrentVersions *int64   `json:"NewerNoncurrentVersions,omitempty" xml:"NewerNoncurrentVersions,omitempty"`
	Unknown                 []xmlAny `json:"-" xml:",any"`
}

type wireAbortIncompleteMPU struct {
	DaysAfterInitiation *int64   `json:"DaysAfterInitiation,omitempty" xml:"DaysAfterInitiation,omitempty"`
	Unknown             []xmlAny `json:"-" xml:",any"`
}

// lifecycleError makes an error about one field of one rule.
func lifecycleError(sentinel error, i int, r *LifecycleRule, field, format string, args ...any) error {
	where := fmt.Sprintf("Rules[%d]", i)
	if r != nil && r.ID != "" {
		where = fmt.Sprintf("rule %q (Rules[%d])", r.ID, i)
	}
	if field != "" {
		where += " " + field
	}
	return fmt.Errorf("%w: %s: %s", sentinel, where, fmt.Sprintf(format, args...))
}

func unknownElement(i int, field string, u []xmlAny) error {
	if len(u) == 0 {
		return nil
	}
	if field != "" {
		field += "."
	}
	return lifecycleError(ErrMalformedLifecycle, i, nil, field+u[0].XMLName.Local, "unknown element")
}

// config turns the wire form into a LifecycleConfig, refusing what only
// the wire form shows: unknown elements, and elements present where S3
// checks presence.
func (w *wireLifecycle) config() (*LifecycleConfig, error) {
	if len(w.Unknown) > 0 {
		return nil, fmt.Errorf("%w: unknown element %s in LifecycleConfiguration", ErrMalformedLifecycle, w.Unknown[0].XMLName.Local)
	}
	c := &LifecycleConfig{Rules: make([]LifecycleRule, 0, len(w.Rules))}
	for i := range w.Rules {
		wr := &w.Rules[i]
		var r LifecycleRule
		if wr.ID != nil {
			r.ID = *wr.ID
		}
		if wr.Status != nil {
			r.Status = *wr.Status
		}
		fail := func(sentinel error, field, format string, args ...any) (*LifecycleConfig, error) {
			return nil, lifecycleError(sentinel, i, &r, field, format, args...)
		}
		if err := unknownElement(i, "", wr.Unknown); err != nil {
			return nil, err
		}
		switch {
		case wr.Filter != nil && wr.Prefix != nil:
			return fail(ErrMalformedLifecycle, "Prefix", "a rule has either a Filter or the legacy Prefix, not both")
		case wr.Filter == nil && wr.Prefix == nil:
			return fail(ErrMalformedLifecycle, "Filter", "a rule needs a Filter (or the legacy Prefix)")
		case wr.Prefix != nil:
			r.Prefix = *wr.Prefix
		default:
			f, err := wr.Filter.filter(i, &r)
			if err != nil {
				return nil, err
			}
			r.Filter = f
		}
		if e := wr.Expiration; e != nil {
			if err := unknownElement(i, "Expiration", e.Unknown); err != nil {
				return nil, err
			}
			n := 0
			x := &LifecycleExpiration{}
			if e.Days != nil {
				n++
				if *e.Days <= 0 || *e.Days > maxLifecycleDays {
					return fail(ErrInvalidLifecycle, "Expiration.Days", "%d is not a positive integer", *e.Days)
				}
				x.Days = int(*e.Days)
			}
			if e.Date != nil {
				n++
				d, err := parseLifecycleDate(*e.Date)
				if err != nil {
					return fail(ErrInvalidLifecycle, "Expiration.Date", "%v", err)
				}
				x.Date = d
			}
			if e.ExpiredObjectDeleteMarker != nil {
				n++
				if !*e.ExpiredObjectDeleteMarker && n == 1 {
					return fail(ErrMalformedLifecycle, "Expiration.ExpiredObjectDeleteMarker", "false does nothing: an Expiration needs Days, Date or ExpiredObjectDeleteMarker true")
				}
				x.ExpiredObjectDeleteMarker = *e.ExpiredObjectDeleteMarker
			}
			if n != 1 {
				return fail(ErrMalformedLifecycle, "Expiration", "needs exactly one of Days, Date and ExpiredObjectDeleteMarker, has %d", n)
			}
			r.Expiration = x
		}
		for j, t := range wr.Transitions {
			field := fmt.Sprintf("Transitions[%d]", j)
			if err := unknownElement(i, field, t.Unknown); err != nil {
				return nil, err
			}
			var x LifecycleTransition
			switch {
			case (t.Days == nil) == (t.Date == nil):
				return fail(ErrMalformedLifecycle, field, "needs exactly one of Days and Date")
			case t.Days != nil:
				if *t.Days < 0 || *t.Days > maxLifecycleDays {
					return fail(ErrInvalidLifecycle, field+".Days", "%d is not a non-negative integer", *t.Days)
				}
				x.Days = int(*t.Days)
			default:
				d, err := parseLifecycleDate(*t.Date)
				if err != nil {
					return fail(ErrInvalidLifecycle, field+".Date", "%v", err)
				}
				x.Date = d
			}
			if t.StorageClass != nil {
				x.StorageClass = *t.StorageClass
			}
			r.Transitions = append(r.Transitions, x)
		}
		for j, t := range wr.NoncurrentVersionTransitions {
			field := fmt.Sprintf("NoncurrentVersionTransitions[%d]", j)
			if err := unknownElement(i, field, t.Unknown); err != nil {
				return nil, err
			}
			var x LifecycleNoncurrentTransition
			if t.NoncurrentDays == nil {
				return fail(ErrMalformedLifecycle, field+".NoncurrentDays", "missing")
			}
			if *t.NoncurrentDays < 0 || *t.NoncurrentDays > maxLifecycleDays {
				return fail(ErrInvalidLifecycle, field+".NoncurrentDays", "%d is not a non-negative integer", *t.NoncurrentDays)
			}
			x.NoncurrentDays = int(*t.NoncurrentDays)
			if t.NewerNoncurrentVersions != nil {
				if n := *t.NewerNoncurrentVersions; n < 1 || n > MaxNewerNoncurrentVersions {
					return fail(ErrInvalidLifecycle, field+".NewerNoncurrentVersions", "%d is not between 1 and %d", n, MaxNewerNoncurrentVersions)
				}
				x.NewerNoncurrentVersions = int(*t.NewerNoncurrentVersions)
			}
			if t.StorageClass != nil {
				x.StorageClass = *t.StorageClass
			}
			r.NoncurrentVersionTransitions = append(r.NoncurrentVersionTransitions, x)
		}
		if e := wr.NoncurrentVersionExpiration; e != nil {
			if err := unknownElement(i, "NoncurrentVersionExpiration", e.Unknown); err != nil {
				return nil, err
			}
			x := &LifecycleNoncurrentExpiration{}
			if e.NoncurrentDays == nil {
				return fail(ErrMalformedLifecycle, "NoncurrentVersionExpiration.NoncurrentDays", "missing")
			}
			if d := *e.NoncurrentDays; d <= 0 || d > maxLifecycleDays {
				return fail(ErrInvalidLifecycle, "NoncurrentVersionExpiration.NoncurrentDays", "%d is not a positive integer", d)
			}
			x.NoncurrentDays = int(*e.NoncurrentDays)
			if e.NewerNoncurrentVersions != nil {
				if n := *e.NewerNoncurrentVersions; n < 1 || n > MaxNewerNoncurrentVersions {
					return fail(ErrInvalidLifecycle, "NoncurrentVersionExpiration.NewerNoncurrentVersions", "%d is not between 1 and %d", n, MaxNewerNoncurrentVersions)
				}
				x.NewerNoncurrentVersions = int(*e.NewerNoncurrentVersions)
			}
			r.NoncurrentVersionExpiration = x
		}
		if a := wr.AbortIncompleteMultipartUpload; a != nil {
			if err := unknownElement(i, "AbortIncompleteMultipartUpload", a.Unknown); err != nil {
				return nil, err
			}
			if a.DaysAfterInitiation == nil {
				return fail(ErrMalformedLifecycle, "AbortIncompleteMultipartUpload.DaysAfterInitiation", "missing")
			}
			if d := *a.DaysAfterInitiation; d <= 0 || d > maxLifecycleDays {
				return fail(ErrInvalidLifecycle, "AbortIncompleteMultipartUpload.DaysAfterInitiation", "%d is not a positive integer", d)
			}
			r.AbortIncompleteMultipartUpload = &LifecycleAbortIncompleteUpload{DaysAfterInitiation: int(*a.DaysAfterInitiation)}
		}
		c.Rules = append(c.Rules, r)
	}
	return c, nil
}

func (wf *wireFilter) filter(i int, r *LifecycleRule) (*LifecycleFilter, error) {
	if err := unknownElement(i, "Filter", wf.Unknown); err != nil {
		return nil, err
	}
	f := &LifecycleFilter{ObjectSizeGreaterThan: cloneInt64(wf.ObjectSizeGreaterThan), ObjectSizeLessThan: cloneInt64(wf.ObjectSizeLessThan)}
	n := 0
	if wf.Prefix != nil {
		n++
		f.Prefix = *wf.Prefix
	}
	if wf.Tag != nil {
		n++
		t, err := wf.Tag.tag(i, r, "Filter.Tag")
		if err != nil {
			return nil, err
		}
		f.Tag = &t
	}
	if wf.ObjectSizeGreaterThan != nil {
		n++
	}
	if wf.ObjectSizeLessThan != nil {
		n++
	}
	if a := wf.And; a != nil {
		n++
		if err := unknownElement(i, "Filter.And", a.Unknown); err != nil {
			return nil, err
		}
		f.And = &LifecycleAnd{ObjectSizeGreaterThan: cloneInt64(a.ObjectSizeGreaterThan), ObjectSizeLessThan: cloneInt64(a.ObjectSizeLessThan)}
		if a.Prefix != nil {
			f.And.Prefix = *a.Prefix
		}
		for j := range a.Tags {
			t, err := a.Tags[j].tag(i, r, fmt.Sprintf("Filter.And.Tags[%d]", j))
			if err != nil {
				return nil, err
			}
			f.And.Tags = append(f.And.Tags, t)
		}
	}
	if n > 1 {
		return nil, lifecycleError(ErrMalformedLifecycle, i, r, "Filter", "has %d of Prefix, Tag, ObjectSizeGreaterThan, ObjectSizeLessThan and And; it takes one (combine conditions with And)", n)
	}
	return f, nil
}

func (wt *wireTag) tag(i int, r *LifecycleRule, field string) (LifecycleTag, error) {
	if err := unknownElement(i, field, wt.Unknown); err != nil {
		return LifecycleTag{}, err
	}
	if wt.Key == nil {
		return LifecycleTag{}, lifecycleError(ErrMalformedLifecycle, i, r, field+".Key", "missing")
	}
	t := LifecycleTag{Key: *wt.Key}
	if wt.Value != nil {
		t.Value = *wt.Value
	}
	return t, nil
}

func cloneInt64(p *int64) *int64 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// parseLifecycleDate reads an ISO 8601 date or time, which must be
// midnight UTC.
func parseLifecycleDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		t, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		t = t.UTC()
		if t.Hour() != 0 || t.Minute() != 0 || t.Second() != 0 || t.Nanosecond() != 0 {
			return time.Time{}, fmt.Errorf("%q is not midnight UTC", s)
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO 8601 date such as 2026-01-02T00:00:00Z", s)
}

// wire turns the configuration into its wire form, dates in layout.
func (c *LifecycleConfig) wire(layout string) *wireLifecycle {
	w := &wireLifecycle{Rules: make([]wireRule, 0, len(c.Rules))}
	str := func(s string) *string { return &s }
	i64 := func(n int) *int64 { v := int64(n); return &v }
	date := func(t time.Time) *string { return str(t.UTC().Format(layout)) }
	for _, r := range c.Rules {
		var wr wireRule
		if r.ID != "" {
			wr.ID = str(r.ID)
		}
		wr.Status = str(r.Status)
		if f := r.Filter; f != nil {
			wf := &wireFilter{ObjectSizeGreaterThan: cloneInt64(f.ObjectSizeGreaterThan), ObjectSizeLessThan: cloneInt64(f.ObjectSizeLessThan)}
			if f.Prefix != "" {
				wf.Prefix = str(f.Prefix)
			}
			if f.Tag != nil {
				wf.Tag = &wireTag{Key: str(f.Tag.Key), Value: str(f.Tag.Value)}
			}
			if a := f.And; a != nil {
				wf.And = &wireAnd{ObjectSizeGreaterThan: cloneInt64(a.ObjectSizeGreaterThan), ObjectSizeLessThan: cloneInt64(a.ObjectSizeLessThan)}
				if a.Prefix != "" {
					wf.And.Prefix = str(a.Prefix)
				}
				for _, t := range a.Tags {
					wf.And.Tags = append(wf.And.Tags, wireTag{Key: str(t.Key), Value: str(t.Value)})
				}
			}
			wr.Filter = wf
		} else {
			wr.Prefix = str(r.Prefix)
		}
		if e := r.Expiration; e != nil {
			we := &wireExpiration{}
			if e.Days != 0 {
				we.Days = i64(e.Days)
			}
			if !e.Date.IsZero() {
				we.Date = date(e.Date)
			}
			if e.ExpiredObjectDeleteMarker {
				t := true
				we.ExpiredObjectDeleteMarker = &t
			}
			wr.Expiration = we
		}
		for _, t := range r.Transitions {
			wt := wireTransition{StorageClass: str(t.StorageClass)}
			if !t.Date.IsZero() {
				wt.Date = date(t.Date)
			} else {
				wt.Days = i64(t.Days)
			}
			wr.Transitions = append(wr.Transitions, wt)
		}
		for _, t := range r.NoncurrentVersionTransitions {
			wt := wireNoncurrentTrans{NoncurrentDays: i64(t.NoncurrentDays), StorageClass: str(t.StorageClass)}
			if t.NewerNoncurrentVersions != 0 {
				wt.NewerNoncurrentVersions = i64(t.NewerNoncurrentVersions)
			}
			wr.NoncurrentVersionTransitions = append(wr.NoncurrentVersionTransitions, wt)
		}
		if e := r.NoncurrentVersionExpiration; e != nil {
			we := &wireNoncurrentExpiry{NoncurrentDays: i64(e.NoncurrentDays)}
			if e.NewerNoncurrentVersions != 0 {
				we.NewerNoncurrentVersions = i64(e.NewerNoncurrentVersions)
			}
			wr.NoncurrentVersionExpiration = we
		}
		if a := r.AbortIncompleteMultipartUpload; a != nil {
			wr.AbortIncompleteMultipartUpload = &wireAbortIncompleteMPU{DaysAfterInitiation: i64(a.DaysAfterInitiation)}
		}
		w.Rules = append(w.Rules, wr)
	}
	return w
}

// Validate checks the configuration as S3's PutBucketLifecycleConfiguration
// does and returns the first violation, an error matching
// ErrInvalidLifecycle (and ErrMalformedLifecycle where S3 answers
// MalformedXML) that names the rule and field. SetLifecycle calls it.
func (c *LifecycleConfig) Validate() error {
	if c == nil || len(c.Rules) == 0 {
		return fmt.Errorf("%w: a lifecycle configuration needs at least one rule", ErrMalformedLifecycle)
	}
	if len(c.Rules) > MaxLifecycleRules {
		return fmt.Errorf("%w: %d rules, at most %d", ErrInvalidLifecycle, len(c.Rules), MaxLifecycleRules)
	}
	ids := make(map[string]int, len(c.Rules))
	for i := range c.Rules {
		r := &c.Rules[i]
		if err := r.validate(i); err != nil {
			return err
		}
		if r.ID != "" {
			if j, dup := ids[r.ID]; dup {
				return lifecycleError(ErrInvalidLifecycle, i, r, "ID", "rule IDs must be unique; Rules[%d] has the same ID", j)
			}
			ids[r.ID] = i
		}
	}
	return nil
}

func (r *LifecycleRule) validate(i int) error {
	fail := func(sentinel error, field, format string, args ...any) error {
		return lifecycleError(sentinel, i, r, field, format, args...)
	}
	if n := utf8.RuneCountInString(r.ID); n > MaxLifecycleIDLength {
		return fail(ErrInvalidLifecycle, "ID", "%d characters, at most %d", n, MaxLifecycleIDLength)
	}
	// S3 takes lifecycle configurations only as XML, so what XML cannot
	// hold (control characters, invalid UTF-8) S3 never accepts.
	for _, f := range []struct{ field, s string }{
		{"ID", r.ID}, {"Prefix", r.Prefix}, {"Filter.Prefix", r.Filter.prefix()}, {"Filter.And.Prefix", r.Filter.andPrefix()},
	} {
		if !xmlText(f.s) {
			return fail(ErrInvalidLifecycle, f.field, "%q has characters XML cannot carry", f.s)
		}
	}
	if r.Status != LifecycleEnabled && r.Status != LifecycleDisabled {
		return fail(ErrMalformedLifecycle, "Status", "%q: want %s or %s", r.Status, LifecycleEnabled, LifecycleDisabled)
	}
	if r.Filter != nil && r.Prefix != "" {
		return fail(ErrMalformedLifecycle, "Prefix", "a rule has either a Filter or the legacy Prefix, not both")
	}
	if err := r.Filter.validate(fail); err != nil {
		return err
	}
	tags, sizes := r.Filter.hasTags(), r.Filter.hasSizes()
	days, dates := false, false
	if e := r.Expiration; e != nil {
		n := 0
		if e.Days != 0 {
			n++
			days = true
			if e.Days < 0 || e.Days > maxLifecycleDays {
				return fail(ErrInvalidLifecycle, "Expiration.Days", "%d is not a positive integer", e.Days)
			}
		}
		if !e.Date.IsZero() {
			n++
			dates = true
			if err := checkMidnight(e.Date); err != nil {
				return fail(ErrInvalidLifecycle, "Expiration.Date", "%v", err)
			}
		}
		if e.ExpiredObjectDeleteMarker {
			n++
			if tags {
				return fail(ErrInvalidLifecycle, "Expiration.ExpiredObjectDeleteMarker", "cannot be used with a tag filter")
			}
		}
		if n != 1 {
			return fail(ErrMalformedLifecycle, "Expiration", "needs exactly one of Days, Date and ExpiredObjectDeleteMarker, has %d", n)
		}
	}
	for j, t := range r.Transitions {
		field := fmt.Sprintf("Transitions[%d]", j)
		if !t.Date.IsZero() {
			dates = true
			if t.Days != 0 {
				return fail(ErrMalformedLifecycle, field, "needs exactly one of Days and Date")
			}
			if err := checkMidnight(t.Date); err != nil {
				return fail(ErrInvalidLifecycle, field+".Date", "%v", err)
			}
		} else {
			days = true
			if t.Days < 0 || t.Days > maxLifecycleDays {
				return fail(ErrInvalidLifecycle, field+".Days", "%d is not a non-negative integer", t.Days)
			}
		}
		if !transitionClasses[t.StorageClass] {
			return fail(ErrMalformedLifecycle, field+".StorageClass", "%q is not a storage class a rule can transition to", t.StorageClass)
		}
	}
	if days && dates {
		return fail(ErrInvalidLifecycle, "Expiration/Transitions", "a rule uses either Days or Date, not both")
	}
	if days && len(r.Transitions) > 0 {
		classes, ds := make([]string, len(r.Transitions)), make([]int, len(r.Transitions))
		for j, t := range r.Transitions {
			classes[j], ds[j] = t.StorageClass, t.Days
		}
		expire := 0
		if r.Expiration != nil {
			expire = r.Expiration.Days
		}
		if err := checkTransitionOrder(fail, "Transitions", classes, ds, expire); err != nil {
			return err
		}
	}
	for j, t := range r.NoncurrentVersionTransitions {
		field := fmt.Sprintf("NoncurrentVersionTransitions[%d]", j)
		if t.NoncurrentDays < 0 || t.NoncurrentDays > maxLifecycleDays {
			return fail(ErrInvalidLifecycle, field+".NoncurrentDays", "%d is not a non-negative integer", t.NoncurrentDays)
		}
		if n := t.NewerNoncurrentVersions; n < 0 || n > MaxNewerNoncurrentVersions {
			return fail(ErrInvalidLifecycle, field+".NewerNoncurrentVersions", "%d is not between 1 and %d", n, MaxNewerNoncurrentVersions)
		}
		if !transitionClasses[t.StorageClass] {
			return fail(ErrMalformedLifecycle, field+".StorageClass", "%q is not a storage class a rule can transition to", t.StorageClass)
		}
	}
	if len(r.NoncurrentVersionTransitions) > 0 {
		classes, ds := make([]string, len(r.NoncurrentVersionTransitions)), make([]int, len(r.NoncurrentVersionTransitions))
		for j, t := range r.NoncurrentVersionTransitions {
			classes[j], ds[j] = t.StorageClass, t.NoncurrentDays
		}
		expire := 0
		if r.NoncurrentVersionExpiration != nil {
			expire = r.NoncurrentVersionExpiration.NoncurrentDays
		}
		if err := checkTransitionOrder(fail, "NoncurrentVersionTransitions", classes, ds, expire); err != nil {
			return err
		}
	}
	if e := r.NoncurrentVersionExpiration; e != nil {
		if e.NoncurrentDays <= 0 || e.NoncurrentDays > maxLifecycleDays {
			return fail(ErrInvalidLifecycle, "NoncurrentVersionExpiration.NoncurrentDays", "%d is not a positive integer", e.NoncurrentDays)
		}
		if n := e.NewerNoncurrentVersions; n < 0 || n > MaxNewerNoncurrentVersions {
			return fail(ErrInvalidLifecycle, "NoncurrentVersionExpiration.NewerNoncurrentVersions", "%d is not between 1 and %d", n, MaxNewerNoncurrentVersions)
		}
	}
	if a := r.AbortIncompleteMultipartUpload; a != nil {
		if a.DaysAfterInitiation <= 0 || a.DaysAfterInitiation > maxLifecycleDays {
			return fail(ErrInvalidLifecycle, "AbortIncompleteMultipartUpload.DaysAfterInitiation", "%d is not a positive integer", a.DaysAfterInitiation)
		}
		if tags {
			return fail(ErrInvalidLifecycle, "AbortIncompleteMultipartUpload", "cannot be used with a tag filter")
		}
		if sizes {
			return fail(ErrInvalidLifecycle, "AbortIncompleteMultipartUpload", "cannot be used with an object size filter")
		}
	}
	if r.Expiration == nil && r.NoncurrentVersionExpiration == nil && r.AbortIncompleteMultipartUpload == nil &&
		len(r.Transitions) == 0 && len(r.NoncurrentVersionTransitions) == 0 {
		return fail(ErrInvalidLifecycle, "", "a rule needs at least one action")
	}
	return nil
}

// xmlText reports whether s is valid UTF-8 made only of characters that
// XML 1.0 documents can hold.
func xmlText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
		case r < 0x20, r >= 0xD800 && r <= 0xDFFF, r == 0xFFFE || r == 0xFFFF:
			return false
		}
	}
	return true
}

func (f *LifecycleFilter) prefix() string {
	if f == nil {
		return ""
	}
	return f.Prefix
}

func (f *LifecycleFilter) andPrefix() string {
	if f == nil || f.And == nil {
		return ""
	}
	return f.And.Prefix
}

func checkMidnight(t time.Time) error {
	u := t.UTC()
	if u.Hour() != 0 || u.Minute() != 0 || u.Second() != 0 || u.Nanosecond() != 0 {
		return fmt.Errorf("%s is not midnight UTC", t.Format(time.RFC3339Nano))
	}
	return nil
}

func (f *LifecycleFilter) validate(fail func(sentinel error, field, format string, args ...any) error) error {
	if f == nil {
		return nil
	}
	n := 0
	for _, set := range []bool{f.Prefix != "", f.Tag != nil, f.ObjectSizeGreaterThan != nil, f.ObjectSizeLessThan != nil, f.And != nil} {
		if set {
			n++
		}
	}
	if n > 1 {
		return fail(ErrMalformedLifecycle, "Filter", "has %d of Prefix, Tag, ObjectSizeGreaterThan, ObjectSizeLessThan and And; it takes one (combine conditions with And)", n)
	}
	if f.Tag != nil {
		if err := validFilterTag(*f.Tag); err != nil {
			return fail(ErrInvalidLifecycle, "Filter.Tag", "%v", err)
		}
	}
	if err := validSizes(f.ObjectSizeGreaterThan, f.ObjectSizeLessThan); err != nil {
		return fail(ErrInvalidLifecycle, "Filter", "%v", err)
	}
	a := f.And
	if a == nil {
		return nil
	}
	preds := len(a.Tags)
	for _, set := range []bool{a.Prefix != "", a.ObjectSizeGreaterThan != nil, a.ObjectSizeLessThan != nil} {
		if set {
			preds++
		}
	}
	if preds < 2 {
		return fail(ErrMalformedLifecycle, "Filter.And", "has %d conditions; And joins two or more (a non-empty Prefix, Tags, sizes)", preds)
	}
	seen := make(map[string]bool, len(a.Tags))
	for j, t := range a.Tags {
		if err := validFilterTag(t); err != nil {
			return fail(ErrInvalidLifecycle, fmt.Sprintf("Filter.And.Tags[%d]", j), "%v", err)
		}
		if seen[t.Key] {
			return fail(ErrInvalidLifecycle, fmt.Sprintf("Filter.And.Tags[%d]", j), "duplicate tag key %q", t.Key)
		}
		seen[t.Key] = true
	}
	if err := validSizes(a.ObjectSizeGreaterThan, a.ObjectSizeLessThan); err != nil {
		return fail(ErrInvalidLifecycle, "Filter.And", "%v", err)
	}
	return nil
}

func validFilterTag(t LifecycleTag) error {
	if n := utf8.RuneCountInString(t.Key); n < 1 || n > MaxTagKeyLength {
		return fmt.Errorf("tag key %q is %d characters, want 1 to %d", t.Key, n, MaxTagKeyLength)
	}
	if n := utf8.RuneCountInString(t.Value); n > MaxTagValueLength {
		return fmt.Errorf("value of tag %q is %d characters, at most %d", t.Key, n, MaxTagValueLength)
	}
	if !validTagChars(t.Key) || !validTagChars(t.Value) {
		return fmt.Errorf("tag %q=%q has a character S3 does not allow", t.Key, t.Value)
	}
	return nil
}

func validSizes(gt, lt *int64) error {
	if gt != nil && (*gt < 0 || *gt > MaxObjectSize) {
		return fmt.Errorf("ObjectSizeGreaterThan %d is not between 0 and %d", *gt, int64(MaxObjectSize))
	}
	if lt != nil && (*lt <= 0 || *lt > MaxObjectSize) {
		return fmt.Errorf("ObjectSizeLessThan %d is not between 1 and %d", *lt, int64(MaxObjectSize))
	}
	if gt != nil && lt != nil && *gt >= *lt {
		return fmt.Errorf("ObjectSizeGreaterThan %d must be less than ObjectSizeLessThan %d", *gt, *lt)
	}
	return nil
}

func (f *LifecycleFilter) hasTags() bool {
	return f != nil && (f.Tag != nil || f.And != nil && len(f.And.Tags) > 0)
}

func (f *LifecycleFilter) hasSizes() bool {
	return f != nil && (f.ObjectSizeGreaterThan != nil || f.ObjectSizeLessThan != nil ||
		f.And != nil && (f.And.ObjectSizeGreaterThan != nil || f.And.ObjectSizeLessThan != nil))
}

// checkTransitionOrder applies S3's rules to a rule's transitions, in
// days (ds) by class: each class once; STANDARD_IA and ONEZONE_IA no
// sooner than 30 days; a colder class later than a warmer one, and 30
// days after a transition into an IA class; an expiration after every
// transition.
func checkTransitionOrder(fail func(sentinel error, field, format string, args ...any) error, field string, classes []string, ds []int, expire int) error {
	for j, c := range classes {
		if (c == StorageClassStandardIA || c == StorageClassOnezoneIA) && ds[j] < 30 {
			return fail(ErrInvalidLifecycle, fmt.Sprintf("%s[%d]", field, j), "days %d for storage class %s: must be greater than or equal to 30", ds[j], c)
		}
		if expire > 0 && expire <= ds[j] {
			return fail(ErrInvalidLifecycle, fmt.Sprintf("%s[%d]", field, j), "the expiration's days (%d) must be greater than the transition's (%d)", expire, ds[j])
		}
		for i := range j {
			o := classes[i]
			if o == c {
				return fail(ErrInvalidLifecycle, fmt.Sprintf("%s[%d]", field, j), "storage class %s is used by %s[%d] too", c, field, i)
			}
			warm, wi, cold, ci := o, i, c, j
			if classRank[o] > classRank[c] {
				warm, wi, cold, ci = c, j, o, i
			}
			gap := 1
			if warm == StorageClassStandardIA || warm == StorageClassOnezoneIA {
				gap = 30
			}
			if ds[ci] < ds[wi]+gap {
				return fail(ErrInvalidLifecycle, fmt.Sprintf("%s[%d]", field, ci), "days %d for storage class %s must be at least %d more than the %d days for storage class %s", ds[ci], cold, gap, ds[wi], warm)
			}
		}
	}
	return nil
}

// clone returns a deep copy.
func (c *LifecycleConfig) clone() *LifecycleConfig {
	out := &LifecycleConfig{Rules: make([]LifecycleRule, len(c.Rules))}
	for i, r := range c.Rules {
		if r.Filter != nil {
			f := *r.Filter
			f.ObjectSizeGreaterThan, f.ObjectSizeLessThan = cloneInt64(f.ObjectSizeGreaterThan), cloneInt64(f.ObjectSizeLessThan)
			if f.Tag != nil {
				t := *f.Tag
				f.Tag = &t
			}
			if f.And != nil {
				a := *f.And
				a.Tags = append([]LifecycleTag(nil), a.Tags...)
				a.ObjectSizeGreaterThan, a.ObjectSizeLessThan = cloneInt64(a.ObjectSizeGreaterThan), cloneInt64(a.ObjectSizeLessThan)
				f.And = &a
			}
			r.Filter = &f
		}
		if r.Expiration != nil {
			e := *r.Expiration
			r.Expiration = &e
		}
		if r.NoncurrentVersionExpiration != nil {
			e := *r.NoncurrentVersionExpiration
			r.NoncurrentVersionExpiration = &e
		}
		if r.AbortIncompleteMultipartUpload != nil {
			a := *r.AbortIncompleteMultipartUpload
			r.AbortIncompleteMultipartUpload = &a
		}
		r.Transitions = append([]LifecycleTransition(nil), r.Transitions...)
		r.NoncurrentVersionTransitions = append([]LifecycleNoncurrentTransition(nil), r.NoncurrentVersionTransitions...)
		out.Rules[i] = r
	}
	return out
}

// String gives the configuration as JSON, for logs and tests.
func (c *LifecycleConfig) String() string {
	b, err := c.MarshalJSON()
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}
