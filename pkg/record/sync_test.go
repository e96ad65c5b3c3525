package record

import (
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/testcodec"
	"github.com/p2pcam/p2pcam/internal/testutil"
	"github.com/p2pcam/p2pcam/pkg/vp8"
)

// TestSenderReportsSync records video and audio captured together whose
// audio arrives 100 ms after the video: placed by arrival, the audio is
// 100 ms late in the file; once both streams' sender reports are in (they
// pair each stream's RTP clock with the sender's wall clock), the audio
// is moved back onto its capture time, and frames the move put before
// frames already written are dropped, not bunched. A report of another
// SSRC than the track's is ignored.
func TestSenderReportsSync(t *testing.T) {
	testutil.NeedFFmpeg(t)
	frames := testutil.ReadIVF(t, fixture320) // 90 frames, 3 s
	const skew = 100 * time.Millisecond
	capture := time.Unix(1_700_000_000, 0) // the sender's clock at the first frames
	for _, tc := range []struct {
		name      string
		reports   bool
		wrongSSRC bool
		lastAudio float64 // s, the last audio frame's time in the file
	}{
		{name: "arrival only", lastAudio: 2.98 + skew.Seconds()},
		{name: "sender reports", reports: true, lastAudio: 2.98},
		{name: "reports of another stream", reports: true, wrongSSRC: true, lastAudio: 2.98 + skew.Seconds()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSink(t, false, ".webm")
			r, err := New(s.w, Options{Tracks: []Track{{Codec: vp8.Descriptor}, {Codec: testcodec.Audio}}})
			if err != nil {
				t.Fatal(err)
			}
			video, audio := videoPackets(frames, 0), audioPackets(150, skew, 1)
			as := append(video, audio...)
			if tc.reports {
				v, a := video[0].p, audio[0].p
				ssrc := a.SSRC
				if tc.wrongSSRC {
					ssrc++
				}
				// Reports a while after the first packets, for the
				// instants the first frames were captured.
				as = append(as,
					arrival{at: 50 * time.Millisecond, sr: func(r *Recorder) { r.SenderReport(0, v.SSRC, capture, v.Timestamp) }},
					arrival{at: skew + time.Millisecond, sr: func(r *Recorder) { r.SenderReport(1, ssrc, capture, a.Timestamp) }},
				)
			}
			feedArrivals(t, r, as)
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			s.done()
			_, pkts := probePackets(t, s.path, nil)
			var last float64
			prev := -1.0
			for _, p := range pkts {
				if p.stream == 1 {
					if p.pts <= prev {
						t.Fatalf("audio at %.3f s after audio at %.3f s", p.pts, prev)
					}
					last, prev = p.pts, p.pts
				}
			}
			if last < tc.lastAudio-0.0015 || last > tc.lastAudio+0.0015 {
				t.Errorf("last audio frame at %.3f s; want %.3f s", last, tc.lastAudio)
			}
		})
	}
}
