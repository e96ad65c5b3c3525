package serve

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	rtpcodecs "github.com/pion/rtp/codecs"
	"github.com/pion/transport/v5/test"

	"github.com/p2pcam/p2pcam/internal/testutil"
	"github.com/p2pcam/p2pcam/pkg/capture"
	"github.com/p2pcam/p2pcam/pkg/peer"
)

// player is a receive-only pion viewer that reassembles and decodes what
// it is sent, checking the stream as a receiver sees it: sequence numbers
// and PictureIDs without gaps, every frame decoded.
type player struct {
	p    *peer.Peer
	done chan struct{}

	mu       sync.Mutex
	frames   int
	stamps   []uint32 // RTP timestamp of each frame decoded
	maxTID   uint8
	moved    int // frames whose picture differs from the one before
	problems []string
	gotN     chan struct{} // closed at want frames
	want     int
}

func play(t *testing.T, ctx context.Context, endpoint string, want int) *player {
	t.Helper()
	p, _ := joinWHEP(t, ctx, endpoint)
	pl := &player{p: p, done: make(chan struct{}), gotN: make(chan struct{}), want: want}
	go pl.run(ctx)
	return pl
}

func (pl *player) fail(format string, args ...any) {
	pl.problems = append(pl.problems, fmt.Sprintf(format, args...))
}

func (pl *player) run(ctx context.Context) {
	defer close(pl.done)
	var tr peer.RemoteTrack
	select {
	case tr = <-pl.p.Tracks():
	case <-ctx.Done():
		return
	}
	dec, err := tr.Codec.NewVideoDecoder()
	if err != nil {
		pl.mu.Lock()
		pl.fail("decoder: %v", err)
		pl.mu.Unlock()
		return
	}
	defer dec.Close()
	var (
		frame    []byte
		lastSeq  uint16
		lastPID  uint16
		started  bool
		havePID  bool
		last     *image.YCbCr
		inFrame  bool
		frameTID uint8
	)
	for {
		pkt, _, err := tr.Track.ReadRTP()
		if err != nil {
			return
		}
		pl.mu.Lock()
		if started && pkt.SequenceNumber != lastSeq+1 {
			pl.fail("sequence %d after %d", pkt.SequenceNumber, lastSeq)
		}
		started, lastSeq = true, pkt.SequenceNumber
		var v rtpcodecs.VP8Packet
		b, err := v.Unmarshal(pkt.Payload)
		if err != nil {
			pl.fail("payload: %v", err)
			pl.mu.Unlock()
			continue
		}
		if v.S == 1 && v.PID == 0 {
			if havePID && v.PictureID != (lastPID+1)&0x7fff {
				pl.fail("PictureID %d after %d", v.PictureID, lastPID)
			}
			havePID, lastPID = true, v.PictureID
			frame, inFrame, frameTID = frame[:0], true, v.TID
		}
		if inFrame {
			frame = append(frame, b...)
		}
		if pkt.Marker && inFrame {
			inFrame = false
			img, err := dec.Decode(frame)
			switch {
			case err != nil:
				pl.fail("frame %d: %v", pl.frames, err)
			default:
				if last != nil && !bytes.Equal(last.Y, img.Y) {
					pl.moved++
				}
				last = img
				pl.frames++
				pl.stamps = append(pl.stamps, pkt.Timestamp)
				pl.maxTID = max(pl.maxTID, frameTID)
				if pl.frames == pl.want {
					close(pl.gotN)
				}
			}
		}
		pl.mu.Unlock()
	}
}

// medianGap is the median RTP timestamp step between decoded frames, in
// 90 kHz ticks.
func (pl *player) medianGap() uint32 {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	var gaps []uint32
	for i := 1; i < len(pl.stamps); i++ {
		gaps = append(gaps, pl.stamps[i]-pl.stamps[i-1])
	}
	if len(gaps) == 0 {
		return 0
	}
	slices.Sort(gaps)
	return gaps[len(gaps)/2]
}

// TestSlowViewerGetsTheBaseLayer: two viewers of one layered encoder, the
// first held to layer 0, the second sent everything. Both decode every
// frame they get without an error and see a moving picture; the first
// gets every fourth frame (7.5 of 30 fps), the second every frame.
func TestSlowViewerGetsTheBaseLayer(t *testing.T) {
	testutil.NeedCodec(t)
	defer test.CheckRoutines(t)()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sctx, stop := context.WithCancel(ctx)
	ran, log := start(t, sctx, Config{
		Source: capture.Source{Kind: capture.Test}, Capture: capture.Options{Width: 320, Height: 240, FPS: 30},
		capLayer: func(nth int) int {
			if nth == 0 {
				return 0
			}
			return serveLayers - 1
		},
	})
	ready := log.listening(t, ctx)
	slow := play(t, ctx, ready.WHEP, 20)
	fast := play(t, ctx, ready.WHEP, 80)
	for _, pl := range []*player{slow, fast} {
		select {
		case <-pl.gotN:
		case <-ctx.Done():
			t.Fatalf("a viewer decoded only %d frames", pl.frames)
		}
	}
	stop()
	if err := <-ran; err != nil {
		t.Fatalf("Run: %v", err)
	}
	slow.p.Close()
	fast.p.Close()
	<-slow.done
	<-fast.done

	for _, c := range []struct {
		name   string
		pl     *player
		maxTID uint8
		gap    uint32 // the median frame step, 90 kHz ticks
	}{
		{"held to layer 0", slow, 0, 4 * 3000},
		{"sent every layer", fast, 2, 3000},
	} {
		if len(c.pl.problems) > 0 {
			t.Errorf("viewer %s: %d problems, first: %s", c.name, len(c.pl.problems), strings.Join(c.pl.problems[:min(5, len(c.pl.problems))], "; "))
		}
		if c.pl.maxTID != c.maxTID {
			t.Errorf("viewer %s got layers up to %d, want %d", c.name, c.pl.maxTID, c.maxTID)
		}
		if c.pl.moved < c.pl.frames/2 {
			t.Errorf("viewer %s: the picture changed in %d of %d frames", c.name, c.pl.moved, c.pl.frames)
		}
		// Timestamps follow the capture clock: allow its jitter.
		if g := c.pl.medianGap(); g < c.gap*3/4 || g > c.gap*5/4 {
			t.Errorf("viewer %s: median frame step %d ticks, want about %d", c.name, g, c.gap)
		}
		t.Logf("viewer %s: %d frames decoded, median step %d ticks", c.name, c.pl.frames, c.pl.medianGap())
	}
}
