//go:build cgo

package record

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/p2pcam/p2pcam/internal/testutil"
	"github.com/p2pcam/p2pcam/pkg/opus"
	"github.com/p2pcam/p2pcam/pkg/pcm"
	"github.com/p2pcam/p2pcam/pkg/vp8"
)

// opusPackets encodes secs seconds of the test beep (1 kHz for 100 ms at
// each whole second, the first at sample 0) into 20 ms Opus packets
// arriving in real time from 0 on, leaving out the packets of drop.
func opusPackets(t *testing.T, secs int, track int, drop map[int]bool) []arrival {
	t.Helper()
	enc, err := opus.NewEncoder(opus.NewParams())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = enc.Close() })
	in := make([]int16, secs*opus.SampleRate)
	pcm.NewBeep(time.Unix(1_700_000_000, 0)).Read(in)
	const ts0 = 0xfff00000 // wraps during the recording
	var out []arrival
	for f := range len(in) / opus.FrameSamples {
		data, err := enc.Encode(in[f*opus.FrameSamples : (f+1)*opus.FrameSamples])
		if err != nil {
			t.Fatal(err)
		}
		if drop[f] {
			continue
		}
		p := &rtp.Packet{
			Header: rtp.Header{
				Version: 2, PayloadType: 111, SSRC: 0x0a0d10,
				SequenceNumber: uint16(f),                         // #nosec G115: small
				Timestamp:      ts0 + uint32(f*opus.FrameSamples), // #nosec G115: wraps on purpose
			},
			Payload: bytes.Clone(data),
		}
		out = append(out, arrival{at: time.Duration(f) * opus.FrameDuration, track: track, p: p})
	}
	return out
}

// TestOpusInWebM records VP8 beside real Opus, with and without a lost
// audio packet, and checks the file as players read it: one channel in the
// Audio element as in the OpusHead (the descriptor's CodecPrivate, which
// the Track does not repeat), the pre-skip as CodecDelay (ffmpeg trims it:
// packet times move 6.5 ms earlier; this ffprobe shows no
// initial_padding), every packet at its own capture time, so a lost packet
// is a 20 ms hole in the timestamps (frames held behind it longer than the
// video waits are dropped, a longer hole), and the beep of second 1
// decoded 1 s after that of second 0, not moved earlier by the hole
// (ffmpeg's aresample=async fills holes of 10 ms and more with silence,
// as a player does).
func TestOpusInWebM(t *testing.T) {
	testutil.NeedFFmpeg(t)
	frames := testutil.ReadIVF(t, fixture320)[:60] // 2 s
	for _, tc := range []struct {
		name string
		drop map[int]bool
		// rtt: the missing packets are waited for 120 ms (not the 500 ms
		// without), less than the interleaver waits for the audio: no
		// other packet is lost. Without it, the audio frames held longer
		// than the video waits are dropped too, never moved.
		rtt bool
	}{
		{name: "every packet", rtt: true},
		{name: "packet 30 lost", drop: map[int]bool{30: true}, rtt: true},
		{name: "packets 40 to 44 lost", drop: map[int]bool{40: true, 41: true, 42: true, 43: true, 44: true}, rtt: true},
		{name: "packet 30 lost, waited for 500 ms", drop: map[int]bool{30: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSink(t, false, ".webm")
			opts := Options{Tracks: []Track{{Codec: vp8.Descriptor}, {Codec: opus.Descriptor}}}
			if tc.rtt {
				opts.RTT = func() time.Duration { return 20 * time.Millisecond }
			}
			r, err := New(s.w, opts)
			if err != nil {
				t.Fatal(err)
			}
			feedArrivals(t, r, append(videoPackets(frames, 0), opusPackets(t, 2, 1, tc.drop)...))
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			s.done()

			head := run(t, nil, "ffprobe", "-v", "error", "-select_streams", "a:0",
				"-show_entries", "stream=codec_name,sample_rate,channels", "-of", "csv=p=0", s.path)
			if want := "opus,48000,1"; strings.TrimSpace(head) != want {
				t.Errorf("ffprobe audio stream %q; want %q", head, want)
			}
			_, pkts := probePackets(t, s.path, nil)
			var pts []float64
			for _, p := range pkts {
				if p.stream == 1 {
					pts = append(pts, p.pts)
				}
			}
			if want := 100 - len(tc.drop); len(pts) != want && (tc.rtt || len(pts) > want || len(pts) < want-25) {
				t.Fatalf("%d audio packets; want %d", len(pts), want)
			}
			f := 0
			for i, got := range pts {
				// ffmpeg moves blocks earlier by CodecDelay, the
				// samples it trims.
				for tc.drop[f] || (!tc.rtt && float64(f)*0.020-opus.CodecDelay.Seconds() < got-0.0015) {
					f++
				}
				if want := float64(f)*0.020 - opus.CodecDelay.Seconds(); got < want-0.0015 || got > want+0.0015 {
					t.Fatalf("audio packet %d at %.3f s; want %.3f s (packet %d's capture time)", i, got, want, f)
				}
				f++
			}
			if st := r.Stats().Tracks[1]; st.FramesWritten != uint64(len(pts)) {
				t.Errorf("Stats: %d audio frames written; the file has %d", st.FramesWritten, len(pts))
			}

			cmd := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-i", s.path, "-map", "0:a",
				"-af", "aresample=async=1:min_hard_comp=0.01:first_pts=0", "-f", "s16le", "-")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			raw, err := cmd.Output()
			if err != nil || stderr.Len() > 0 {
				t.Fatalf("ffmpeg decode: %v\n%s", err, stderr.String())
			}
			got := make([]int16, len(raw)/2)
			for i := range got {
				got[i] = int16(uint16(raw[2*i]) | uint16(raw[2*i+1])<<8) // #nosec G115: bytes to a sample
			}
			if want := 2 * opus.SampleRate; len(got) < want-opus.FrameSamples || len(got) > want+opus.FrameSamples {
				t.Errorf("decoded %d samples; want %d ± 20 ms", len(got), want)
			}
			first, second := beepOnset(got, 0), beepOnset(got, opus.SampleRate/2)
			if d := second - first - opus.SampleRate; first < 0 || d < -48 || d > 48 {
				t.Errorf("beeps decoded at samples %d and %d; want 1 s ± 1 ms apart", first, second)
			}
		})
	}
}

// beepOnset returns the first sample at or after from whose magnitude
// exceeds a tenth of full scale, or -1.
func beepOnset(s []int16, from int) int {
	for i := from; i < len(s); i++ {
		if s[i] > 3277 || s[i] < -3277 {
			return i
		}
	}
	return -1
}
