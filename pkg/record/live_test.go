package record

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/testutil"
	"github.com/p2pcam/p2pcam/pkg/vp8"
)

// gatedWriter blocks every Write until open is called, as a pipe whose
// reader has not started reading.
type gatedWriter struct {
	gate chan struct{}
	once sync.Once
	mu   sync.Mutex
	buf  bytes.Buffer
}

func (g *gatedWriter) Write(p []byte) (int, error) {
	<-g.gate
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.buf.Write(p)
}

func (g *gatedWriter) open() { g.once.Do(func() { close(g.gate) }) }

// writeWithoutBlocking runs write, which feeds a live recorder whose
// output stalls, and fails the test unless it returns, without error,
// within 20 s: live WriteRTP never waits for the output. what, when not
// empty, is said after the failure.
func writeWithoutBlocking(t *testing.T, what string, write func() error) {
	t.Helper()
	fed := make(chan error, 1)
	go func() { fed <- write() }()
	select {
	case err := <-fed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("WriteRTP blocked on a stalled live output" + what)
	}
}

// TestLiveOutputDropsToKeyFrames: with Options.Live, WriteRTP goes on
// while the output does not take a byte; the frames that could not wait
// are dropped up to keyframes and counted, the rest written in order with
// strictly increasing times and no hole in them, and the stream decodes.
// Without Live, a stalled output holds WriteRTP (see Options.Live), so
// this test is about Live only.
func TestLiveOutputDropsToKeyFrames(t *testing.T) {
	frames := testutil.ReadIVF(t, fixture320) // keyframes at 0, 30 and 60
	index := map[string]int{}
	for i, f := range frames {
		index[string(f)] = i
	}
	for _, tc := range []struct {
		name    string
		stalled int // frames fed while the output takes nothing
	}{
		{"stalled for a few frames", 5},
		{"stalled past a keyframe", 45},
		{"stalled past two keyframes", 63},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &gatedWriter{gate: make(chan struct{})}
			defer w.open()
			r, err := New(w, Options{Format: FormatIVF, Live: true, Tracks: vp8Tracks(Track{})})
			if err != nil {
				t.Fatal(err)
			}
			pkts, _ := feed{}.packets(frames)
			perFrame := len(pkts) / len(frames)
			writeWithoutBlocking(t, fmt.Sprintf(" (about %d packets a frame)", perFrame), func() error {
				for _, p := range pkts {
					if p.Timestamp/3000 == uint32(tc.stalled) { // #nosec G115: small
						break
					}
					if err := r.WriteRTP(0, p); err != nil {
						return err
					}
				}
				return nil
			})
			// Open, the output keeps up: each frame is taken before the
			// next comes.
			w.open()
			for _, p := range pkts {
				if p.Timestamp/3000 < uint32(tc.stalled) { // #nosec G115: small
					continue
				}
				if err := r.WriteRTP(0, p); err != nil {
					t.Fatal(err)
				}
				if p.Marker {
					waitDrained(t, r)
				}
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			st := r.Stats()
			out, pts := testutil.IVFFrames(t, w.buf.Bytes())
			t.Logf("%d frames written, %d dropped behind; pts %v", len(out), st.FramesBehind, pts)
			if got := uint64(len(out)); got != st.FramesWritten || got+st.FramesBehind != uint64(len(frames)) {
				t.Errorf("%d frames in the output, Stats: %d written + %d behind; want %d in all",
					got, st.FramesWritten, st.FramesBehind, len(frames))
			}
			if tc.stalled > liveMaxFrames+1 && st.FramesBehind == 0 {
				t.Errorf("nothing dropped after %d frames stalled", tc.stalled)
			}
			prev := -1
			for i, f := range out {
				n, ok := index[string(f)]
				switch {
				case !ok:
					t.Fatalf("frame %d of the output is none of the input's", i)
				case n <= prev:
					t.Fatalf("frame %d of the output is input frame %d, after %d", i, n, prev)
				case n != prev+1 && !vp8.IsKeyFrame(f):
					t.Errorf("after input frame %d comes %d, a delta frame: undecodable", prev, n)
				}
				if i > 0 && (pts[i] <= pts[i-1] || pts[i]-pts[i-1] > 100) {
					t.Errorf("pts %d after %d: want increasing, with no hole", pts[i], pts[i-1])
				}
				prev = n
			}
			testutil.DecodesCleanlyData(t, w.buf.Bytes())
		})
	}
}

// waitDrained waits until r's live queue handed its frames to the muxer.
func waitDrained(t *testing.T, r *Recorder) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		r.mu.Lock()
		q := r.queue
		r.mu.Unlock()
		if q == nil {
			return
		}
		q.mu.Lock()
		n := len(q.q)
		q.mu.Unlock()
		if n == 0 {
			return
		}
	}
	t.Fatal("the live queue did not drain into an open output")
}

// TestLiveQueueCarriesOtherTracks: the live queue judges by the main
// track, and the other tracks' frames go with it: counted in the span but
// not in the frame limit, dropped with it, and moved in time with it.
func TestLiveQueueCarriesOtherTracks(t *testing.T) {
	hold := make(chan struct{})
	l := newLiveQueue(func() (muxer, error) { <-hold; return nil, errors.New("no muxer") }, &output{w: io.Discard})
	defer func() { close(hold); l.close() }()
	video := func(pts int64, key bool) liveFrame { return liveFrame{track: 0, main: true, key: key, pts: pts} }
	audio := func(pts int64) liveFrame { return liveFrame{track: 1, key: true, pts: pts} }
	put := func(f liveFrame) (bool, []liveFrame) {
		t.Helper()
		queued, dropped, _ := l.put(f)
		return queued, dropped
	}

	// Eight video frames (a keyframe first) and audio between them, 10 ms
	// apart: 16 frames queued, within the span.
	for i := range int64(8) {
		if q, d := put(video(i*20, i == 0)); !q || len(d) > 0 {
			t.Fatalf("video frame %d: queued %v, dropped %d; want queued, none dropped", i, q, len(d))
		}
		if q, d := put(audio(i*20 + 10)); !q || len(d) > 0 {
			t.Fatalf("audio frame %d: queued %v, dropped %d; want queued, none dropped", i, q, len(d))
		}
	}
	// The ninth video frame finds the queue full: the first keyframe is
	// kept, everything after it dropped, video and audio alike, and the
	// queue waits for a keyframe, dropping audio meanwhile.
	q, d := put(video(160, false))
	if q || len(d) != 15 {
		t.Fatalf("ninth video frame: queued %v, dropped %d; want dropped, with the 15 frames after the keyframe", q, len(d))
	}
	tracks := map[int]int{}
	for _, f := range d {
		tracks[f.track]++
	}
	if tracks[0] != 7 || tracks[1] != 8 {
		t.Errorf("dropped %d video and %d audio frames; want 7 and 8", tracks[0], tracks[1])
	}
	if q, _ := put(audio(170)); q {
		t.Error("audio queued while the video waits for a keyframe")
	}
	// The next keyframe closes the gap: it follows the kept one by a frame
	// interval, and the audio after it keeps its distance to it.
	if q, _ := put(video(180, true)); !q {
		t.Fatal("keyframe not queued")
	}
	if q, _ := put(audio(190)); !q {
		t.Fatal("audio after the keyframe not queued")
	}
	l.mu.Lock()
	var got []int64
	for _, f := range l.q {
		got = append(got, f.pts)
	}
	l.mu.Unlock()
	if want := []int64{0, 20, 30}; !slices.Equal(got, want) {
		t.Errorf("queued at %v ms; want %v", got, want)
	}
}
