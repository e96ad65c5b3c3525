package record

import (
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/p2pcam/p2pcam/internal/testutil"
	"github.com/p2pcam/p2pcam/pkg/vp8"
)

// frameInterval is the fixtures' frame interval, 3000 ticks at 90 kHz.
const frameInterval = time.Second / 30

// smallPackets packetizes frames with a 300-byte MTU, so that even the
// fixture's delta frames take several packets; frame f has timestamp
// f*3000 and the sequence numbers start at 65000 to cross the wrap.
func smallPackets(frames [][]byte) [][]*rtp.Packet {
	pz := rtp.NewPacketizer(300, 96, 0x1234, &codecs.VP8Payloader{EnablePictureID: true}, rtp.NewFixedSequencer(65000), 90000)
	out := make([][]*rtp.Packet, len(frames))
	for f, frame := range frames {
		out[f] = pz.Packetize(frame, 3000)
		for _, p := range out[f] {
			p.Timestamp = uint32(f) * 3000 // #nosec G115: small
		}
	}
	return out
}

// TestFramesReleasedWithoutWaitingForTheNextFrame feeds frames one at a
// time: each frame must be written, and OnFrame called, by the WriteRTP
// of the packet that completes it, never earlier and before any packet of
// the next frame, also when the frame's packets come out of order.
func TestFramesReleasedWithoutWaitingForTheNextFrame(t *testing.T) {
	frames := testutil.ReadIVF(t, fixture320)[:45]
	for _, tc := range []struct {
		name    string
		shuffle bool // permute each frame's packets
	}{
		{"in order", false},
		{"reordered within each frame", true},
	} {
		for _, format := range []Format{FormatWebM, FormatIVF} {
			t.Run(fmt.Sprintf("%s/%v", tc.name, format), func(t *testing.T) {
				var written []uint32
				r, err := New(io.Discard, Options{Format: format, Tracks: vp8Tracks(Track{OnFrame: func(data []byte, key bool, ts uint32) {
					written = append(written, ts)
				}})})
				if err != nil {
					t.Fatal(err)
				}
				rng := rand.New(rand.NewPCG(5, 6))
				multi := 0
				for f, pkts := range smallPackets(frames) {
					if len(pkts) > 1 {
						multi++
					}
					if tc.shuffle {
						rng.Shuffle(len(pkts), func(i, j int) { pkts[i], pkts[j] = pkts[j], pkts[i] })
					}
					for i, p := range pkts {
						if err := r.WriteRTP(0, p); err != nil {
							t.Fatal(err)
						}
						want := f
						if i == len(pkts)-1 {
							want = f + 1
						}
						if len(written) != want {
							t.Fatalf("frame %d, after packet %d of %d: %d frames written; want %d",
								f, i+1, len(pkts), len(written), want)
						}
					}
					if got := written[f]; got != uint32(f)*3000 { // #nosec G115: small
						t.Fatalf("frame %d written with timestamp %d; want %d", f, got, f*3000)
					}
				}
				if multi < len(frames)/2 {
					t.Fatalf("only %d of %d frames took several packets; the test needs more", multi, len(frames))
				}
				if err := r.Close(); err != nil {
					t.Fatal(err)
				}
				if st := r.Stats(); st.FramesWritten != uint64(len(frames)) || st.FramesDropped != 0 {
					t.Errorf("Stats() = %d written, %d dropped; want %d, 0", st.FramesWritten, st.FramesDropped, len(frames))
				}
			})
		}
	}
}

// TestMissingPacketWait sends 60 frames (keyframes at 0 and 30) in real
// time on synctest's fake clock, with the middle packet of one delta frame
// missing. A retransmission that arrives within the RTT-based wait is used
// and releases the frames held behind it at once; without one, the frames
// behind the hole are released when the first packet after the wait
// arrives, and the recorder asks for a keyframe then and drops delta
// frames until it comes.
func TestMissingPacketWait(t *testing.T) {
	ms := time.Millisecond
	never := time.Duration(-1)
	tests := []struct {
		name       string
		rtt        time.Duration // 0: unknown
		maxDelay   time.Duration
		retransmit time.Duration // after the gap showed; never: lost for good
		wait       time.Duration // the wait the recorder must apply
	}{
		{"short rtt, retransmission used", 10 * ms, 0, 100 * ms, 120 * ms},
		{"short rtt, packet lost", 10 * ms, 0, never, 120 * ms},
		{"long rtt, retransmission used", 100 * ms, 0, 240 * ms, 250 * ms},
		{"long rtt, packet lost", 100 * ms, 0, never, 250 * ms},
		{"unknown rtt waits MaxDelay", 0, 300 * ms, never, 300 * ms},
		{"MaxDelay caps the wait", 300 * ms, 400 * ms, never, 400 * ms},
	}
	frames := testutil.ReadIVF(t, fixture320)[:60]
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { testMissingPacketWait(t, frames, tc.rtt, tc.maxDelay, tc.retransmit, tc.wait) })
		})
	}
}

