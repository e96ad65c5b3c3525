//go:build cgo

package opus

import (
	"testing"
)

// FuzzDecode feeds arbitrary packets to HasFEC, Decode and DecodeFEC:
// they must return samples or an error, never crash, and a decoded packet must hold
// as many samples as PacketSamples (our TOC parser) and libopus agree on.
func FuzzDecode(f *testing.F) {
	enc, err := NewEncoder(Params{PacketLoss: 20})
	if err != nil {
		f.Fatal(err)
	}
	defer enc.Close()
	for i := range 3 {
		p, err := enc.Encode(tone(1000, 0.5, i*FrameSamples, FrameSamples))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p)
	}
	f.Add([]byte{0xfc, 0xff, 0xfe})
	f.Add([]byte{1<<3 | 3, 0x86, 0x05, 1, 2, 3})
	f.Add([]byte{16<<3 | 2, 0xfc, 0xff, 0x00})
	f.Fuzz(func(t *testing.T, packet []byte) {
		dec, err := NewDecoder()
		if err != nil {
			t.Fatal(err)
		}
		defer dec.Close()
		_ = HasFEC(packet) // must not crash on any input
		ours, ourErr := PacketSamples(packet)
		if len(packet) > 0 {
			// libopus counts a code 3 packet of zero frames as 0
			// samples; RFC 6716 §3.2.5 (R5) makes it invalid, as
			// PacketSamples says and opus_decode agrees.
			theirs, theirErr := packetSamples(packet)
			theirOK := theirErr == nil && theirs > 0
			if (ourErr == nil) != theirOK || (ourErr == nil && ours != theirs) {
				t.Fatalf("PacketSamples(% x) = %d, %v; libopus says %d, %v", packet, ours, ourErr, theirs, theirErr)
			}
		}
		pcm, err := dec.Decode(packet)
		if err == nil && len(pcm) != ours {
			t.Fatalf("Decode gave %d samples, PacketSamples says %d", len(pcm), ours)
		}
		if ourErr == nil && ours <= MaxPacketSamples {
			if _, err := dec.DecodeFEC(packet, FrameSamples); err != nil {
				t.Logf("DecodeFEC: %v", err) // an error is fine, a crash is not
			}
		}
	})
}
