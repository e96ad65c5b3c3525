package signal

import (
	"os"
	"testing"

	"github.com/pion/webrtc/v4"
)

// BenchmarkCompact encodes and decodes a version 1 blob (offer-8, many
// candidates) and a version 2 one (offer-av, with sound).
func BenchmarkCompact(b *testing.B) {
	for _, name := range []string{"offer-8", "offer-av"} {
		raw, err := os.ReadFile("testdata/sdp/" + name + ".sdp")
		if err != nil {
			b.Fatal(err)
		}
		sd := webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(raw)}
		blob, err := Encode(sd, FormatCompact)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name+"/Encode", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Encode(sd, FormatCompact); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/Decode", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Decode(blob); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
