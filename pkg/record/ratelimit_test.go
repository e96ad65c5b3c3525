package record

import (
	"io"
	"testing"
	"testing/synctest"
	"time"

	"github.com/p2pcam/p2pcam/internal/testutil"
)

// TestKeyFrameRequestsAreRateLimited feeds delta frames only, so the
// recorder keeps waiting for a keyframe, and checks with synctest's fake
// clock that RequestKeyFrame fires at once and then at most every 500 ms.
func TestKeyFrameRequestsAreRateLimited(t *testing.T) {
	frames := testutil.ReadIVF(t, fixture320)
	pkts, _ := feed{startFrame: 1}.packets(frames[:30]) // 29 delta frames
	steps := []struct {
		sleep time.Duration // before feeding
		n     int           // packets to feed
		want  int           // RequestKeyFrame calls so far
	}{
		{0, 20, 1},
		{100 * time.Millisecond, 2, 1},
		{450 * time.Millisecond, 2, 2}, // 550 ms after the first request
		{499 * time.Millisecond, 2, 2},
		{time.Millisecond, 2, 3},
	}
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		r, err := New(io.Discard, Options{Format: FormatIVF, Tracks: vp8Tracks(Track{RequestKeyFrame: func() { calls++ }})})
		if err != nil {
			t.Fatal(err)
		}
		next := 0
		for i, st := range steps {
			time.Sleep(st.sleep)
			for _, p := range pkts[next : next+st.n] {
				if err := r.WriteRTP(0, p); err != nil {
					t.Fatal(err)
				}
			}
			next += st.n
			if calls != st.want {
				t.Errorf("step %d: %d RequestKeyFrame calls, want %d", i, calls, st.want)
			}
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if got := r.Stats().KeyFrameRequests; got != uint64(calls) {
			t.Errorf("Stats().KeyFrameRequests = %d, want %d", got, calls)
		}
	})
}
