package cellar_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/cellarhq/cellar"
	"github.com/cellarhq/cellar/backend"
	"github.com/cellarhq/cellar/index"
)

// goodLifecycleJSON are configurations S3 accepts, in the aws CLI's form.
var goodLifecycleJSON = []string{
	`{"Rules": [{"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Expiration": {"Days": 365}}]}`,
	`{"Rules": [{"ID": "all", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}]}`,
	`{"Rules": [{"Status": "Disabled", "Prefix": "", "Expiration": {"Date": "2026-03-01T00:00:00Z"}}]}`,
	`{"Rules": [{"ID": "d", "Status": "Enabled", "Prefix": "x", "Expiration": {"Date": "2026-03-01T00:00:00.000Z"}}]}`,
	`{"Rules": [{"ID": "d", "Status": "Enabled", "Prefix": "x", "Expiration": {"Date": "2026-03-01"}}]}`,
	`{"Rules": [{"ID": "d", "Status": "Enabled", "Prefix": "x", "Expiration": {"Date": "2026-03-01T01:00:00+01:00"}}]}`,
	`{"Rules": [{"ID": "tag", "Status": "Enabled", "Filter": {"Tag": {"Key": "class", "Value": "tmp"}}, "Expiration": {"Days": 7}}]}`,
	`{"Rules": [{"ID": "big", "Status": "Enabled", "Filter": {"ObjectSizeGreaterThan": 0}, "Expiration": {"Days": 7}}]}`,
	`{"Rules": [{"ID": "small", "Status": "Enabled", "Filter": {"ObjectSizeLessThan": 1024}, "Expiration": {"Days": 7}}]}`,
	`{"Rules": [{"ID": "and", "Status": "Enabled", "Filter": {"And": {"Prefix": "a/", "Tags": [{"Key": "k", "Value": "v"}, {"Key": "k2", "Value": ""}], "ObjectSizeGreaterThan": 10, "ObjectSizeLessThan": 100}}, "Expiration": {"Days": 3}}]}`,
	`{"Rules": [{"ID": "and2", "Status": "Enabled", "Filter": {"And": {"Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}}, "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}]}`,
	`{"Rules": [{"ID": "nc", "Status": "Enabled", "Filter": {"Prefix": ""}, "NoncurrentVersionExpiration": {"NoncurrentDays": 30, "NewerNoncurrentVersions": 5}}]}`,
	`{"Rules": [{"ID": "eodm", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"ExpiredObjectDeleteMarker": true}, "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}]}`,
	`{"Rules": [{"ID": "mpu", "Status": "Enabled", "Filter": {"Prefix": "up/"}, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}]}`,
	`{"Rules": [{"ID": "archive", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}, {"Days": 90, "StorageClass": "GLACIER"}], "Expiration": {"Days": 365}}]}`,
	`{"Rules": [{"ID": "t0", "Status": "Enabled", "Filter": {}, "Transitions": [{"Days": 0, "StorageClass": "GLACIER"}]}]}`,
	`{"Rules": [{"ID": "tdate", "Status": "Enabled", "Filter": {}, "Transitions": [{"Date": "2027-01-01T00:00:00Z", "StorageClass": "DEEP_ARCHIVE"}], "Expiration": {"Date": "2028-01-01T00:00:00Z"}}]}`,
	`{"Rules": [{"ID": "nct", "Status": "Enabled", "Filter": {}, "NoncurrentVersionTransitions": [{"NoncurrentDays": 30, "StorageClass": "GLACIER_IR", "NewerNoncurrentVersions": 2}]}]}`,
	`{"Rules": [{"ID": "a", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}, {"ID": "b", "Status": "Disabled", "Filter": {"Prefix": "b"}, "Expiration": {"Days": 2}}]}`,
	"\ufeff  \n{\"Rules\": [{\"ID\": \"bom\", \"Status\": \"Enabled\", \"Filter\": {}, \"Expiration\": {\"Days\": 1}}]}  \n",
	`{"Rules": [{"ID": "` + strings.Repeat("é", 255) + `", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}]}`,
}