func testMissingPacketWait(t *testing.T, frames [][]byte, rtt, maxDelay, retransmit, wait time.Duration) {
	pkts := smallPackets(frames)
	// The first delta frame from 10 on with three packets or more loses
	// its second one.
	lossy := 10
	for len(pkts[lossy]) < 3 {
		lossy++
	}
	if lossy >= 25 {
		t.Fatal("no delta frame with three packets")
	}
	type send struct {
		at time.Duration // since the start
		p  *rtp.Packet
	}
	var sched []send
	for f, ps := range pkts {
		for i, p := range ps {
			if f == lossy && i == 1 {
				continue
			}
			sched = append(sched, send{time.Duration(f) * frameInterval, p})
		}
	}
	// The gap shows with the next packet, sent with the rest of the frame.
	noticed := time.Duration(lossy) * frameInterval
	if retransmit >= 0 {
		at := noticed + retransmit
		i := 0
		for i < len(sched) && sched[i].at <= at {
			i++
		}
		sched = append(sched[:i], append([]send{{at, pkts[lossy][1]}}, sched[i:]...)...)
	}
	// With no retransmission the frames behind the hole go out with the
	// first packet sent once the wait is over.
	var giveUp time.Duration
	for _, s := range sched {
		if s.at >= noticed+wait {
			giveUp = s.at
			break
		}
	}

	start := time.Now()
	since := func() time.Duration { return time.Since(start) }
	writtenAt := map[int]time.Duration{} // frame -> when written
	var requests []time.Duration
	opts := Options{
		Format:   FormatIVF,
		MaxDelay: maxDelay,
		Tracks: vp8Tracks(Track{
			RequestKeyFrame: func() { requests = append(requests, since()) },
			OnFrame:         func(_ []byte, _ bool, ts uint32) { writtenAt[int(ts/3000)] = since() },
		}),
	}
	if rtt > 0 {
		opts.RTT = func() time.Duration { return rtt }
	}
	r, err := New(io.Discard, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sched {
		time.Sleep(s.at - since())
		if err := r.WriteRTP(0, s.p); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	st := r.Stats()

	if retransmit >= 0 {
		// Every frame written; the ones behind the hole the moment the
		// retransmission came, the others when their last packet came.
		if len(requests) != 0 || st.FramesWritten != 60 || st.PacketsLost != 0 {
			t.Fatalf("%d keyframe requests, %d frames written, %d packets lost; want 0, 60, 0",
				len(requests), st.FramesWritten, st.PacketsLost)
		}
		for f := range 60 {
			want := time.Duration(f) * frameInterval
			if f >= lossy && want < noticed+retransmit {
				want = noticed + retransmit
			}
			if writtenAt[f] != want {
				t.Errorf("frame %d written at %v; want %v", f, writtenAt[f], want)
			}
		}
		return
	}
	if len(requests) == 0 || requests[0] != giveUp {
		t.Fatalf("keyframe requests at %v; want the first at %v (gap at %v + wait %v)", requests, giveUp, noticed, wait)
	}
	for f := range 60 {
		at, ok := writtenAt[f]
		switch {
		case f >= lossy && f < 30:
			if ok {
				t.Errorf("delta frame %d after the loss written at %v", f, at)
			}
		case !ok:
			t.Errorf("frame %d not written", f)
		case at != time.Duration(f)*frameInterval:
			t.Errorf("frame %d written at %v; want %v", f, at, time.Duration(f)*frameInterval)
		}
	}
	if st.PacketsLost != 1 || st.FramesDropped != uint64(30-lossy) || st.FramesWritten != uint64(lossy+30) {
		t.Errorf("Stats() = %d packets lost, %d frames dropped, %d written; want 1, %d, %d",
			st.PacketsLost, st.FramesDropped, st.FramesWritten, 30-lossy, lossy+30)
	}
}

// TestFreezes feeds frames at 30 fps with pauses in their arrival (the RTP
// timestamps stay regular) and checks the webrtc-stats freeze rule on the
// write times: at 30 fps a gap is a freeze from max(3×33.3, 33.3+150) =
// 183.3 ms on, judged once 5 gaps are known.
func TestFreezes(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name    string
		pauses  map[int]time.Duration // frame -> gap before it, instead of 1/30 s
		freezes uint64
		frozen  time.Duration
	}{
		{"steady", nil, 0, 0},
		{"hiccup under the threshold", map[int]time.Duration{20: 183 * ms}, 0, 0},
		{"one freeze", map[int]time.Duration{20: 400 * ms}, 1, 400 * ms},
		{"two freezes add up", map[int]time.Duration{20: 400 * ms, 50: 200 * ms}, 2, 600 * ms},
		{"a burst after the freeze does not hide the next", map[int]time.Duration{20: time.Second, 21: 0, 22: 0, 23: 0, 40: 300 * ms}, 2, 1300 * ms},
		{"not judged before 5 gaps", map[int]time.Duration{3: time.Second}, 0, 0},
	}
	frames := testutil.ReadIVF(t, fixture320)[:60]
	pkts := smallPackets(frames)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := New(io.Discard, Options{Format: FormatIVF, Tracks: vp8Tracks(Track{})})
			if err != nil {
				t.Fatal(err)
			}
			now := time.Unix(1_000_000_000, 0)
			r.now = func() time.Time { return now }
			for f, ps := range pkts {
				if f > 0 {
					gap, ok := tc.pauses[f]
					if !ok {
						gap = frameInterval
					}
					now = now.Add(gap)
				}
				for _, p := range ps {
					if err := r.WriteRTP(0, p); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			st := r.Stats()
			if st.Freezes != tc.freezes || st.FrozenTime != tc.frozen {
				t.Errorf("Stats() = %d freezes, %v frozen; want %d, %v", st.Freezes, st.FrozenTime, tc.freezes, tc.frozen)
			}
			// The recording itself plays at the RTP times: no still picture.
			if st.LongestFreeze != frameInterval {
				t.Errorf("Stats().LongestFreeze = %v; want %v", st.LongestFreeze, frameInterval)
			}
		})
	}
}

