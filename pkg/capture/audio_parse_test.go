package capture

import (
	"errors"
	"testing"
	"time"
)

func TestParseAudio(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want AudioSource
		ok   bool
	}{
		{"test", AudioSource{Kind: AudioTest}, true},
		{"test:late=300ms", AudioSource{Kind: AudioTest, BeepLate: 300 * time.Millisecond}, true},
		{"test:mic", AudioSource{}, false},
		{"test:late=20ms,mic", AudioSource{}, false},
		{"test:late=1s", AudioSource{}, false},
		{"test:late=-5ms", AudioSource{}, false},
		{"test:late=soon", AudioSource{}, false},
		{"test:loud", AudioSource{}, false},
		{"test:", AudioSource{}, false},
		{"mic:usb", AudioSource{Kind: AudioMic, Arg: "usb"}, true},
		{"none", AudioSource{Kind: AudioNone}, true},
	} {
		got, err := ParseAudio(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseAudio(%q) = %+v, %v; want %+v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrBadAudio) {
			t.Errorf("ParseAudio(%q) error %v does not wrap ErrBadAudio", tc.in, err)
		}
		if err == nil {
			if back, err := ParseAudio(got.String()); err != nil || back != got {
				t.Errorf("ParseAudio(%q).String() = %q, which parses as %+v, %v", tc.in, got.String(), back, err)
			}
		}
	}
}
