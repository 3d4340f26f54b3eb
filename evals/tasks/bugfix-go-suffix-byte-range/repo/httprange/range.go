// Package httprange reads the Range header of a request for part of a media file (RFC 9110 §14).
package httprange

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Range is the bytes Start through End of a file, both included.
type Range struct {
	Start, End int64
}

// Length is the number of bytes the range covers.
func (r Range) Length() int64 { return r.End - r.Start + 1 }

// ContentRange is the Content-Range header value that answers the range.
func (r Range) ContentRange(size int64) string {
	return fmt.Sprintf("bytes %d-%d/%d", r.Start, r.End, size)
}

// ErrUnsatisfiable means no range of the header overlaps the file: the answer is 416.
var ErrUnsatisfiable = errors.New("httprange: no range overlaps the file")

// Parse reads a header such as "bytes=0-499", "bytes=500-", "bytes=-500" (the last 500 bytes)
// or "bytes=0-99,200-299" for a file of size bytes. Ranges past the end are clamped to the file;
// ranges that start past the end are left out, and ErrUnsatisfiable is returned when none is left.
func Parse(header string, size int64) ([]Range, error) {
	spec := strings.TrimSpace(header)
	if !strings.HasPrefix(spec, "bytes=") {
		return nil, fmt.Errorf("httprange: unsupported unit in %q", header)
	}
	spec = strings.TrimPrefix(spec, "bytes=")
	var ranges []Range
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		first, last, found := strings.Cut(part, "-")
		if !found {
			return nil, fmt.Errorf("httprange: %q has no '-'", part)
		}
		var r Range
		switch {
		case first == "" && last == "":
			return nil, fmt.Errorf("httprange: %q is empty", part)
		case first == "":
			n, err := parseOffset(last)
			if err != nil {
				return nil, err
			}
			r = Range{Start: 0, End: n}
		default:
			start, err := parseOffset(first)
			if err != nil {
				return nil, err
			}
			end := size - 1
			if last != "" {
				if end, err = parseOffset(last); err != nil {
					return nil, err
				}
				if end < start {
					return nil, fmt.Errorf("httprange: %q ends before it starts", part)
				}
			}
			r = Range{Start: start, End: end}
		}
		if r.Start >= size {
			continue
		}
		if r.End >= size {
			r.End = size - 1
		}
		ranges = append(ranges, r)
	}
	if len(ranges) == 0 {
		return nil, ErrUnsatisfiable
	}
	return ranges, nil
}

func parseOffset(text string) (int64, error) {
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("httprange: %q is not a byte offset", text)
	}
	return n, nil
}