// badLifecycleJSON are configurations S3 refuses, each with a word of the
// error that names the field, and whether S3 answers MalformedXML.
var badLifecycleJSON = []struct {
	doc       string
	want      string
	malformed bool
}{
	{``, "empty", true},
	{`[]`, "neither JSON", true},
	{`{"Rules": [}`, "invalid character", true},
	{`{"Rules": []}`, "at least one rule", true},
	{`{}`, "at least one rule", true},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}]} {}`, "after the JSON", true},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}, "Bogus": 1}]}`, "Bogus", true},
	{`{"Rules": [{"ID": "x", "Status": "enabled", "Filter": {}, "Expiration": {"Days": 1}}]}`, "Status", true},
	{`{"Rules": [{"ID": "x", "Filter": {}, "Expiration": {"Days": 1}}]}`, "Status", true},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Expiration": {"Days": 1}}]}`, "Filter", true},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "Prefix": "", "Expiration": {"Days": 1}}]}`, "Prefix", true},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {"Prefix": "a", "Tag": {"Key": "k", "Value": "v"}}, "Expiration": {"Days": 1}}]}`, "Filter", true},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {"Prefix": "", "ObjectSizeLessThan": 5}, "Expiration": {"Days": 1}}]}`, "Filter", true},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {"ObjectSizeGreaterThan": 5, "ObjectSizeLessThan": 50}, "Expiration": {"Days": 1}}]}`, "Filter", true},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {"And": {"Prefix": "a"}}, "Expiration": {"Days": 1}}]}`, "Filter.And", true},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {"And": {"Prefix": "", "Tags": [{"Key": "k", "Value": "v"}]}}, "Expiration": {"Days": 1}}]}`, "Filter.And", true},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {"And": {"Tags": [{"Key": "k", "Value": "v"}, {"Key": "k", "Value": "w"}]}}, "Expiration": {"Days": 1}}]}`, "duplicate tag key", false},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {"And": {"Prefix": "p", "ObjectSizeGreaterThan": 100, "ObjectSizeLessThan": 100}}, "Expiration": {"Days": 1}}]}`, "less than", false},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {"ObjectSizeGreaterThan": -1}, "Expiration": {"Days": 1}}]}`, "ObjectSizeGreaterThan", false},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {"ObjectSizeLessThan": 0}, "Expiration": {"Days": 1}}]}`, "ObjectSizeLessThan", false},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {"Tag": {"Value": "v"}}, "Expiration": {"Days": 1}}]}`, "Filter.Tag.Key", true},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {"Tag": {"Key": "", "Value": "v"}}, "Expiration": {"Days": 1}}]}`, "Filter.Tag", false},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {"Tag": {"Key": "k#", "Value": "v"}}, "Expiration": {"Days": 1}}]}`, "Filter.Tag", false},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}}]}`, "at least one action", false},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "Expiration": {}}]}`, "Expiration", true},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 0}}]}`, "Expiration.Days", false},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": -3}}]}`, "Expiration.Days", false},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1.5}}]}`, "Days", true},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": "1"}}]}`, "Days", true},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 3000000000}}]}`, "Expiration.Days", false},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1, "Date": "2026-01-01T00:00:00Z"}}]}`, "Expiration", true},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1, "ExpiredObjectDeleteMarker": true}}]}`, "Expiration", true},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1, "ExpiredObjectDeleteMarker": false}}]}`, "Expiration", true},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "Expiration": {"ExpiredObjectDeleteMarker": false}}]}`, "ExpiredObjectDeleteMarker", true},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "Expiration": {"Date": "2026-01-01T10:00:00Z"}}]}`, "midnight", false},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "Expiration": {"Date": "2026-01-01T00:00:00+01:00"}}]}`, "midnight", false},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "Expiration": {"Date": "tomorrow"}}]}`, "Expiration.Date", false},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {"Tag": {"Key": "k", "Value": "v"}}, "Expiration": {"ExpiredObjectDeleteMarker": true}}]}`, "ExpiredObjectDeleteMarker", false},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {"And": {"Prefix": "p", "Tags": [{"Key": "k", "Value": "v"}]}}, "Expiration": {"ExpiredObjectDeleteMarker": true}}]}`, "ExpiredObjectDeleteMarker", false},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {"Tag": {"Key": "k", "Value": "v"}}, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]}`, "AbortIncompleteMultipartUpload", false},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {"ObjectSizeGreaterThan": 1}, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]}`, "AbortIncompleteMultipartUpload", false},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 0}}]}`, "DaysAfterInitiation", false},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "AbortIncompleteMultipartUpload": {}}]}`, "DaysAfterInitiation", true},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "NoncurrentVersionExpiration": {"NewerNoncurrentVersions": 2}}]}`, "NoncurrentDays", true},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "NoncurrentVersionExpiration": {"NoncurrentDays": 0}}]}`, "NoncurrentDays", false},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "NoncurrentVersionExpiration": {"NoncurrentDays": 1, "NewerNoncurrentVersions": 0}}]}`, "NewerNoncurrentVersions", false},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "NoncurrentVersionExpiration": {"NoncurrentDays": 1, "NewerNoncurrentVersions": 101}}]}`, "NewerNoncurrentVersions", false},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "Transitions": [{"StorageClass": "GLACIER"}]}]}`, "Transitions[0]", true},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "Transitions": [{"Days": 1, "Date": "2026-01-01", "StorageClass": "GLACIER"}]}]}`, "Transitions[0]", true},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "Transitions": [{"Days": 1, "StorageClass": "COLD"}]}]}`, "StorageClass", true},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "Transitions": [{"Days": -1, "StorageClass": "GLACIER"}]}]}`, "Transitions[0].Days", false},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "Transitions": [{"Date": "2026-01-01", "StorageClass": "GLACIER"}], "Expiration": {"Days": 30}}]}`, "Days or Date", false},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "NoncurrentVersionTransitions": [{"StorageClass": "GLACIER"}]}]}`, "NoncurrentDays", true},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "NoncurrentVersionTransitions": [{"NoncurrentDays": 3, "StorageClass": "STANDARD"}]}]}`, "StorageClass", true},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "Transitions": [{"Days": 29, "StorageClass": "STANDARD_IA"}]}]}`, "greater than or equal to 30", false},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "NoncurrentVersionTransitions": [{"NoncurrentDays": 10, "StorageClass": "ONEZONE_IA"}]}]}`, "greater than or equal to 30", false},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "Transitions": [{"Days": 90, "StorageClass": "STANDARD_IA"}, {"Days": 30, "StorageClass": "GLACIER"}]}]}`, "at least 30 more", false},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}, {"Days": 45, "StorageClass": "GLACIER"}]}]}`, "at least 30 more", false},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "Transitions": [{"Days": 10, "StorageClass": "GLACIER"}, {"Days": 20, "StorageClass": "GLACIER"}]}]}`, "used by", false},
	{`{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "Transitions": [{"Days": 100, "StorageClass": "GLACIER"}], "Expiration": {"Days": 100}}]}`, "expiration", false},
	{`{"Rules": [{"ID": "` + strings.Repeat("a", 256) + `", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}]}`, "ID", false},
	{`{"Rules": [{"ID": "same", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}, {"ID": "same", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 2}}]}`, "unique", false},
	{manyRules(1001), "at most 1000", false},
}

