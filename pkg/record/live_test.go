package record

import (
	"bytes"
	"encoding/binary"
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

// ivfFrames splits an IVF stream into its frames and their pts.
func ivfFrames(t *testing.T, b []byte) (frames [][]byte, pts []int64) {
	t.Helper()
	if len(b) < 32 || string(b[:4]) != "DKIF" {
		t.Fatalf("not an IVF stream (%d bytes)", len(b))
	}
	for off := 32; off < len(b); {
		if off+12 > len(b) {
			t.Fatalf("truncated frame header at %d", off)
		}
		n := int(binary.LittleEndian.Uint32(b[off:]))
		pts = append(pts, int64(binary.LittleEndian.Uint64(b[off+4:]))) // #nosec G115: test data
		off += 12
		if off+n > len(b) {
			t.Fatalf("truncated frame at %d", off)
		}
		frames = append(frames, b[off:off+n])
		off += n
	}
	return frames, pts
}

// TestLiveOutputDropsToKeyFrames: with Options.Live, WriteRTP goes on
// while the output does not take a byte; the frames that could not wait
// are dropped up to keyframes and counted, the rest written in order with
// strictly increasing times and no hole in them, and the stream decodes.
// Without Live, a stalled output holds WriteRTP (see Options.Live), so
// this test is about Live only.
func TestLiveOutputDropsToKeyFrames(t *testing.T) {
	frames := readIVF(t, fixture320) // keyframes at 0, 30 and 60
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
			fed := make(chan error, 1)
			go func() {
				for _, p := range pkts {
					if p.Timestamp/3000 == uint32(tc.stalled) { // #nosec G115: small
						break
					}
					if err := r.WriteRTP(0, p); err != nil {
						fed <- err
						return
					}
				}
				fed <- nil
			}()
			select {
			case err := <-fed:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("WriteRTP blocked on a stalled live output (about %d packets a frame)", perFrame)
			}
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
			out, pts := ivfFrames(t, w.buf.Bytes())
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
