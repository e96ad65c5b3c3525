package record

import (
	"errors"
	"strings"
	"testing"
)

func TestFormatForPath(t *testing.T) {
	for _, tc := range []struct {
		path string
		want Format
		err  bool
	}{
		{"out.webm", FormatWebM, false},
		{"/tmp/Video.WEBM", FormatWebM, false},
		{"a.b/out.ivf", FormatIVF, false},
		{"out.mp4", 0, true},
		{"out", 0, true},
		{"-", 0, true},
		{"a.webm/out", 0, true},
	} {
		got, err := FormatForPath(tc.path)
		if tc.err {
			if !errors.Is(err, ErrUnsupportedFormat) || !strings.Contains(err.Error(), ".webm") {
				t.Errorf("FormatForPath(%q) = %v, %v; want ErrUnsupportedFormat naming .webm", tc.path, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("FormatForPath(%q) = %v, %v; want %v", tc.path, got, err, tc.want)
		}
	}
}