func manyRules(n int) string {
	var b strings.Builder
	b.WriteString(`{"Rules": [`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"ID": "r%d", "Status": "Enabled", "Filter": {"Prefix": "p%d/"}, "Expiration": {"Days": %d}}`, i, i, i+1)
	}
	b.WriteString("]}")
	return b.String()
}

// goodLifecycleXML are S3 XML documents S3 accepts.
var goodLifecycleXML = []string{
	`<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ID>r</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>365</Days></Expiration></Rule></LifecycleConfiguration>`,
	`<?xml version="1.0" encoding="UTF-8"?>
<LifecycleConfiguration>
  <Rule>
    <ID>Transition and Expiration Rule</ID>
    <Filter>
      <Prefix>tax/</Prefix>
    </Filter>
    <Status>Enabled</Status>
    <Transition>
      <Days>365</Days>
      <StorageClass>GLACIER</StorageClass>
    </Transition>
    <Expiration>
      <Days>3650</Days>
    </Expiration>
  </Rule>
</LifecycleConfiguration>`,
	`<LifecycleConfiguration><Rule><Filter></Filter><Status>Enabled</Status><Expiration><Date>2026-02-01T00:00:00.000Z</Date></Expiration></Rule></LifecycleConfiguration>`,
	`<LifecycleConfiguration><Rule><ID>legacy</ID><Prefix></Prefix><Status>Disabled</Status><NoncurrentVersionExpiration><NoncurrentDays>3</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule></LifecycleConfiguration>`,
	`<LifecycleConfiguration><Rule><ID>and</ID><Filter><And><Prefix>a/</Prefix><Tag><Key>k1</Key><Value>v1</Value></Tag><Tag><Key>k2</Key><Value></Value></Tag><ObjectSizeGreaterThan>5</ObjectSizeGreaterThan></And></Filter><Status>Enabled</Status><Expiration><Days>2</Days></Expiration></Rule></LifecycleConfiguration>`,
	`<LifecycleConfiguration><Rule><ID>eodm</ID><Filter><Prefix/></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule><Rule><ID>mpu</ID><Filter><Prefix>up/</Prefix></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule></LifecycleConfiguration>`,
	`<LifecycleConfiguration><Rule><ID>nct</ID><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status><NoncurrentVersionTransition><NoncurrentDays>30</NoncurrentDays><StorageClass>STANDARD_IA</StorageClass></NoncurrentVersionTransition><NoncurrentVersionTransition><NoncurrentDays>60</NoncurrentDays><StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition></Rule></LifecycleConfiguration>`,
	`<!-- a comment --><LifecycleConfiguration><Rule><ID>c</ID><Filter><ObjectSizeLessThan> 100 </ObjectSizeLessThan></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>`,
}

var badLifecycleXML = []struct {
	doc       string
	want      string
	malformed bool
}{
	{`<LifecycleConfiguration>`, "EOF", true},
	{`<Lifecycle><Rule/></Lifecycle>`, "LifecycleConfiguration", true},
	{`<LifecycleConfiguration></LifecycleConfiguration>`, "at least one rule", true},
	{`<LifecycleConfiguration><Rule><ID>x</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration><Bogus/></Rule></LifecycleConfiguration>`, "Bogus", true},
	{`<LifecycleConfiguration><Rule><ID>x</ID><Filter><Prefix>a</Prefix><Color>red</Color></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>`, "Filter.Color", true},
	{`<LifecycleConfiguration><Rule><ID>x</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days><Weeks>1</Weeks></Expiration></Rule></LifecycleConfiguration>`, "Expiration.Weeks", true},
	{`<LifecycleConfiguration><Rule><ID>x</ID><Filter/><Status>Enabled</Status><Expiration><Days>x</Days></Expiration></Rule></LifecycleConfiguration>`, "invalid syntax", true},
	{`<LifecycleConfiguration><Rule><ID>x</ID><Filter/><Status>Enabled</Status><Expiration><Days></Days></Expiration></Rule></LifecycleConfiguration>`, "Expiration.Days", false},
	{`<LifecycleConfiguration><Rule><ID>x</ID><Filter/><Prefix/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>`, "Prefix", true},
	{`<LifecycleConfiguration><Rule><ID>x</ID><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>`, "Filter", true},
	{`<LifecycleConfiguration><Rule><ID>x</ID><Filter><Prefix/><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>`, "Filter", true},
	{`<LifecycleConfiguration><Rule><ID>x</ID><Filter/><Status>On</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>`, "Status", true},
	{`<LifecycleConfiguration><Rule><ID>x</ID><Filter/><Status>Enabled</Status><Expiration><Date>2026-01-01T12:00:00Z</Date></Expiration></Rule></LifecycleConfiguration>`, "midnight", false},
	{`<LifecycleConfiguration><Rule><ID>x</ID><Filter/><Status>Enabled</Status><Expiration><Days>0</Days></Expiration></Rule></LifecycleConfiguration>`, "Expiration.Days", false},
	{`<LifecycleConfiguration><Rule><ID>x</ID><Filter/><Status>Enabled</Status></Rule></LifecycleConfiguration>`, "at least one action", false},
	{`<LifecycleConfiguration><Rule><ID>x</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration><More/>`, "second root", true},
	{`<LifecycleConfiguration><Rule><ID>x</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>junk`, "text outside", true},
	{`<!DOCTYPE x [<!ENTITY a "b">]><LifecycleConfiguration/>`, "DTD", true},
	{`<LifecycleConfiguration><Rule><ID>x</ID><Filter><And><Tag><Key>k</Key></Tag></And></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>`, "Filter.And", true},
	{`<LifecycleConfiguration><Rule><ID>x</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule><Rule><ID>x</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>`, "unique", false},
}

func TestParseLifecycleGood(t *testing.T) {
	for _, doc := range append(append([]string(nil), goodLifecycleJSON...), goodLifecycleXML...) {
		c, err := cellar.ParseLifecycle([]byte(doc))
		if err != nil {
			t.Errorf("%.80s: %v", doc, err)
			continue
		}
		checkRoundTrip(t, c)
	}
}

func TestParseLifecycleBad(t *testing.T) {
	type bad = struct {
		doc       string
		want      string
		malformed bool
	}
	for _, tc := range append(append([]bad(nil), badLifecycleJSON...), badLifecycleXML...) {
		_, err := cellar.ParseLifecycle([]byte(tc.doc))
		if err == nil {
			t.Errorf("%.100s: accepted", tc.doc)
			continue
		}
		if !errors.Is(err, cellar.ErrInvalidLifecycle) {
			t.Errorf("%.100s: %v does not match ErrInvalidLifecycle", tc.doc, err)
		}
		if got := errors.Is(err, cellar.ErrMalformedLifecycle); got != tc.malformed {
			t.Errorf("%.100s: %v: malformed=%v, want %v", tc.doc, err, got, tc.malformed)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.100s: error %q does not mention %q", tc.doc, err, tc.want)
		}
	}
}

// TestParseLifecycleFields checks what a parsed configuration holds.
func TestParseLifecycleFields(t *testing.T) {
	c, err := cellar.ParseLifecycle([]byte(`{"Rules": [
		{"ID": "a", "Status": "Enabled", "Filter": {"And": {"Prefix": "x/", "Tags": [{"Key": "k", "Value": "v"}], "ObjectSizeLessThan": 9}},
		 "Expiration": {"Days": 30}, "NoncurrentVersionExpiration": {"NoncurrentDays": 7, "NewerNoncurrentVersions": 3}},
		{"ID": "b", "Status": "Disabled", "Prefix": "y/", "Expiration": {"Date": "2026-05-01T00:00:00Z"}, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := &cellar.LifecycleConfig{Rules: []cellar.LifecycleRule{
		{
			ID: "a", Status: "Enabled",
			Filter:                      &cellar.LifecycleFilter{And: &cellar.LifecycleAnd{Prefix: "x/", Tags: []cellar.LifecycleTag{{Key: "k", Value: "v"}}, ObjectSizeLessThan: new(int64(9))}},
			Expiration:                  &cellar.LifecycleExpiration{Days: 30},
			NoncurrentVersionExpiration: &cellar.LifecycleNoncurrentExpiration{NoncurrentDays: 7, NewerNoncurrentVersions: 3},
		},
		{
			ID: "b", Status: "Disabled", Prefix: "y/",
			Expiration:                     &cellar.LifecycleExpiration{Date: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)},
			AbortIncompleteMultipartUpload: &cellar.LifecycleAbortIncompleteUpload{DaysAfterInitiation: 2},
		},
	}}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("parsed\n%s\nwant\n%s", c, want)
	}
	if err := want.Validate(); err != nil {
		t.Fatal(err)
	}
	// A configuration built in Go validates the same way.
	bad := want.Rules[0]
	bad.Filter = &cellar.LifecycleFilter{Prefix: "p", Tag: &cellar.LifecycleTag{Key: "k"}}
	if err := (&cellar.LifecycleConfig{Rules: []cellar.LifecycleRule{bad}}).Validate(); !errors.Is(err, cellar.ErrMalformedLifecycle) {
		t.Errorf("Filter with Prefix and Tag: %v", err)
	}
	bad = want.Rules[1]
	bad.Expiration = &cellar.LifecycleExpiration{Date: time.Date(2026, 5, 1, 3, 0, 0, 0, time.UTC)}
	if err := (&cellar.LifecycleConfig{Rules: []cellar.LifecycleRule{bad}}).Validate(); err == nil || !strings.Contains(err.Error(), `rule "b" (Rules[0]) Expiration.Date`) {
		t.Errorf("Date not at midnight: %v", err)
	}
}

// checkRoundTrip writes c in both forms and reads each back: the same
// configuration, and the same bytes when written again.
func checkRoundTrip(t *testing.T, c *cellar.LifecycleConfig) {
	t.Helper()
	j, err := json.Marshal(c)
	if err != nil {
		t.Fatalf("MarshalJSON: %v", err)
	}
	x, err := xml.Marshal(c)
	if err != nil {
		t.Fatalf("MarshalXML: %v", err)
	}
	if !bytes.HasPrefix(x, []byte(`<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`)) {
		t.Fatalf("XML does not start with S3's root element: %.100s", x)
	}
	for _, doc := range [][]byte{j, x} {
		back, err := cellar.ParseLifecycle(doc)
		if err != nil {
			t.Fatalf("reparse %.200s: %v", doc, err)
		}
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("round trip through %.200s\ngot  %s\nwant %s", doc, back, c)
		}
		j2, _ := json.Marshal(back)
		x2, _ := xml.Marshal(back)
		if !bytes.Equal(j, j2) || !bytes.Equal(x, x2) {
			t.Fatalf("writing again differs:\n%s\n%s\n%s\n%s", j, j2, x, x2)
		}
	}
	var viaJSON cellar.LifecycleConfig
	if err := json.Unmarshal(j, &viaJSON); err != nil || !reflect.DeepEqual(&viaJSON, c) {
		t.Fatalf("json.Unmarshal: %v, %s", err, &viaJSON)
	}
	var viaXML cellar.LifecycleConfig
	if err := xml.Unmarshal(x, &viaXML); err != nil || !reflect.DeepEqual(&viaXML, c) {
		t.Fatalf("xml.Unmarshal: %v, %s", err, &viaXML)
	}
}

