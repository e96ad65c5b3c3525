package peer

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// TestCaptureLagsFixSenderReports: a report of a track with a capture
// lag has that lag added to its RTP time at the track's clock rate;
// other reports, other packets and the packets given are left alone.
func TestCaptureLagsFixSenderReports(t *testing.T) {
	var c captureLags
	c.add(1, 48000, func() time.Duration { return 20 * time.Millisecond })
	c.add(2, 90000, func() time.Duration { return 5 * time.Millisecond })
	c.add(3, 90000, func() time.Duration { return 0 })
	in := []rtcp.Packet{
		&rtcp.SenderReport{SSRC: 1, RTPTime: 1000, NTPTime: 7},
		&rtcp.SenderReport{SSRC: 2, RTPTime: 0xffffff00},
		&rtcp.SenderReport{SSRC: 3, RTPTime: 50},
		&rtcp.SenderReport{SSRC: 4, RTPTime: 60},
		&rtcp.PictureLossIndication{MediaSSRC: 1},
	}
	out := c.fix(in)
	want := []uint32{1000 + 960, 450 - 256, 50, 60} // the second wraps
	for i, w := range want {
		if got := out[i].(*rtcp.SenderReport).RTPTime; got != w {
			t.Errorf("report %d: RTP time %d; want %d", i, got, w)
		}
	}
	if out[0].(*rtcp.SenderReport).NTPTime != 7 || out[4] != in[4] {
		t.Errorf("fix changed more than the RTP times: %v", out)
	}
	if in[0].(*rtcp.SenderReport).RTPTime != 1000 {
		t.Errorf("fix changed the report it was given")
	}
	plain := []rtcp.Packet{&rtcp.SenderReport{SSRC: 4}}
	if got := c.fix(plain); &got[0] != &plain[0] {
		t.Errorf("fix copied packets it had nothing to correct")
	}
}
