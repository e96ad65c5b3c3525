package peer

import (
	"testing"

	"github.com/pion/rtcp"
)

// TestKeyFrameRequestsRouteBySSRC: a PLI or FIR reaches the track whose
// SSRC it names, one naming no track reaches every track, and the
// feedback is counted per SSRC.
func TestKeyFrameRequestsRouteBySSRC(t *testing.T) {
	tests := []struct {
		name       string
		pkt        rtcp.Packet
		want1      int // requests track 1 gets
		want2      int // requests track 2 gets
		ssrc       uint32
		plis, firs uint64
	}{
		{name: "PLI for track 2", pkt: &rtcp.PictureLossIndication{MediaSSRC: 2}, want2: 1, ssrc: 2, plis: 1},
		{name: "FIR for track 1", pkt: &rtcp.FullIntraRequest{FIR: []rtcp.FIREntry{{SSRC: 1}}}, want1: 1, ssrc: 1, firs: 1},
		{name: "PLI for no track", pkt: &rtcp.PictureLossIndication{MediaSSRC: 9}, want1: 1, want2: 1, ssrc: 9, plis: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got1, got2 int
			p := &Peer{keyFrames: map[uint32]func(){1: func() { got1++ }, 2: func() { got2++ }}}
			w := newWatcher(p.keyFrame)
			w.observe([]rtcp.Packet{tt.pkt})
			if got1 != tt.want1 || got2 != tt.want2 {
				t.Errorf("track 1 got %d requests, track 2 %d; want %d and %d", got1, got2, tt.want1, tt.want2)
			}
			if c := w.countersFor(tt.ssrc); c.PLIs != tt.plis || c.FIRs != tt.firs {
				t.Errorf("counters for SSRC %d = %+v; want %d PLIs, %d FIRs", tt.ssrc, c, tt.plis, tt.firs)
			}
		})
	}
}