func TestLifecycleRoundTripForms(t *testing.T) {
	c, err := cellar.ParseLifecycle([]byte(goodLifecycleXML[4]))
	if err != nil {
		t.Fatal(err)
	}
	j, _ := json.Marshal(c)
	want := `{"Rules":[{"ID":"and","Filter":{"And":{"Prefix":"a/","Tags":[{"Key":"k1","Value":"v1"},{"Key":"k2","Value":""}],"ObjectSizeGreaterThan":5}},"Status":"Enabled","Expiration":{"Days":2}}]}`
	if string(j) != want {
		t.Errorf("JSON\n%s\nwant\n%s", j, want)
	}
	c, err = cellar.ParseLifecycle([]byte(goodLifecycleJSON[3]))
	if err != nil {
		t.Fatal(err)
	}
	x, _ := xml.Marshal(c)
	wantX := `<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ID>d</ID><Prefix>x</Prefix><Status>Enabled</Status><Expiration><Date>2026-03-01T00:00:00.000Z</Date></Expiration></Rule></LifecycleConfiguration>`
	if string(x) != wantX {
		t.Errorf("XML\n%s\nwant\n%s", x, wantX)
	}
}

func fuzzParse(t *testing.T, data []byte) {
	c, err := cellar.ParseLifecycle(data)
	if err != nil {
		if !errors.Is(err, cellar.ErrInvalidLifecycle) {
			t.Fatalf("error %v does not match ErrInvalidLifecycle", err)
		}
		return
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("parsed configuration does not validate: %v", err)
	}
	checkRoundTrip(t, c)
}

func FuzzParseLifecycleJSON(f *testing.F) {
	for _, doc := range goodLifecycleJSON {
		f.Add([]byte(doc))
	}
	for _, tc := range badLifecycleJSON {
		if len(tc.doc) < 4096 {
			f.Add([]byte(tc.doc))
		}
	}
	f.Fuzz(fuzzParse)
}

func FuzzParseLifecycleXML(f *testing.F) {
	for _, doc := range goodLifecycleXML {
		f.Add([]byte(doc))
	}
	for _, tc := range badLifecycleXML {
		f.Add([]byte(tc.doc))
	}
	f.Fuzz(fuzzParse)
}

// testClock is a settable clock for Options.Clock.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// lifecycleEnv is a store on an index and zones that outlive it, so that
// a test can close it and open it again.
type lifecycleEnv struct {
	t     *testing.T
	opts  *cellar.Options
	clock *testClock
	s     *cellar.Store
}

