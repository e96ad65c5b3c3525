//go:build cgo

package vp8

import (
	"bytes"
	"fmt"
	"image"
	"testing"

	"github.com/pion/rtp/codecs"
)

// encodeLayered encodes n frames of the moving pattern with three temporal
// layers, forcing keyframes at the given frames.
func encodeLayered(t *testing.T, n int, forceAt map[int]bool) [][]byte {
	t.Helper()
	s := newSource(320, 240, 30)
	p := NewParams()
	p.BitRate = 600_000
	p.TemporalLayers = 3
	e := newTestEncoder(t, s, p)
	var frames [][]byte
	for i := range n {
		if forceAt[i] {
			_ = e.Controller().(Controller).ForceKeyFrame()
		}
		frames = append(frames, readFrame(t, e))
	}
	return frames
}

func TestLayeredFramesFollowTheCycle(t *testing.T) {
	forceAt := map[int]bool{10: true, 13: true}
	frames := encodeLayered(t, 24, forceAt)
	var got, want []int
	at := 0
	for i, fr := range frames {
		if i == 0 || forceAt[i] {
			at = 0
			if !isKey(fr) {
				t.Errorf("frame %d is not a keyframe", i)
			}
		}
		want = append(want, []int{0, 2, 1, 2}[at%4])
		at++
		l, err := FrameLayer(fr)
		if err != nil {
			t.Fatalf("frame %d: FrameLayer: %v", i, err)
		}
		got = append(got, l)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("layers\n got %v\nwant %v", got, want)
	}
}

func TestWithoutLayersEveryFrameIsLayerZero(t *testing.T) {
	s := newSource(320, 240, 30)
	e := newTestEncoder(t, s, NewParams())
	for i := range 20 {
		if l, err := FrameLayer(readFrame(t, e)); err != nil || l != 0 {
			t.Fatalf("frame %d: layer %d, %v; want 0", i, l, err)
		}
	}
}

// decodeAll decodes frames in order, failing on any error.
func decodeAll(t *testing.T, frames [][]byte) []*image.YCbCr {
	t.Helper()
	d, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var out []*image.YCbCr
	for i, fr := range frames {
		img, err := d.Decode(fr)
		if err != nil {
			t.Fatalf("frame %d of %d kept: %v", i, len(frames), err)
		}
		out = append(out, img)
	}
	return out
}

// TestDroppedLayersLeaveTheRestDecodable drops the layers above each layer
// and decodes what is left: every frame kept must decode to exactly the
// picture it decodes to in the whole stream, which holds only if no kept
// frame depends on a dropped one.
func TestDroppedLayersLeaveTheRestDecodable(t *testing.T) {
	frames := encodeLayered(t, 90, map[int]bool{45: true})
	full := decodeAll(t, frames)
	s := newPattern(320, 240)
	for i := 30; i < len(full); i++ {
		if q := psnr(s.frame(i), full[i]); q < 28 {
			t.Errorf("frame %d: PSNR %.1f dB in the whole stream", i, q)
		}
	}
	for _, maxLayer := range []int{0, 1} {
		t.Run(fmt.Sprintf("up to layer %d", maxLayer), func(t *testing.T) {
			var kept [][]byte
			var idx []int
			for i, fr := range frames {
				if l, _ := FrameLayer(fr); l <= maxLayer {
					kept = append(kept, fr)
					idx = append(idx, i)
				}
			}
			if want := len(frames) >> (2 - maxLayer); len(kept) < want-2 || len(kept) > want+2 {
				t.Errorf("%d frames kept of %d, want about %d", len(kept), len(frames), want)
			}
			for j, img := range decodeAll(t, kept) {
				if i := idx[j]; !bytes.Equal(img.Y, full[i].Y) || !bytes.Equal(img.Cb, full[i].Cb) || !bytes.Equal(img.Cr, full[i].Cr) {
					t.Fatalf("frame %d decodes to another picture without the layers above %d", i, maxLayer)
				}
			}
		})
	}
}

// packetize runs frames through a LayerPayloader and one receiver's
// LayerFilter whose layer changes as maxAt says (frame index -> layer),
// and returns the packets the receiver gets.
func packetize(frames [][]byte, maxAt map[int]int) [][]byte {
	var pay LayerPayloader
	var f LayerFilter
	maxLayer := 2
	var out [][]byte
	for i, fr := range frames {
		if l, ok := maxAt[i]; ok {
			maxLayer = l
		}
		for _, p := range pay.Payload(1200, fr) {
			if q, ok := f.Filter(p, maxLayer); ok {
				out = append(out, q)
			}
		}
	}
	return out
}

// received is a frame as a receiver reassembles it.
type received struct {
	frame     []byte
	pictureID uint16
	tl0       uint8
	tid       uint8
	sync      bool
}

func depacketize(t *testing.T, pkts [][]byte) []received {
	t.Helper()
	var out []received
	for i, p := range pkts {
		var v codecs.VP8Packet
		b, err := v.Unmarshal(p)
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if v.I != 1 || v.L != 1 || v.T != 1 {
			t.Fatalf("packet %d: descriptor without PictureID, TL0PICIDX or TID", i)
		}
		if v.S == 1 {
			out = append(out, received{pictureID: v.PictureID, tl0: v.TL0PICIDX, tid: v.TID, sync: v.Y == 1})
		}
		r := &out[len(out)-1]
		r.frame = append(r.frame, b...)
	}
	return out
}

