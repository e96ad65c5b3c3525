package record

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/testutil"
)

func TestTimelineUnwrapsAcrossTheWrap(t *testing.T) {
	tl := timeline{clock: 90000}
	now := func() time.Time { t.Fatal("now called without a change of source"); return time.Time{} }
	ext := tl.unwrap(0xffffffff-2999, false, now)
	tl.start(ext)
	for i, want := range []int64{0, 3000, 6000} {
		if i > 0 {
			ext = tl.unwrap(uint32(ext+3000), true, now) // wraps past 2^32
		}
		if got := tl.pts(ext); got != want {
			t.Fatalf("frame %d: pts %d; want %d", i, got, want)
		}
		tl.written(want, time.Time{})
	}
}

func TestTimelineKeepsMillisecondsIncreasing(t *testing.T) {
	tl := timeline{clock: 90000}
	tl.start(0)
	var last int64 = -1
	for i, ext := range []int64{0, 5, 10, 15, 90, 3000} {
		pts := tl.pts(ext)
		if ms := tl.ms(pts); ms <= last {
			t.Fatalf("frame %d at ext %d: %d ms after %d ms", i, ext, ms, last)
		}
		last = tl.ms(pts)
		tl.written(pts, time.Time{})
	}
}

func TestTimelineNewSourceContinuesByWallClock(t *testing.T) {
	tl := timeline{clock: 90000}
	at := time.Unix(1000, 0)
	now := func() time.Time { return at }
	tl.start(tl.unwrap(12345, false, now))
	tl.written(tl.pts(12345), at)
	tl.newSource()
	at = at.Add(time.Second)
	ext := tl.unwrap(7, true, now) // unrelated to 12345
	if got := tl.pts(ext); got != 90000 {
		t.Errorf("first frame of the new source at pts %d; want 90000, one second on", got)
	}
}

// TestBurstTimestamps feeds frames whose RTP timestamps are less than a
// millisecond apart, as a sender that caught up after a stall sends them:
// the container must still get strictly increasing times, or players
// complain of non-monotonic timestamps.
func TestBurstTimestamps(t *testing.T) {
	testutil.NeedFFmpeg(t)
	frames := testutil.ReadIVF(t, fixture320)[:30]
	for _, format := range []Format{FormatWebM, FormatIVF} {
		t.Run(format.String(), func(t *testing.T) {
			s := newSink(t, false, "."+format.String())
			r, err := New(s.w, Options{Format: format, Tracks: vp8Tracks(Track{})})
			if err != nil {
				t.Fatal(err)
			}
			pkts, _ := feed{}.packets(frames)
			for _, p := range pkts {
				// Frames 10 to 19 all within the same millisecond.
				if f := int(p.Timestamp / 3000); f >= 10 && f < 20 {
					p.Timestamp = 10*3000 + uint32(f-10)*5
				}
				if err := r.WriteRTP(0, p); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			s.done()
			// ffmpeg's null output squeezes times onto the frame rate and
			// would complain about frames a millisecond apart; ask ffprobe
			// for the packet times themselves.
			pts := strings.Fields(run(t, nil, "ffprobe", "-v", "error", "-select_streams", "v:0",
				"-show_entries", "packet=pts", "-of", "csv=p=0", s.path))
			for i := 1; i < len(pts); i++ {
				a, _ := strconv.Atoi(pts[i-1])
				b, _ := strconv.Atoi(pts[i])
				if b <= a {
					t.Fatalf("packet %d at pts %d after %d: times must increase\n%v", i, b, a, pts)
				}
			}
			if len(pts) != 30 {
				t.Fatalf("%d packets; want 30", len(pts))
			}
		})
	}
}