func newLifecycleEnv(t *testing.T, configure func(*cellar.Options)) *lifecycleEnv {
	t.Helper()
	idx, err := index.OpenPebbleMemory(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	clock := &testClock{now: time.Date(2026, 1, 1, 15, 0, 0, 0, time.UTC)}
	opts := smallOpts()
	opts.Index = idx
	opts.Clock = clock.Now
	opts.LifecycleInterval = -1
	for range 3 {
		opts.Zones = append(opts.Zones, backend.NewMemory())
	}
	if configure != nil {
		configure(opts)
	}
	e := &lifecycleEnv{t: t, opts: opts, clock: clock}
	e.open()
	t.Cleanup(func() {
		if e.s != nil {
			e.s.Close()
		}
	})
	return e
}

func (e *lifecycleEnv) open() {
	s, err := cellar.OpenMemory(context.Background(), e.opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.s = s
}

func (e *lifecycleEnv) restart() {
	if err := e.s.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.s = nil
	e.open()
}

func TestLifecycleDataDriven(t *testing.T) {
	for name, configure := range map[string]func(*cellar.Options){
		"rs4-2": nil,
		"rs6-3": func(o *cellar.Options) { o.DataShards, o.ParityShards = 6, 3 },
	} {
		t.Run(name, func(t *testing.T) {
			datadriven.Walk(t, "testdata/lifecycle", func(t *testing.T, path string) {
				e := newLifecycleEnv(t, configure)
				r := &lifecycleRunner{e: e, syms: &versionSyms{byID: map[string]string{}, bySym: map[string]string{}}, uploads: map[string]*cellar.MultipartUpload{}}
				datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
					return r.run(t, d)
				})
			})
		})
	}
}

// lifecycleRunner runs the commands of testdata/lifecycle:
//
//	clock [set=2026-01-01T15:00:00Z] [advance=36h]   set or move the clock; prints it
//	create-bucket [bucket=b] [versioning=Enabled]
//	set-versioning state=Enabled|Suspended
//	set-lifecycle            input: the configuration, JSON or XML
//	get-lifecycle | delete-lifecycle
//	put key=k [tags=a=1&b=2] [size=N] [class=GLACIER]   input: the body (unless size)
//	head key=k [version=v1]  prints class, restore state and expiration
//	get key=k [version=v1]   reads the object; prints bytes read and head
//	restore key=k days=N [tier=Bulk] [version=v1]
//	usage                    Store.Usage, a line per bucket and class
//	delete key=k [version=v1]
//	tag key=k tags=a=1&b=2 [version=v1]
//	create-upload key=k      prints the upload's name (u1, u2, ...)
//	upload-part upload=u1 part=1   input: the body
//	complete upload=u1 parts=1,2 | abort upload=u1
//	run                      RunLifecycle now; prints the report
//	run-days n=400           moves the clock to each next midnight UTC in
//	                         turn, runs, and prints the days something
//	                         happened with the bucket's state then
//	list-versions | list-uploads
//	sweep                    Sweep, then Check; prints what was freed
//	restart                  close and reopen the store
type lifecycleRunner struct {
	e       *lifecycleEnv
	syms    *versionSyms
	uploads map[string]*cellar.MultipartUpload // by name
	names   map[string]string                  // upload ID → name
}

func (r *lifecycleRunner) run(t *testing.T, d *datadriven.TestData) string {
	ctx := context.Background()
	arg := func(key string) string {
		if d.HasArg(key) {
			var v string
			d.ScanArgs(t, key, &v)
			return v
		}
		return ""
	}
	bucket := arg("bucket")
	if bucket == "" {
		bucket = "bkt"
	}
	s := r.e.s
	b := s.Bucket(bucket)
	fail := func(err error) string { return lifecycleErrName(err, r.syms.sym) }
	switch d.Cmd {
	case "clock":
		if v := arg("set"); v != "" {
			tm, err := time.Parse(time.RFC3339, v)
			if err != nil {
				t.Fatal(err)
			}
			r.e.clock.Set(tm)
		}
		if v := arg("advance"); v != "" {
			dur, err := time.ParseDuration(v)
			if err != nil {
				t.Fatal(err)
			}
			r.e.clock.Set(r.e.clock.Now().Add(dur))
		}
		return r.e.clock.Now().Format(time.RFC3339)
	case "create-bucket":
		if err := s.CreateBucket(ctx, bucket, &cellar.BucketOptions{Versioning: cellar.VersioningState(arg("versioning"))}); err != nil {
			return fail(err)
		}
		return "ok"
	case "set-versioning":
		if err := b.SetVersioning(ctx, cellar.VersioningState(arg("state"))); err != nil {
			return fail(err)
		}
		return "ok"
	case "set-lifecycle":
		c, err := cellar.ParseLifecycle([]byte(d.Input))
		if err != nil {
			return fail(err)
		}
		if err := b.SetLifecycle(ctx, c); err != nil {
			return fail(err)
		}
		return "ok"
	case "get-lifecycle":
		c, err := b.Lifecycle(ctx)
		if err != nil {
			return fail(err)
		}
		j, err := json.MarshalIndent(c, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		return string(j)
	case "delete-lifecycle":
		if err := b.DeleteLifecycle(ctx); err != nil {
			return fail(err)
		}
		return "ok"
	case "put":
		opts := &cellar.PutOptions{Tags: parseTags(arg("tags")), StorageClass: arg("class")}
		body := d.Input
		if n := arg("size"); n != "" {
			size, _ := strconv.Atoi(n)
			body = strings.Repeat("x", size)
		}
		info, err := b.Put(ctx, arg("key"), strings.NewReader(body), opts)
		if err != nil {
			return fail(err)
		}
		return "version " + r.syms.sym(info.VersionID)
	case "head":
		info, err := b.Head(ctx, arg("key"), &cellar.GetOptions{VersionID: r.syms.id(arg("version"))})
		if err != nil {
			return fail(err)
		}
		return formatHead(info)
	case "get":
		obj, err := b.Get(ctx, arg("key"), &cellar.GetOptions{VersionID: r.syms.id(arg("version"))})
		if err != nil {
			return fail(err)
		}
		defer obj.Close()
		n, err := io.Copy(io.Discard, obj)
		if err != nil {
			return fail(err)
		}
		return fmt.Sprintf("read %d bytes; %s", n, formatHead(obj.Info()))
	case "restore":
		days, _ := strconv.Atoi(arg("days"))
		err := b.Restore(ctx, arg("key"), &cellar.RestoreOptions{Days: days, Tier: arg("tier"), VersionID: r.syms.id(arg("version"))})
		if err != nil {
			return fail(err)
		}
		return "ok"
	case "usage":
		u, err := s.Usage(ctx)
		if err != nil {
			return fail(err)
		}
		return formatUsage(u)
	case "delete":
		res, err := b.Delete(ctx, arg("key"), &cellar.DeleteOptions{VersionID: r.syms.id(arg("version"))})
		if err != nil {
			return fail(err)
		}
		return fmt.Sprintf("deleted version=%s marker=%v", r.syms.sym(res.VersionID), res.DeleteMarker)
	case "tag":
		v, err := b.PutObjectTagging(ctx, arg("key"), parseTags(arg("tags")), &cellar.TaggingOptions{VersionID: r.syms.id(arg("version"))})
		if err != nil {
			return fail(err)
		}
		return "tagged " + r.syms.sym(v)
	case "create-upload":
		u, err := b.CreateMultipartUpload(ctx, arg("key"), nil)
		if err != nil {
			return fail(err)
		}
		name := "u" + strconv.Itoa(len(r.uploads)+1)
		r.uploads[name] = u
		if r.names == nil {
			r.names = map[string]string{}
		}
		r.names[u.ID()] = name
		return "upload " + name
	case "upload-part":
		n, _ := strconv.Atoi(arg("part"))
		if _, err := r.upload(t, arg("upload")).UploadPart(ctx, n, strings.NewReader(d.Input), nil); err != nil {
			return fail(err)
		}
		return "ok"
	case "complete":
		u := r.upload(t, arg("upload"))
		page, err := u.ListParts(ctx, nil)
		if err != nil {
			return fail(err)
		}
		var parts []cellar.CompletedPart
		for _, p := range page.Parts {
			parts = append(parts, cellar.CompletedPart{PartNumber: p.PartNumber, ETag: p.ETag})
		}
		info, err := u.Complete(ctx, parts, nil)
		if err != nil {
			return fail(err)
		}
		return "version " + r.syms.sym(info.VersionID)
	case "abort":
		if err := r.upload(t, arg("upload")).Abort(ctx); err != nil {
			return fail(err)
		}
		return "ok"
	case "run":
		rep, err := s.RunLifecycle(ctx)
		if err != nil {
			return fail(err)
		}
		return formatLifecycleReport(rep)
	case "run-days":
		n, _ := strconv.Atoi(arg("n"))
		var out strings.Builder
		for range n {
			now := r.e.clock.Now().UTC()
			r.e.clock.Set(time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC))
			rep, err := s.RunLifecycle(ctx)
			if err != nil {
				return fail(err)
			}
			if rep == (cellar.LifecycleReport{}) {
				continue
			}
			fmt.Fprintf(&out, "%s: %s\n", r.e.clock.Now().Format(time.DateOnly), formatLifecycleReport(rep))
			for line := range strings.Lines(r.state(t, ctx, b) + "\n") {
				out.WriteString("  " + line)
			}
		}
		fmt.Fprintf(&out, "now %s", r.e.clock.Now().Format(time.DateOnly))
		return out.String()
	case "list-versions", "list-uploads", "state":
		return r.state(t, ctx, b)
	case "sweep":
		rep, err := s.Sweep(ctx)
		if err != nil {
			return fail(err)
		}
		if _, err := s.SweepOrphans(ctx, time.Now().Add(time.Hour)); err != nil {
			return fail(err)
		}
		chk, err := s.Check(ctx)
		if err != nil {
			return fail(err)
		}
		if len(chk.Problems) > 0 {
			return strings.Join(chk.Problems, "\n")
		}
		return fmt.Sprintf("freed=%d versions=%d", rep.Deleted, chk.Versions)
	case "restart":
		r.e.restart()
		return "ok"
	}
	t.Fatalf("unknown command %q", d.Cmd)
	return ""
}

