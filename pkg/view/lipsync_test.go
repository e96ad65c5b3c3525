package view

import (
	"slices"
	"testing"
	"time"
)

// TestPlayhead: the RTP timestamp heard is found from the runs queued and
// what the device still holds, across runs that skip (a pause played
// shorter) and timestamps past 2^32; nothing is heard before the first
// sample reaches the ear or once the device has run dry.
func TestPlayhead(t *testing.T) {
	type run struct {
		ts int64 // -1: silence
		n  int
	}
	tests := []struct {
		name    string
		runs    []run
		pending int64
		want    int64
		ok      bool
	}{
		{"nothing queued", nil, 0, 0, false},
		{"not yet heard", []run{{1000, 960}}, 960 + 100, 0, false},
		{"first sample", []run{{1000, 960}}, 960, 1000, true},
		{"halfway", []run{{1000, 960}, {1960, 960}}, 960, 1960, true},
		{"in the first of two", []run{{1000, 960}, {1960, 960}}, 1500, 1420, true},
		{"after a skipped frame", []run{{0, 960}, {1920, 960}}, 480, 2400, true},
		{"ran dry", []run{{0, 960}}, 0, 0, false},
		{"past 2^32", []run{{1<<32 - 480, 960}}, 480, 1 << 32, true},
		// The device started late: silence queued at first, then
		// the sound; while the silence plays, nothing is heard.
		{"in the first silence", []run{{-1, 960}, {50000, 960}}, 960 + 480, 0, false},
		{"after the first silence", []run{{-1, 960}, {50000, 960}}, 480, 50480, true},
		{"in silence between runs", []run{{0, 960}, {-1, 960}, {960, 960}}, 960 + 480, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p playhead
			for _, r := range tc.runs {
				if r.ts < 0 {
					p.silence(r.n)
					continue
				}
				p.queue(r.ts, r.n)
			}
			got, ok := p.at(tc.pending)
			if ok != tc.ok || ok && got != tc.want {
				t.Errorf("at(%d) = %d, %v; want %d, %v", tc.pending, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// TestPlayheadForgets: runs wholly heard are dropped, so the playhead's
// memory stays small however long the call.
func TestPlayheadForgets(t *testing.T) {
	var p playhead
	for i := range 1000 {
		p.queue(int64(i)*1920, 960) // every other frame: 1000 runs
		if _, ok := p.at(960 + 480); !ok && i > 0 {
			t.Fatalf("frame %d: nothing heard", i)
		}
	}
	if len(p.runs) > 3 {
		t.Errorf("%d runs kept; want the few the device still holds", len(p.runs))
	}
}

// TestLipSyncWait: a picture waits until the sound captured at its
// instant on the sender's clock is heard, at most maxLipSync, and not at
// all when it is late; without both sender reports or sound heard the
// caller is told to fall back.
func TestLipSyncWait(t *testing.T) {
	ntp := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	now := time.Unix(5000, 0)
	// The sender's clocks: audio 48 kHz and video 90 kHz, with unrelated
	// offsets, both reporting the same instant ntp.
	const audioAt, videoAt = 7_000_000, 4_000_000_000
	audioTS := func(d time.Duration) uint32 { return uint32(audioAt + int64(d)*48000/int64(time.Second)) }
	videoTS := func(d time.Duration) uint32 { return uint32(videoAt + int64(d)*90000/int64(time.Second)) }
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	tests := []struct {
		name       string
		noAudioSR  bool
		noVideoSR  bool
		heard      bool
		heardAgo   time.Duration // when the sound's position was noted
		late       time.Duration // how late held pictures reach the screen
		sound      time.Duration // the sound heard then, from ntp
		picture    time.Duration // the picture's capture, from ntp
		want       time.Duration
		ok         bool
		wantOffset time.Duration
	}{
		{name: "in step", heard: true, sound: ms(500), picture: ms(500), want: 0, ok: true},
		{name: "picture early: waits", heard: true, sound: ms(500), picture: ms(560), want: ms(60), ok: true, wantOffset: ms(60)},
		{name: "picture late: shown at once", heard: true, sound: ms(500), picture: ms(440), want: 0, ok: true, wantOffset: ms(-60)},
		{name: "far early: at most the jitter buffer", heard: true, sound: ms(500), picture: ms(900), want: maxLipSync, ok: true, wantOffset: ms(400)},
		{name: "drawing takes 10 ms: waits less", heard: true, late: ms(10), sound: ms(500), picture: ms(560), want: ms(50), ok: true, wantOffset: ms(60)},
		{name: "drawing takes longer than the wait", heard: true, late: ms(10), sound: ms(500), picture: ms(505), want: 0, ok: true, wantOffset: ms(5)},
		{name: "the sound has moved on since noted", heard: true, heardAgo: ms(20), sound: ms(500), picture: ms(560), want: ms(40), ok: true, wantOffset: ms(40)},
		{name: "noted too long ago", heard: true, heardAgo: ms(300), sound: ms(500), picture: ms(560)},
		{name: "no sound heard", sound: ms(500), picture: ms(560)},
		{name: "no audio report", noAudioSR: true, heard: true, sound: ms(500), picture: ms(560)},
		{name: "no video report", noVideoSR: true, heard: true, sound: ms(500), picture: ms(560)},
		{name: "the video clock wrapped", heard: true, sound: ms(500), picture: ms(4_000_000), want: maxLipSync, ok: true, wantOffset: ms(4_000_000 - 500)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := lipSync{late: tc.late}
			if !tc.noAudioSR {
				l.senderReport(true, ntp, audioAt, 48000)
			}
			if !tc.noVideoSR {
				l.senderReport(false, ntp, videoAt, 90000)
			}
			l.hearing(audioTS(tc.sound), now.Add(-tc.heardAgo), tc.heard)
			got, ok := l.wait(videoTS(tc.picture), now)
			if ok != tc.ok || got != tc.want {
				t.Errorf("wait = %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
			if ok && (l.offset-tc.wantOffset).Abs() > time.Millisecond {
				t.Errorf("offset %v; want %v", l.offset, tc.wantOffset)
			}
		})
	}
}

// TestSenderClock: RTP timestamps map to the sender's clock on either
// side of the report's, across the 32-bit wrap.
func TestSenderClock(t *testing.T) {
	ntp := time.Unix(1000, 0)
	tests := []struct {
		rtp, ts uint32
		want    time.Duration
	}{
		{90000, 90000, 0},
		{90000, 180000, time.Second},
		{90000, 0, -time.Second},
		{1<<32 - 45000, 45000, time.Second},
		{45000, 1<<32 - 45000, -time.Second},
	}
	for _, tc := range tests {
		c := senderClock{ntp: ntp, rtp: tc.rtp, rate: 90000}
		if got := c.at(tc.ts).Sub(ntp); got != tc.want {
			t.Errorf("report at %d: %d is %v from it; want %v", tc.rtp, tc.ts, got, tc.want)
		}
	}
}

// TestLipSyncShown: how late held pictures reach the screen is a running
// average, and a picture held up by a busy loop counts only up to maxLate.
func TestLipSyncShown(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	tests := []struct {
		name  string
		lates []time.Duration
		lo    time.Duration
		hi    time.Duration
	}{
		{"steady", slices.Repeat([]time.Duration{ms(12)}, 60), ms(11), ms(12)},
		{"one stall", append(slices.Repeat([]time.Duration{ms(5)}, 60), ms(900)), ms(5), ms(5) + (maxLate-ms(5))/8 + ms(1)},
		{"early counts as on time", slices.Repeat([]time.Duration{ms(-3)}, 10), 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var l lipSync
			for _, d := range tc.lates {
				l.shown(d)
			}
			if l.late < tc.lo || l.late > tc.hi {
				t.Errorf("late %v; want %v to %v", l.late, tc.lo, tc.hi)
			}
		})
	}
}
