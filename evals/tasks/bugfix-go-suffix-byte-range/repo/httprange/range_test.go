package httprange

import (
	"errors"
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	const size = 10000
	cases := []struct {
		header string
		want   []Range
	}{
		{"bytes=0-499", []Range{{0, 499}}},
		{"bytes=500-", []Range{{500, 9999}}},
		{"bytes=9500-20000", []Range{{9500, 9999}}},
		{"bytes=0-99, 200-299", []Range{{0, 99}, {200, 299}}},
		{"bytes=0-0,20000-", []Range{{0, 0}}},
	}
	for _, c := range cases {
		got, err := Parse(c.header, size)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.header, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("Parse(%q) = %v, want %v", c.header, got, c.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, header := range []string{"items=0-1", "bytes=5", "bytes=-", "bytes=9-3", "bytes=a-b"} {
		if _, err := Parse(header, 100); err == nil {
			t.Errorf("Parse(%q) succeeded, want an error", header)
		}
	}
	if _, err := Parse("bytes=200-", 100); !errors.Is(err, ErrUnsatisfiable) {
		t.Errorf("Parse past the end: %v, want ErrUnsatisfiable", err)
	}
}

func TestContentRange(t *testing.T) {
	r := Range{Start: 0, End: 499}
	if got := r.ContentRange(10000); got != "bytes 0-499/10000" {
		t.Errorf("ContentRange = %q", got)
	}
	if r.Length() != 500 {
		t.Errorf("Length = %d", r.Length())
	}
}