func (r *lifecycleRunner) upload(t *testing.T, name string) *cellar.MultipartUpload {
	u := r.uploads[name]
	if u == nil {
		t.Fatalf("no upload %q", name)
	}
	// Go through the current store: the test may have restarted it.
	u, err := r.e.s.Bucket("bkt").MultipartUpload(context.Background(), u.Key(), u.ID())
	if err != nil {
		// Gone: hand back a handle that reports it.
		return r.uploads[name]
	}
	return u
}

// state lists the bucket's versions (newest first per key) and uploads.
func (r *lifecycleRunner) state(t *testing.T, ctx context.Context, b *cellar.Bucket) string {
	var out strings.Builder
	for v, err := range b.Versions(ctx, nil) {
		if err != nil {
			return lifecycleErrName(err, r.syms.sym)
		}
		kind := "version"
		if v.DeleteMarker {
			kind = "marker "
		}
		latest := ""
		if v.IsLatest {
			latest = " latest"
		}
		class := ""
		if !v.DeleteMarker && v.StorageClass != cellar.StorageClassStandard {
			class = " class=" + v.StorageClass
		}
		fmt.Fprintf(&out, "%s %s %s size=%d modified=%s%s%s\n", kind, v.Key, r.syms.sym(v.VersionID), v.Size, v.LastModified.Format("2006-01-02T15:04"), latest, class)
	}
	for u, err := range b.Uploads(ctx, nil) {
		if err != nil {
			return lifecycleErrName(err, r.syms.sym)
		}
		name := r.names[u.UploadID]
		fmt.Fprintf(&out, "upload %s %s initiated=%s\n", u.Key, name, u.Initiated.Format("2006-01-02T15:04"))
	}
	if out.Len() == 0 {
		return "(empty)"
	}
	return strings.TrimSuffix(out.String(), "\n")
}

// formatHead prints what Head says of storage class, restore and
// expiration.
func formatHead(info cellar.ObjectInfo) string {
	out := fmt.Sprintf("class=%s", info.StorageClass)
	if st := info.Restore; st != nil {
		if st.Ongoing {
			out += " restore=ongoing"
		} else {
			out += " restored-until=" + st.Expiry.Format(time.RFC3339)
		}
	}
	if e := info.Expiration; e != nil {
		out += fmt.Sprintf(" expires=%s rule=%s", e.Date.Format(time.RFC3339), e.RuleID)
	}
	return out
}

// formatUsage prints a usage report, one line per bucket and class.
func formatUsage(u cellar.Usage) string {
	var out strings.Builder
	line := func(bucket string, c cellar.ClassUsage) {
		class := c.StorageClass
		if c.Tier != "" {
			class += "/" + c.Tier
		}
		// StoredBytes depends on the shard counts, which the test varies;
		// TestArchivePolicy checks it.
		fmt.Fprintf(&out, "%s %s objects=%d logical=%d cost=%.9f\n", bucket, class, c.Objects, c.LogicalBytes, c.MonthlyCost)
	}
	for _, b := range u.Buckets {
		for _, c := range b.Classes {
			line(b.Bucket, c)
		}
	}
	for _, c := range u.Total {
		line("total", c)
	}
	if out.Len() == 0 {
		return "(empty)"
	}
	return strings.TrimSuffix(out.String(), "\n")
}