// FuzzWriteRTP turns bytes into a VP8 packet stream full of losses,
// duplicates, reordering, bad descriptors and jumps: the recorder must
// neither panic nor write anything but whole frames, and its counters
// must agree with what OnFrame saw.
func FuzzWriteRTP(f *testing.F) {
	f.Add([]byte{0x10, 1, 0, 0x80, 0x00, 2, 0, 0x00, 0x90, 3, 1})
	f.Add([]byte{0x10, 0xff, 0, 0x10, 0xfe, 0, 0x11, 0x80, 0xff, 0x13, 0x00, 0x40})
	f.Fuzz(func(t *testing.T, b []byte) {
		var written uint64
		now := time.Unix(1_000_000_000, 0)
		r, err := New(io.Discard, Options{Format: FormatIVF, MaxLate: 16, Tracks: vp8Tracks(Track{OnFrame: func(data []byte, key bool, _ uint32) {
			written++
			if key {
				if _, _, err := vp8.FrameSize(data); err != nil {
					t.Fatalf("wrote a keyframe with a bad header: %v", err)
				}
			}
		}})})
		if err != nil {
			t.Fatal(err)
		}
		r.now = func() time.Time { return now }
		seq, ts := uint16(0), uint32(0)
		// Each packet takes 3 bytes: flags, a sequence step, a timestamp step.
		keyHdr := []byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00}
		for i := 0; i+3 <= len(b); i += 3 {
			flags, dseq, dts := b[i], b[i+1], b[i+2]
			seq += uint16(int8(dseq))     // #nosec G115: any step, back or forth
			ts += uint32(dts&0x0f) * 3000 // #nosec G115: small
			now = now.Add(time.Duration(dts>>4) * 20 * time.Millisecond)
			var payload []byte
			switch flags & 0x03 {
			case 0: // padding
			case 1: // a frame's first packet: a keyframe header or delta data
				payload = append([]byte{0x10}, keyHdr...)
				if flags&0x40 != 0 {
					payload[1] |= 0x01 // delta
				}
			case 2: // a later packet
				payload = []byte{0x00, flags}
			case 3: // an extension bit with nothing behind it
				payload = []byte{0x80}
			}
			p := &rtp.Packet{Header: rtp.Header{Version: 2, SSRC: uint32(flags >> 7), SequenceNumber: seq,
				Timestamp: ts, Marker: flags&0x04 != 0}, Payload: payload}
			if err := r.WriteRTP(0, p); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		st := r.Stats()
		if st.FramesWritten != written || st.KeyFrames > written || st.Freezes > written {
			t.Fatalf("Stats() = %+v; OnFrame saw %d frames", st, written)
		}
	})
}
