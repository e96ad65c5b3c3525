package peer

import (
	"context"
	"testing"
	"time"
)

// TestNTPTime converts RFC 3550 NTP timestamps.
func TestNTPTime(t *testing.T) {
	for _, tc := range []struct {
		ntp  uint64
		want time.Time
	}{
		{ntp: 2208988800 << 32, want: time.Unix(0, 0)},
		{ntp: (2208988800+1_700_000_000)<<32 | 1<<31, want: time.Unix(1_700_000_000, 500_000_000)},
		{ntp: (2208988800+1)<<32 | 1<<30, want: time.Unix(1, 250_000_000)},
	} {
		if got := ntpTime(tc.ntp); !got.Equal(tc.want) {
			t.Errorf("ntpTime(%#x) = %v; want %v", tc.ntp, got, tc.want)
		}
	}
}

// TestSenderReportReachesReceiver: the receiving peer keeps the sender
// reports of the stream it receives, and what one says (RTP time at NTP
// time) matches the packets: a packet's RTP timestamp is the report's
// RTP time advanced by the time between them on the 90 kHz clock (the
// sender, on the same machine, paces its samples by the wall clock).
func TestSenderReportReachesReceiver(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, rcv, track := pair(t, ctx)
	go feed(ctx, track)
	remote := (<-rcv.Tracks()).Track
	ssrc := uint32(remote.SSRC())
	for {
		p, _, err := remote.ReadRTP()
		if err != nil {
			t.Fatalf("ReadRTP: %v", err)
		}
		at := time.Now()
		sr, ok := rcv.SenderReportFor(ssrc)
		if !ok {
			if ctx.Err() != nil {
				t.Fatal("no sender report within 20 s")
			}
			continue
		}
		if sr.Count == 0 || sr.Received.After(at) || at.Sub(sr.NTP) < 0 || at.Sub(sr.NTP) > 5*time.Second {
			t.Fatalf("report %+v read at %v: not of the last seconds of this machine's clock", sr, at)
		}
		// The packet was sent a little before it was read.
		want := sr.RTPTime + uint32(at.Sub(sr.NTP).Seconds()*90000)
		if d := int32(p.Timestamp - want); d < -90*50 || d > 90*50 {
			t.Errorf("packet's RTP time %d is %.1f ms from the report's %d at %v; want within 50 ms",
				p.Timestamp, float64(d)/90, want, at)
		}
		return
	}
}