func formatLifecycleReport(rep cellar.LifecycleReport) string {
	var parts []string
	for _, f := range []struct {
		name string
		n    int
	}{
		{"expired", rep.Expired}, {"markers-added", rep.DeleteMarkersAdded}, {"noncurrent-removed", rep.NoncurrentRemoved},
		{"markers-removed", rep.DeleteMarkersRemoved}, {"uploads-aborted", rep.UploadsAborted},
		{"transitioned", rep.Transitioned}, {"failed", rep.Failed},
	} {
		if f.n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", f.name, f.n))
		}
	}
	if len(parts) == 0 {
		return "nothing due"
	}
	return strings.Join(parts, " ")
}

func parseTags(s string) map[string]string {
	if s == "" {
		return nil
	}
	tags := map[string]string{}
	for _, kv := range strings.Split(s, "&") {
		k, v, _ := strings.Cut(kv, "=")
		tags[k] = v
	}
	return tags
}

func lifecycleErrName(err error, sym func(string) string) string {
	switch {
	case errors.Is(err, cellar.ErrMalformedLifecycle):
		return "error: MalformedXML: " + err.Error()
	case errors.Is(err, cellar.ErrInvalidLifecycle):
		return "error: InvalidArgument: " + err.Error()
	case errors.Is(err, cellar.ErrNoSuchLifecycleConfiguration):
		return "error: NoSuchLifecycleConfiguration"
	case errors.Is(err, cellar.ErrNotImplemented):
		return "error: NotImplemented: " + err.Error()
	case errors.Is(err, cellar.ErrNoSuchUpload):
		return "error: NoSuchUpload"
	case errors.Is(err, cellar.ErrInvalidObjectState):
		return "error: InvalidObjectState"
	case errors.Is(err, cellar.ErrRestoreAlreadyInProgress):
		return "error: RestoreAlreadyInProgress"
	case errors.Is(err, cellar.ErrInvalidStorageClass):
		return "error: InvalidStorageClass"
	}
	return errName(err, sym)
}

