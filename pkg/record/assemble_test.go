package record

import (
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp/codecs"

	"github.com/p2pcam/p2pcam/pkg/vp8"
)

// vp8Payload is the payload of a packet of a frame: start marks the first
// packet of the frame (S=1, PID=0), b is its one byte of VP8 data.
func vp8Payload(start bool, b byte) []byte {
	desc := byte(0)
	if start {
		desc = 0x10
	}
	return []byte{desc, b}
}

// step is one packet pushed into an assembler after advancing its clock.
type step struct {
	after   time.Duration // clock advance before the push
	seq     int64
	ts      uint32
	start   bool
	marker  bool
	b       byte // the frame's label; 0 pushes padding, 0xff a malformed descriptor
	release string
}

// describe renders released frames as the test tables spell them: the
// label, "!" if incomplete, "^" before it if packets were given up before
// it; frames separated by spaces.
func describe(fs []frame) string {
	var parts []string
	for _, f := range fs {
		s := "-"
		if len(f.data) > 0 {
			s = string(f.data[:1])
		}
		if !f.complete {
			s += "!"
		}
		if f.gap {
			s = "^" + s
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// runSteps pushes the steps into a fresh assembler (window maxLate, wait
// 100 ms, a fake clock) and checks what each push releases.
func runSteps(t *testing.T, maxLate uint16, steps []step) {
	t.Helper()
	now := time.Unix(1000, 0)
	a := newAssembler(maxLate, func() time.Duration { return 100 * time.Millisecond }, vp8.Descriptor.NewDepacketizer())
	a.now = func() time.Time { return now }
	for i, s := range steps {
		now = now.Add(s.after)
		var payload []byte
		switch s.b {
		case 0:
		case 0xff:
			payload = []byte{0x90} // X=1 with no extension byte
		default:
			payload = vp8Payload(s.start, s.b)
		}
		a.push(s.seq, s.ts, s.marker, payload)
		var got []frame
		for f, ok := a.pop(false); ok; f, ok = a.pop(false) {
			got = append(got, f)
		}
		if d := describe(got); d != s.release {
			t.Fatalf("push %d (seq %d): released %q; want %q", i, s.seq, d, s.release)
		}
	}
}

func TestAssemblerReleasesFramesAtOnce(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{
		{"one-packet frames go out as they come", []step{
			{seq: 1, ts: 100, start: true, marker: true, b: 'a', release: "a"},
			{seq: 2, ts: 200, start: true, marker: true, b: 'b', release: "b"},
		}},
		{"a frame goes out with its last packet, not with the next frame", []step{
			{seq: 1, ts: 100, start: true, b: 'a'},
			{seq: 2, ts: 100, b: 'a'},
			{seq: 3, ts: 100, marker: true, b: 'a', release: "a"},
		}},
		{"reordered within a frame", []step{
			{seq: 1, ts: 100, start: true, b: 'a'},
			{seq: 3, ts: 100, marker: true, b: 'a'},
			{seq: 2, ts: 100, b: 'a', release: "a"},
		}},
		{"a frame waits for the one before it", []step{
			{seq: 1, ts: 100, start: true, b: 'a'},
			{seq: 3, ts: 200, start: true, marker: true, b: 'b'},
			{seq: 2, ts: 100, marker: true, b: 'a', release: "a b"},
		}},
		{"nothing goes out before the first marker", []step{
			{seq: 2, ts: 100, b: 'a'},
			{seq: 1, ts: 100, start: true, b: 'a'},
			{seq: 3, ts: 100, marker: true, b: 'a', release: "a"},
		}},
		{"the tail of a frame whose start never came goes out incomplete", []step{
			{seq: 2, ts: 100, marker: true, b: 'x', release: "x!"},
			{seq: 3, ts: 200, start: true, marker: true, b: 'b', release: "b"},
		}},
		{"padding between frames is no loss", []step{
			{seq: 1, ts: 100, start: true, marker: true, b: 'a', release: "a"},
			{seq: 3, ts: 200, start: true, marker: true, b: 'b'},
			{seq: 2, ts: 100, release: "b"},
		}},
		{"duplicates are ignored", []step{
			{seq: 1, ts: 100, start: true, b: 'a'},
			{seq: 1, ts: 100, start: true, b: 'a'},
			{seq: 2, ts: 100, marker: true, b: 'a', release: "a"},
			{seq: 2, ts: 100, marker: true, b: 'a'},
			{seq: 1, ts: 100, start: true, b: 'a'},
		}},
		{"a malformed descriptor makes the frame incomplete", []step{
			{seq: 1, ts: 100, start: true, b: 'a'},
			{seq: 2, ts: 100, marker: true, b: 0xff, release: "a!"},
		}},
		{"a frame without its marker is cut by the next timestamp", []step{
			{seq: 0, ts: 0, start: true, marker: true, b: 'z', release: "z"},
			{seq: 1, ts: 100, start: true, b: 'a'},
			{seq: 2, ts: 200, start: true, b: 'b', release: "a!"},
			{seq: 3, ts: 200, marker: true, b: 'b', release: "b"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runSteps(t, 64, tc.steps) })
	}
}

// TestAssemblerWaitsForMissingPackets: a missing packet holds the frames
// behind it back until it arrives or, counted from when a later packet
// showed the gap, the wait (100 ms here) or the window (8 packets) runs
// out. Then the frame it belonged to goes out incomplete, as one frame
// whatever side of the hole its packets were; a frame after a packet
// missing between frames is marked as following a gap.
func TestAssemblerWaitsForMissingPackets(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name  string
		steps []step
	}{
		{"a late packet within the wait is used", []step{
			{seq: 1, ts: 0, start: true, b: 'a'},
			// 2, the end of a, is missing.
			{after: 33 * ms, seq: 3, ts: 3000, start: true, marker: true, b: 'b'},
			{after: 33 * ms, seq: 4, ts: 6000, start: true, marker: true, b: 'c'},
			{after: 66 * ms, seq: 2, ts: 0, marker: true, b: 'a', release: "a b c"},
		}},
		{"a packet that never comes is given up after the wait", []step{
			{seq: 1, ts: 0, start: true, b: 'a'},
			{after: 33 * ms, seq: 3, ts: 3000, start: true, marker: true, b: 'b'},
			{after: 99 * ms, seq: 4, ts: 6000, start: true, marker: true, b: 'c'},
			{after: ms - 1, seq: 5, ts: 9000, start: true, marker: true, b: 'd'},
			{after: 1, seq: 6, ts: 12000, start: true, marker: true, b: 'e', release: "a! b c d e"},
		}},
		{"the wait runs from when the gap showed, not from the frame", []step{
			{seq: 1, ts: 0, start: true, marker: true, b: 'a', release: "a"},
			{after: 500 * ms, seq: 3, ts: 3000, start: true, marker: true, b: 'c'},
			{after: 99 * ms, seq: 4, ts: 99000, start: true, marker: true, b: 'd'},
			{after: ms, seq: 5, ts: 102000, start: true, marker: true, b: 'e', release: "^c d e"},
		}},
		{"a frame with a hole in the middle goes out as one incomplete frame", []step{
			{seq: 1, ts: 0, start: true, b: 'a'},
			{seq: 3, ts: 0, b: 'a'},
			{seq: 4, ts: 0, marker: true, b: 'a'},
			{after: 99 * ms, seq: 5, ts: 3000, start: true, marker: true, b: 'b'},
			{after: ms, seq: 6, ts: 6000, start: true, marker: true, b: 'c', release: "a! b c"},
		}},
		{"gaps seen together expire together", []step{
			{seq: 1, ts: 0, start: true, marker: true, b: 'a', release: "a"},
			{seq: 5, ts: 4000, start: true, marker: true, b: 'e'},
			{after: 100 * ms, seq: 6, ts: 5000, start: true, marker: true, b: 'f', release: "^e f"},
		}},
		{"a missing start is awaited, then the tail goes out incomplete", []step{
			{seq: 1, ts: 0, start: true, marker: true, b: 'a', release: "a"},
			{seq: 3, ts: 3000, marker: true, b: 'b'},
			{after: 100 * ms, seq: 4, ts: 6000, start: true, marker: true, b: 'c', release: "^b! c"},
		}},
		{"the window gives up without waiting", []step{
			{seq: 1, ts: 0, start: true, marker: true, b: 'a', release: "a"},
			{seq: 3, ts: 1, start: true, marker: true, b: 'c'},
			{seq: 4, ts: 2, start: true, marker: true, b: 'd'},
			{seq: 5, ts: 3, start: true, marker: true, b: 'e'},
			{seq: 6, ts: 4, start: true, marker: true, b: 'f'},
			{seq: 7, ts: 5, start: true, marker: true, b: 'g'},
			{seq: 8, ts: 6, start: true, marker: true, b: 'h'},
			{seq: 9, ts: 7, start: true, marker: true, b: 'i'},
			{seq: 10, ts: 8, start: true, marker: true, b: 'j', release: "^c d e f g h i j"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runSteps(t, 8, tc.steps) })
	}
}

func TestWaitFor(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		rtt, maxDelay, want time.Duration
	}{
		{0, 500 * ms, 500 * ms},
		{-ms, 300 * ms, 300 * ms},
		{ms, 500 * ms, 120 * ms},
		{35 * ms, 500 * ms, 120 * ms},
		{100 * ms, 500 * ms, 250 * ms},
		{200 * ms, 500 * ms, 450 * ms},
		{time.Second, 500 * ms, 500 * ms},
		{10 * ms, 80 * ms, 80 * ms},
	} {
		if got := waitFor(tc.rtt, tc.maxDelay); got != tc.want {
			t.Errorf("waitFor(%v, %v) = %v; want %v", tc.rtt, tc.maxDelay, got, tc.want)
		}
	}
}

// TestAssemblerFlush: Close gives up what is missing and releases the rest.
func TestAssemblerFlush(t *testing.T) {
	a := newAssembler(64, func() time.Duration { return time.Hour }, vp8.Descriptor.NewDepacketizer())
	a.push(1, 0, false, vp8Payload(true, 'a'))
	a.push(3, 100, true, vp8Payload(true, 'b'))
	a.push(4, 200, false, vp8Payload(true, 'c'))
	if _, ok := a.pop(false); ok {
		t.Fatal("released a frame behind a missing packet")
	}
	var got []frame
	for f, ok := a.pop(true); ok; f, ok = a.pop(true) {
		got = append(got, f)
	}
	if d := describe(got); d != "a! b c!" {
		t.Errorf("flush released %q; want %q", d, "a! b c!")
	}
}

// TestAssemblerAudioFrames: with an audio depacketizer, where every
// packet is a whole frame and the marker bit only flags the start of a
// talkspurt (Opus, RFC 7587 section 4.1), each packet is released as a
// complete frame at once, in order, also when they came out of order.
func TestAssemblerAudioFrames(t *testing.T) {
	a := newAssembler(64, func() time.Duration { return time.Hour }, &codecs.OpusPacket{})
	var got []string
	for _, p := range []struct {
		seq     int64
		payload string
	}{{1, "a"}, {2, "b"}, {4, "d"}, {3, "c"}, {5, "e"}} {
		a.push(p.seq, uint32(p.seq)*960, p.seq == 1, []byte(p.payload)) // #nosec G115: small
		for {
			f, ok := a.pop(false)
			if !ok {
				break
			}
			if !f.complete || f.gap {
				t.Errorf("frame %q: complete %v, gap %v; want complete, no gap", f.data, f.complete, f.gap)
			}
			got = append(got, string(f.data))
		}
	}
	if s := strings.Join(got, ""); s != "abcde" {
		t.Errorf("frames %q; want a, b, c, d, e", got)
	}
}
