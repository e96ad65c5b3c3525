package cli

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"
)

func TestParseBitrate(t *testing.T) {
	tests := []struct {
		in      string
		want    int
		wantErr string
	}{
		{"800k", 800_000, ""},
		{"2.5M", 2_500_000, ""},
		{"2.5m", 2_500_000, ""},
		{"1500000", 1_500_000, ""},
		{"900kbps", 900_000, ""},
		{" 1M ", 1_000_000, ""},
		{"fast", 0, "bad bitrate"},
		{"", 0, "bad bitrate"},
		{"10", 0, "out of range"},
		{"100M", 0, "out of range"},
		{"NaN", 0, "bad bitrate"},
		{"-1M", 0, "out of range"},
	}
	for _, tc := range tests {
		got, err := parseBitrate(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("parseBitrate(%q) error = %v; want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseBitrate(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestParseICEServers(t *testing.T) {
	tests := []struct {
		name       string
		urls       []string
		user, pass string
		want       []webrtc.ICEServer
		wantErr    string
	}{
		{"none", []string{"none"}, "", "", nil, ""},
		{"stun", []string{"stun:stun.example.org:3478"}, "", "", []webrtc.ICEServer{{URLs: []string{"stun:stun.example.org:3478"}}}, ""},
		{"turn with flags", []string{"turn:turn.example.org:3478?transport=tcp"}, "alice", "s3cret", []webrtc.ICEServer{{URLs: []string{"turn:turn.example.org:3478?transport=tcp"}, Username: "alice", Credential: "s3cret"}}, ""},
		{"turn inline", []string{"turn:alice:s%40cret@198.51.100.7:3478"}, "", "", []webrtc.ICEServer{{URLs: []string{"turn:198.51.100.7:3478"}, Username: "alice", Credential: "s@cret"}}, ""},
		{"stun and turn", []string{"stun:a.example:19302", "turn:u:p@b.example:3478?transport=udp"}, "", "", []webrtc.ICEServer{{URLs: []string{"stun:a.example:19302"}}, {URLs: []string{"turn:b.example:3478?transport=udp"}, Username: "u", Credential: "p"}}, ""},
		{"turn without credentials", []string{"turn:turn.example.org:3478"}, "", "", nil, "needs credentials"},
		{"http", []string{"http://example.org"}, "", "", nil, "use a stun: or turn: URL"},
		{"bad port", []string{"stun:example.org:99999"}, "", "", nil, "bad port"},
		{"no host", []string{"stun::3478"}, "", "", nil, "missing host"},
		{"none mixed", []string{"stun:a.example:1", "none"}, "", "", nil, "none must be the only"},
		{"bad option", []string{"turn:u:p@h.example:3478?proto=x"}, "", "", nil, "the only option"},
		{"stun credentials", []string{"stun:u:p@h.example:3478"}, "", "", nil, "takes no credentials"},
		{"empty", []string{"stun:"}, "", "", nil, "bad ICE server"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseICEServers(tc.urls, tc.user, tc.pass)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v; want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestFormatBitrateRoundTrips(t *testing.T) {
	for _, bps := range []int{1_500_000, 2_500_000, 800_000, 150_000, 20_000_000} {
		s := formatBitrate(bps)
		got, err := parseBitrate(s)
		if err != nil || got != bps {
			t.Errorf("formatBitrate(%d) = %q, which parses to %d, %v", bps, s, got, err)
		}
	}
}