// TestLifecycleRestart closes the store with work queued and opens it
// again with the clock past the due time: the work is still done.
func TestLifecycleRestart(t *testing.T) {
	ctx := context.Background()
	e := newLifecycleEnv(t, nil)
	if err := e.s.CreateBucket(ctx, "bkt", &cellar.BucketOptions{Versioning: cellar.VersioningEnabled}); err != nil {
		t.Fatal(err)
	}
	c, err := cellar.ParseLifecycle([]byte(`{"Rules": [{"ID": "r", "Status": "Enabled", "Filter": {},
		"Expiration": {"Days": 10}, "NoncurrentVersionExpiration": {"NoncurrentDays": 5}, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 3}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	b := e.s.Bucket("bkt")
	if err := b.SetLifecycle(ctx, c); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := b.Put(ctx, fmt.Sprintf("k%02d", i), strings.NewReader("v1"), nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Put(ctx, "k00", strings.NewReader("v2"), nil); err != nil {
		t.Fatal(err)
	}
	u, err := b.CreateMultipartUpload(ctx, "big", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.UploadPart(ctx, 1, strings.NewReader("part"), nil); err != nil {
		t.Fatal(err)
	}
	// Nothing is due yet.
	if rep, err := e.s.RunLifecycle(ctx); err != nil || rep != (cellar.LifecycleReport{}) {
		t.Fatalf("run before due: %+v, %v", rep, err)
	}
	e.restart()
	e.clock.Set(time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC)) // the midnight after day 10
	rep, err := e.s.RunLifecycle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := cellar.LifecycleReport{DeleteMarkersAdded: 20, NoncurrentRemoved: 1, UploadsAborted: 1}
	if rep != want {
		t.Fatalf("after restart: %+v, want %+v", rep, want)
	}
	// The versions made noncurrent by the markers go 5 days on, after
	// another restart; then the lone markers stay (no rule removes them).
	e.restart()
	e.clock.Set(time.Date(2026, 1, 18, 0, 0, 0, 0, time.UTC))
	rep, err = e.s.RunLifecycle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (cellar.LifecycleReport{NoncurrentRemoved: 20}); rep != want {
		t.Fatalf("noncurrent: %+v, want %+v", rep, want)
	}
	// Expiration Days removes expired object delete markers too, Days after
	// they were made.
	e.clock.Set(time.Date(2026, 1, 23, 0, 0, 0, 0, time.UTC))
	rep, err = e.s.RunLifecycle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (cellar.LifecycleReport{DeleteMarkersRemoved: 20}); rep != want {
		t.Fatalf("markers: %+v, want %+v", rep, want)
	}
	page, err := e.s.Bucket("bkt").ListVersions(ctx, nil)
	if err != nil || len(page.Versions) != 0 {
		t.Fatalf("left: %+v, %v", page, err)
	}
	assertNoGarbage(t, e.s)
}

// TestLifecycleBackgroundRunner lets the background runner do the work.
func TestLifecycleBackgroundRunner(t *testing.T) {
	ctx := context.Background()
	e := newLifecycleEnv(t, func(o *cellar.Options) { o.LifecycleInterval = 5 * time.Millisecond })
	b := newBucket(t, e.s, "bkt")
	c := &cellar.LifecycleConfig{Rules: []cellar.LifecycleRule{{Status: cellar.LifecycleEnabled, Expiration: &cellar.LifecycleExpiration{Days: 1}}}}
	if err := b.SetLifecycle(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := b.Lifecycle(ctx)
	if err != nil || len(got.Rules[0].ID) == 0 {
		t.Fatalf("stored rule without a generated ID: %v, %v", got, err)
	}
	if _, err := b.Put(ctx, "k", strings.NewReader("x"), nil); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC))
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := b.Head(ctx, "k", nil); errors.Is(err, fs.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the background runner did not expire the object")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestLifecycleConcurrentWrites runs RunLifecycle while keys are written:
// every key ends as its last write and the rules say, and the store is
// consistent.
func TestLifecycleConcurrentWrites(t *testing.T) {
	ctx := context.Background()
	e := newLifecycleEnv(t, nil)
	if err := e.s.CreateBucket(ctx, "bkt", &cellar.BucketOptions{Versioning: cellar.VersioningEnabled}); err != nil {
		t.Fatal(err)
	}
	b := e.s.Bucket("bkt")
	c := &cellar.LifecycleConfig{Rules: []cellar.LifecycleRule{{ID: "r", Status: cellar.LifecycleEnabled, Filter: &cellar.LifecycleFilter{},
		Expiration: &cellar.LifecycleExpiration{Days: 1}, NoncurrentVersionExpiration: &cellar.LifecycleNoncurrentExpiration{NoncurrentDays: 1, NewerNoncurrentVersions: 1}}}}
	if err := b.SetLifecycle(ctx, c); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 30 {
				key := fmt.Sprintf("k%d", (w*7+i)%10)
				if i%5 == 4 {
					b.Delete(ctx, key, nil)
				} else if _, err := b.Put(ctx, key, strings.NewReader("x"), nil); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Go(func() {
		for day := 2; day < 12; day++ {
			e.clock.Set(time.Date(2026, 1, day, 0, 0, 0, 0, time.UTC))
			if _, err := e.s.RunLifecycle(ctx); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	// Long after, every key has at most its lone delete marker left, or
	// nothing: expired, noncurrent versions past the newest kept, ...
	e.clock.Set(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	for range 3 {
		if _, err := e.s.RunLifecycle(ctx); err != nil {
			t.Fatal(err)
		}
		e.clock.Set(e.clock.Now().Add(48 * time.Hour))
	}
	counts := map[string]int{}
	for v, err := range b.Versions(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		counts[v.Key]++
		if !v.DeleteMarker && v.IsLatest {
			t.Errorf("%s %s is still current", v.Key, v.VersionID)
		}
	}
	var keys []string
	for k, n := range counts {
		if n > 2 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if len(keys) > 0 {
		t.Errorf("keys with more than a marker and the one noncurrent version kept: %v", keys)
	}
	assertNoGarbage(t, e.s)
}

// TestLifecycleNoScan: a run with nothing due reads no bucket.
func TestLifecycleNoScan(t *testing.T) {
	ctx := context.Background()
	e := newLifecycleEnv(t, nil)
	b := newBucket(t, e.s, "bkt")
	if err := b.SetLifecycle(ctx, &cellar.LifecycleConfig{Rules: []cellar.LifecycleRule{{ID: "r", Status: cellar.LifecycleEnabled, Expiration: &cellar.LifecycleExpiration{Days: 30}}}}); err != nil {
		t.Fatal(err)
	}
	for i := range 500 {
		if _, err := b.Put(ctx, fmt.Sprintf("k%04d", i), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	// Nothing is due: runs act on nothing. (That they read no bucket is
	// the due queue's design: a run seeks to the first due item only.)
	for range 3 {
		if rep, err := e.s.RunLifecycle(ctx); err != nil || rep != (cellar.LifecycleReport{}) {
			t.Fatalf("%+v %v", rep, err)
		}
	}
	e.clock.Set(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	if rep, err := e.s.RunLifecycle(ctx); err != nil || rep.Expired != 500 {
		t.Fatalf("%+v %v", rep, err)
	}
}

// TestLifecycleErrors covers the API's own errors.
func TestLifecycleErrors(t *testing.T) {
	ctx := context.Background()
	e := newLifecycleEnv(t, nil)
	b := newBucket(t, e.s, "bkt")
	if _, err := b.Lifecycle(ctx); !errors.Is(err, cellar.ErrNoSuchLifecycleConfiguration) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Lifecycle of a bucket without one: %v", err)
	}
	if err := b.DeleteLifecycle(ctx); err != nil {
		t.Errorf("DeleteLifecycle of a bucket without one: %v", err)
	}
	if err := b.SetLifecycle(ctx, nil); !errors.Is(err, cellar.ErrInvalidArgument) {
		t.Errorf("nil config: %v", err)
	}
	if err := e.s.Bucket("nope").SetLifecycle(ctx, &cellar.LifecycleConfig{Rules: []cellar.LifecycleRule{{Status: "Enabled", Expiration: &cellar.LifecycleExpiration{Days: 1}}}}); !errors.Is(err, cellar.ErrNoSuchBucket) {
		t.Errorf("missing bucket: %v", err)
	}
	tr := &cellar.LifecycleConfig{Rules: []cellar.LifecycleRule{{ID: "t", Status: "Enabled", Transitions: []cellar.LifecycleTransition{{Days: 30, StorageClass: "STANDARD_IA"}}}}}
	if err := b.SetLifecycle(ctx, tr); err != nil {
		t.Errorf("transition: %v", err)
	}
	tr.Rules[0].Transitions[0].StorageClass = "COLD"
	if err := b.SetLifecycle(ctx, tr); !errors.Is(err, cellar.ErrInvalidLifecycle) || !strings.Contains(err.Error(), "StorageClass") {
		t.Errorf("transition to an unknown class: %v", err)
	}
	e.s.Close()
	if _, err := e.s.RunLifecycle(ctx); !errors.Is(err, cellar.ErrClosed) {
		t.Errorf("closed: %v", err)
	}
	e.s = nil
}

func ExampleBucket_SetLifecycle() {
	ctx := context.Background()
	clock := &testClock{now: time.Date(2026, 1, 1, 15, 0, 0, 0, time.UTC)}
	st, err := cellar.OpenMemory(ctx, &cellar.Options{Clock: clock.Now, LifecycleInterval: -1})
	if err != nil {
		panic(err)
	}
	defer st.Close()
	if err := st.CreateBucket(ctx, "logs", nil); err != nil {
		panic(err)
	}
	b := st.Bucket("logs")
	cfg, err := cellar.ParseLifecycle([]byte(`{"Rules": [
		{"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}}]}`))
	if err != nil {
		panic(err)
	}
	if err := b.SetLifecycle(ctx, cfg); err != nil {
		panic(err)
	}
	if _, err := b.Put(ctx, "tmp/scratch", strings.NewReader("x"), nil); err != nil {
		panic(err)
	}
	// Made 2026-01-01T15:00Z, one day to live: due at 2026-01-03T00:00Z.
	for _, t := range []time.Time{
		time.Date(2026, 1, 2, 23, 59, 0, 0, time.UTC),
		time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC),
	} {
		clock.Set(t)
		rep, err := st.RunLifecycle(ctx)
		if err != nil {
			panic(err)
		}
		fmt.Println(t.Format(time.RFC3339), "expired:", rep.Expired)
	}
	// Output:
	// 2026-01-02T23:59:00Z expired: 0
	// 2026-01-03T00:00:00Z expired: 1
}
