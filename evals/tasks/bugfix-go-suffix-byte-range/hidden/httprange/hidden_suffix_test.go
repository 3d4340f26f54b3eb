package httprange

import (
	"errors"
	"reflect"
	"testing"
)

func TestHiddenSuffixRanges(t *testing.T) {
	const size = 10000
	cases := []struct {
		header string
		want   []Range
	}{
		{"bytes=-500", []Range{{9500, 9999}}},
		{"bytes=-1", []Range{{9999, 9999}}},
		{"bytes=-20000", []Range{{0, 9999}}},
		{"bytes=0-99,-100", []Range{{0, 99}, {9900, 9999}}},
		{"bytes=0-499", []Range{{0, 499}}},
		{"bytes=500-", []Range{{500, 9999}}},
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

func TestHiddenSuffixOfZeroIsUnsatisfiable(t *testing.T) {
	if _, err := Parse("bytes=-0", 10000); !errors.Is(err, ErrUnsatisfiable) {
		t.Errorf("Parse(bytes=-0): %v, want ErrUnsatisfiable", err)
	}
	if got, err := Parse("bytes=-500", 300); err != nil || !reflect.DeepEqual(got, []Range{{0, 299}}) {
		t.Errorf("Parse(bytes=-500) of a 300-byte file = %v, %v", got, err)
	}
}
