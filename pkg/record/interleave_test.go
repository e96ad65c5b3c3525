package record

import (
	"fmt"
	"slices"
	"testing"
)

// TestInterleaver: frames of several tracks come out in time order,
// waiting for a track that may still bring an earlier frame, but not for
// one that fell interleaveWait behind or never started; the main track
// goes first on a tie, and a video frame later than those already out is
// moved up to keep times non-decreasing overall and increasing per track,
// where an audio frame is dropped.
func TestInterleaver(t *testing.T) {
	// f is a frame of a track at a time; track 0 is the main track.
	f := func(track int, pts int64) liveFrame { return liveFrame{track: track, main: track == 0, pts: pts} }
	// a is a frame of an audio track.
	a := func(track int, pts int64) liveFrame { return liveFrame{track: track, audio: true, key: true, pts: pts} }
	for _, tc := range []struct {
		name  string
		add   []liveFrame
		flush bool
		want  []string // "track@pts" out, in order
	}{
		{
			name: "one track started: no waiting",
			add:  []liveFrame{f(0, 0), f(0, 33), f(0, 66)},
			want: []string{"0@0", "0@33", "0@66"},
		},
		{
			name: "waits for the other track",
			add:  []liveFrame{f(0, 0), f(1, 0), f(0, 33), f(0, 66), f(1, 20), f(1, 40)},
			want: []string{"0@0", "1@0", "1@20", "0@33", "1@40"},
		},
		{
			name: "the main track first on a tie",
			add:  []liveFrame{f(0, 0), f(1, 0), f(1, 33), f(0, 33)},
			want: []string{"0@0", "1@0", "0@33"},
		},
		{
			name:  "flush empties in time order",
			add:   []liveFrame{f(0, 0), f(1, 0), f(0, 33), f(0, 66), f(1, 20), f(1, 40)},
			flush: true,
			want:  []string{"0@0", "1@0", "1@20", "0@33", "1@40", "0@66"},
		},
		{
			name: "a quiet track is not waited for past the limit",
			add:  []liveFrame{f(1, 0), f(0, 0), f(0, 100), f(0, 200), f(0, 300)},
			want: []string{"1@0", "0@0"},
		},
		{
			name:  "a late frame is moved up",
			add:   []liveFrame{f(1, 0), f(0, 0), f(0, 300), f(1, 20), f(1, 320)},
			flush: true,
			want:  []string{"1@0", "0@0", "1@20", "0@300", "1@320"},
		},
		{
			name: "a frame older than what went out keeps times in order",
			add:  []liveFrame{f(1, 0), f(0, 0), f(0, 300), f(0, 600), f(1, 20), f(1, 21)},
			// 0@0, 1@0 and 0@300 went out once 0@600 arrived; 1@20 and
			// 1@21 come too late and go at 300 and 301.
			flush: true,
			want:  []string{"1@0", "0@0", "0@300", "1@300", "1@301", "0@600"},
		},
		{
			name: "audio that late is dropped, never moved",
			add:  []liveFrame{a(1, 0), f(0, 0), f(0, 300), f(0, 600), a(1, 20), a(1, 320), a(1, 340)},
			// 1@20 would shift every sound after it by 280 ms; 1@320
			// and 1@340 come at their own times after 0@300.
			flush: true,
			want:  []string{"1@0", "0@0", "0@300", "1@20 dropped", "1@320", "1@340", "0@600"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			il := newInterleaver(2)
			var got []string
			pop := func(flush bool) {
				for {
					out, late, ok := il.pop(flush)
					if !ok {
						return
					}
					if late {
						got = append(got, fmt.Sprintf("%d@%d dropped", out.track, out.pts))
						continue
					}
					got = append(got, fmt.Sprintf("%d@%d", out.track, out.pts))
				}
			}
			for _, fr := range tc.add {
				il.add(fr)
				pop(false)
			}
			if tc.flush {
				pop(true)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("out %q; want %q", got, tc.want)
			}
		})
	}
}
