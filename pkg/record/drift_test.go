package record

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/p2pcam/p2pcam/internal/testcodec"
	"github.com/p2pcam/p2pcam/internal/testutil"
	"github.com/p2pcam/p2pcam/pkg/vp8"
)

// TestSenderReportsFollowDrift records a 10-minute call whose sender's
// audio clock runs 100 ppm fast against its wall clock (a microphone's
// crystal against the system clock): 48,004.8 samples a second, so the
// audio's RTP time gains 60 ms on the video's in 10 minutes. Both
// streams' sender reports (one a second, each with up to ±3 ms of
// jitter in its RTP time, as pion's pairing of a report with the last
// packet sent gives) tell the wall time. Placed by the first reports
// only, the sound drifts away from the picture; following every report,
// it stays within 5 ms of where the sender's clock puts it, and its
// frames stay in order, 20 ms apart give or take what follow moves (after
// the first reports placed it).
func TestSenderReportsFollowDrift(t *testing.T) {
	testutil.NeedFFmpeg(t)
	frames := testutil.ReadIVF(t, fixture320)
	const (
		minutes = 10
		ppm     = 100
		fps     = 5 // video frames a second: few, to keep the file small
	)
	rate := 1 + ppm*1e-6 // audio clock ticks per wall-clock tick
	capture := time.Unix(1_700_000_000, 0)
	for _, tc := range []struct {
		name       string
		everyOne   bool // every report is given, not only the first ones
		wantInSync bool
	}{
		{name: "first reports only", everyOne: false},
		{name: "every report", everyOne: true, wantInSync: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSink(t, false, ".webm")
			r, err := New(s.w, Options{Tracks: []Track{{Codec: vp8.Descriptor}, {Codec: testcodec.Audio}}})
			if err != nil {
				t.Fatal(err)
			}
			const tv0, ta0 = 1 << 31, 1_000_000
			var as []arrival
			vz := rtp.NewPacketizer(1200, 96, 0x1234, &codecs.VP8Payloader{EnablePictureID: true}, rtp.NewRandomSequencer(), 90000)
			for k := range minutes * 60 * fps {
				at := time.Duration(k) * time.Second / fps
				for _, p := range vz.Packetize(frames[k%len(frames)], 90000/fps) {
					p.Timestamp = tv0 + uint32(k*90000/fps) // #nosec G115: small
					as = append(as, arrival{at: at, track: 0, p: p})
				}
			}
			az := rtp.NewPacketizer(1200, 118, 0x5678, testcodec.Audio.NewPayloader(), rtp.NewRandomSequencer(), 48000)
			audioWall := func(j int) time.Duration { // when audio frame j was captured
				return time.Duration(float64(j) * float64(20*time.Millisecond) / rate)
			}
			na := int(float64(minutes*60*50) * rate)
			for j := range na {
				for _, p := range az.Packetize([]byte{byte(j), 1, 2, 3}, 960) {
					p.Timestamp = ta0 + uint32(j*960) // #nosec G115: small
					as = append(as, arrival{at: audioWall(j), track: 1, p: p})
				}
			}
			jitter := rand.New(rand.NewPCG(5, 6))
			vssrc, assrc := uint32(0x1234), uint32(0x5678)
			for sec := 1; sec < minutes*60; sec++ {
				if !tc.everyOne && sec > 1 {
					break
				}
				at := time.Duration(sec)*time.Second + 7*time.Millisecond
				ntp := capture.Add(at)
				jv := (jitter.Float64()*6 - 3) / 1000 // s
				ja := (jitter.Float64()*6 - 3) / 1000
				vts := tv0 + uint32((at.Seconds()+jv)*90000)      // #nosec G115: small
				ats := ta0 + uint32((at.Seconds()+ja)*48000*rate) // #nosec G115: small
				as = append(as,
					arrival{at: at, sr: func(r *Recorder) { r.SenderReport(0, vssrc, ntp, vts) }},
					arrival{at: at, sr: func(r *Recorder) { r.SenderReport(1, assrc, ntp, ats) }})
			}
			feedArrivals(t, r, as)
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			s.done()
			_, pkts := probePackets(t, s.path, nil)
			// Audio frame j's place in the file against its capture time
			// (the video's first frame, time zero, was captured at 0).
			var late, lastMin []float64
			j, prev := 0, -1.0
			for _, p := range pkts {
				if p.stream != 1 {
					continue
				}
				// (The first reports, at 1 s, move the sound once.)
				if prev >= 2 && (p.pts-prev < 0.0185 || p.pts-prev > 0.0215) {
					t.Fatalf("audio frame at %.3f s after one at %.3f s; want 20 ms apart", p.pts, prev)
				}
				prev = p.pts
				l := (p.pts - audioWall(j).Seconds()) * 1000
				late = append(late, l)
				if audioWall(j) > time.Duration(minutes-1)*time.Minute {
					lastMin = append(lastMin, l)
				}
				j++
			}
			if j < na*99/100 {
				t.Fatalf("%d audio frames in the file; want about %d", j, na)
			}
			slices.Sort(lastMin)
			lo, hi := lastMin[0], lastMin[len(lastMin)-1]
			t.Logf("sound minus picture over the last minute of %d: %.1f to %.1f ms (whole call: %.1f to %.1f ms)",
				minutes, lo, hi, slices.Min(late), slices.Max(late))
			inSync := math.Abs(lo) <= 5 && math.Abs(hi) <= 5
			if inSync != tc.wantInSync {
				t.Errorf("sound minus picture %.1f to %.1f ms in the last minute; want in sync (within 5 ms): %v", lo, hi, tc.wantInSync)
			}
		})
	}
}