func TestFilterKeepsLayersAndNumbersPicturesWithoutGaps(t *testing.T) {
	frames := encodeLayered(t, 64, map[int]bool{40: true})
	tests := []struct {
		name  string
		maxAt map[int]int // frame -> the receiver's layer from then on
	}{
		{"all layers", nil},
		{"layer 0", map[int]int{0: 0}},
		{"layers 0-1", map[int]int{0: 1}},
		{"down and up", map[int]int{0: 2, 9: 0, 21: 2, 30: 1, 50: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := depacketize(t, packetize(frames, tt.maxAt))
			// What should come through: a frame is kept when its layer is
			// allowed and, for layer 2, the last layer 1 frame (or a
			// keyframe since) was kept.
			var want [][]byte
			maxLayer, golden := 2, false
			for i, fr := range frames {
				if l, ok := tt.maxAt[i]; ok {
					maxLayer = l
				}
				l, _ := FrameLayer(fr)
				keep := isKey(fr) || (l <= maxLayer && (l < 2 || golden))
				if isKey(fr) || l == 1 {
					golden = keep
				}
				if keep {
					want = append(want, fr)
				}
			}
			if len(got) != len(want) {
				t.Fatalf("%d frames came through, want %d", len(got), len(want))
			}
			seen := map[uint8]bool{}
			for i, r := range got {
				if !bytes.Equal(r.frame, want[i]) {
					t.Fatalf("frame %d came through changed", i)
				}
				if i > 0 && r.pictureID != (got[i-1].pictureID+1)&0x7fff {
					t.Errorf("frame %d: PictureID %d after %d", i, r.pictureID, got[i-1].pictureID)
				}
				if i > 0 && r.tid == 0 && r.tl0 != got[i-1].tl0+1 {
					t.Errorf("frame %d: TL0PICIDX %d after %d", i, r.tl0, got[i-1].tl0)
				}
				if isKey(r.frame) {
					seen = map[uint8]bool{}
				}
				// A receiver's first frame of a layer since a keyframe or
				// a gap must be a layer sync frame.
				if r.tid > 0 && !seen[r.tid] && !r.sync {
					t.Errorf("frame %d: first of layer %d without Y", i, r.tid)
				}
				seen[r.tid] = true
			}
			var frs [][]byte
			for _, r := range got {
				frs = append(frs, r.frame)
			}
			decodeAll(t, frs)
		})
	}
}

func TestFilterPassesOtherPayloads(t *testing.T) {
	var f LayerFilter
	plain := (&codecs.VP8Payloader{EnablePictureID: true}).Payload(1200, []byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a})
	for _, p := range plain {
		q, ok := f.Filter(append([]byte(nil), p...), 0)
		if !ok || !bytes.Equal(q, p) {
			t.Errorf("payload without TID: got %x, %v; want it unchanged", q, ok)
		}
	}
}

func TestFrameLayerRejectsTruncatedHeaders(t *testing.T) {
	for _, fr := range [][]byte{nil, {0x01}, {0x01, 0x00, 0x00}, {0x41, 0x00, 0x00, 0xff}} {
		if _, err := FrameLayer(fr); err == nil {
			t.Errorf("FrameLayer(%x): no error", fr)
		}
	}
}

// TestLayeredRatesFollowTheTarget: with layers, the whole stream still
// meets the target, before and after SetBitRate, and the layers carry
// roughly their shares of it (40%, 60%, 100% from layer 0 up).
func TestLayeredRatesFollowTheTarget(t *testing.T) {
	s := newSource(640, 480, 30)
	p := NewParams()
	p.BitRate = 1_500_000
	p.TemporalLayers = 3
	e := newTestEncoder(t, s, p)
	ctrl := e.Controller().(Controller)
	measure := func(n int) (rate float64, share [3]float64) {
		var bytes [3]int
		total := 0
		for range n {
			fr := readFrame(t, e)
			l, err := FrameLayer(fr)
			if err != nil {
				t.Fatal(err)
			}
			bytes[l] += len(fr)
			total += len(fr)
		}
		acc := 0
		for l := range 3 {
			acc += bytes[l]
			share[l] = float64(acc) / float64(total)
		}
		return float64(total*8) * s.fps / float64(n), share
	}
	for _, target := range []int{1_500_000, 500_000} {
		if err := ctrl.SetBitRate(target); err != nil {
			t.Fatal(err)
		}
		measure(60) // settle
		rate, share := measure(240)
		t.Logf("target %d bit/s: %.0f bit/s, layers 0, 0-1 carry %.0f%%, %.0f%%", target, rate, 100*share[0], 100*share[1])
		if r := rate / float64(target); r < 0.8 || r > 1.2 {
			t.Errorf("target %d: %.0f bit/s, want within 20%%", target, rate)
		}
		if share[0] < 0.25 || share[0] > 0.6 || share[1] < 0.45 || share[1] > 0.8 {
			t.Errorf("target %d: layers 0 and 0-1 carry %.2f and %.2f of the bits; want about 0.4 and 0.6", target, share[0], share[1])
		}
	}
}
