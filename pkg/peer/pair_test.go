package peer

import (
	"testing"

	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/pkg/codec"
	"github.com/p2pcam/p2pcam/pkg/vp8"
)

// TestPairString checks the route as people read it: HOST:PORT, with IPv6
// hosts in brackets so that the port does not run into the address.
func TestPairString(t *testing.T) {
	cand := func(typ webrtc.ICECandidateType, addr string, port uint16) webrtc.ICECandidate {
		return webrtc.ICECandidate{Typ: typ, Protocol: webrtc.ICEProtocolUDP, Address: addr, Port: port}
	}
	host := webrtc.ICECandidateTypeHost
	tests := []struct {
		name string
		pair Pair
		want string
	}{
		{"IPv4", Pair{cand(host, "127.0.0.1", 50000), cand(host, "127.0.0.1", 50001)}, "host/udp 127.0.0.1:50000 <-> 127.0.0.1:50001"},
		{"IPv6", Pair{cand(host, "fd00::1", 51000), cand(host, "fd00::2", 40574)}, "host/udp [fd00::1]:51000 <-> [fd00::2]:40574"},
		{"IPv6 link-local with a zone", Pair{cand(host, "fe80::1%eth0", 1), cand(host, "fe80::2", 2)}, "host/udp [fe80::1%eth0]:1 <-> [fe80::2]:2"},
		{"mDNS name", Pair{cand(host, "8c5c.local", 3), cand(webrtc.ICECandidateTypeSrflx, "198.51.100.7", 4)}, "srflx/udp 8c5c.local:3 <-> 198.51.100.7:4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.pair.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// vp8Codecs is the codec list of the tests' peers.
func vp8Codecs() []codec.Descriptor { return []codec.Descriptor{vp8.Descriptor} }

// videoKinds asks for video.
func videoKinds() []codec.Kind { return []codec.Kind{codec.Video} }
