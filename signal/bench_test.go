package signal

import (
	"os"
	"testing"

	"github.com/pion/webrtc/v4"
)

func BenchmarkCompact(b *testing.B) {
	raw, err := os.ReadFile("testdata/sdp/offer-8.sdp")
	if err != nil {
		b.Fatal(err)
	}
	sd := webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(raw)}
	blob, err := Encode(sd, FormatCompact)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Encode(sd, FormatCompact); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := Decode(blob); err != nil {
				b.Fatal(err)
			}
		}
	})
}
