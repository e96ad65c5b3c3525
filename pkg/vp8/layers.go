package vp8

import (
	"errors"

	"github.com/pion/rtp"

	"github.com/p2pcam/p2pcam/pkg/codec"
)

// Temporal layers (Params.TemporalLayers) travel in RTP as RFC 7741 §4.2
// describes: every packet's payload descriptor carries the frame's
// 15-bit PictureID, TL0PICIDX (which layer 0 frame it hangs on) and TID
// (its layer), with the Y bit on frames that decode from layer 0 frames
// alone. The encoder does not tell the payloader a frame's layer: the
// payloader reads it from the frame's header (FrameLayer), what the frame
// updates being what makes it a layer.

// MaxTemporalLayers is the most temporal layers the encoder makes.
const MaxTemporalLayers = 3

// layerPattern is the layer of each frame in one cycle.
func layerPattern(layers int) []int {
	if layers == 3 {
		return []int{0, 2, 1, 2}
	}
	return []int{0}
}

// layerShare is the share of the bitrate layers 0..i carry together, as
// libwebrtc splits it (40%, 20%, 40% for three layers).
func layerShare(layers int) []float64 {
	if layers == 3 {
		return []float64{0.4, 0.6, 1}
	}
	return []float64{1}
}

// layering is VP8's codec.Layering.
func layering() *codec.Layering {
	return &codec.Layering{
		NewPayloader: func() rtp.Payloader { return &LayerPayloader{} },
		NewFilter:    func() codec.LayerFilter { return &LayerFilter{} },
		Share:        layerShare,
	}
}

var errFrameHeader = errors.New("vp8 frame header truncated")

// FrameLayer returns the temporal layer of a frame this package's
// encoder made, read from what the frame header says it updates (RFC 6386
// §9.7–9.8, §19.2): a keyframe or a frame that updates LAST is layer 0,
// one that updates GOLDEN or ALTREF but not LAST is layer 1, and one that
// updates nothing is layer 2. Without temporal layers every frame is layer
// 0.
func FrameLayer(frame []byte) (int, error) {
	if len(frame) < 3 {
		return 0, errFrameHeader
	}
	if IsKeyFrame(frame) {
		return 0, nil
	}
	first := (int(frame[0]) | int(frame[1])<<8 | int(frame[2])<<16) >> 5
	if first > len(frame)-3 || first < 2 {
		return 0, errFrameHeader
	}
	d := newBoolDecoder(frame[3 : 3+first])
	if d.flag() { // segmentation_enabled
		updateMap, updateData := d.flag(), d.flag()
		if updateData {
			d.lit(1) // segment_feature_mode
			for range 4 {
				d.optSigned(7) // quantizer
			}
			for range 4 {
				d.optSigned(6) // loop filter level
			}
		}
		if updateMap {
			for range 3 {
				if d.flag() {
					d.lit(8)
				}
			}
		}
	}
	d.lit(1 + 6 + 3) // filter_type, loop_filter_level, sharpness_level
	// loop_filter_adj_enable, and only then mode_ref_lf_delta_update:
	// two reads of the bitstream, the second only when the first is set.
	if adjEnable := d.flag(); adjEnable {
		if deltaUpdate := d.flag(); deltaUpdate {
			for range 8 {
				d.optSigned(6)
			}
		}
	}
	d.lit(2) // log2_nbr_of_dct_partitions
	d.lit(7) // y_ac_qi
	for range 5 {
		d.optSigned(4)
	}
	golden, alt := d.flag(), d.flag()
	copyGolden, copyAlt := 0, 0
	if !golden {
		copyGolden = d.lit(2)
	}
	if !alt {
		copyAlt = d.lit(2)
	}
	d.lit(3) // sign_bias_golden, sign_bias_alternate, refresh_entropy_probs
	last := d.flag()
	if d.overrun {
		return 0, errFrameHeader
	}
	switch {
	case last:
		return 0, nil
	case golden || alt || copyGolden != 0 || copyAlt != 0:
		return 1, nil
	default:
		return 2, nil
	}
}

// boolDecoder is RFC 6386 §7.3's boolean entropy decoder, enough to read
// a frame header's literals.
type boolDecoder struct {
	data    []byte
	pos     int
	value   uint32
	rng     uint32
	bits    int
	overrun bool
}

func newBoolDecoder(b []byte) *boolDecoder {
	d := &boolDecoder{data: b, rng: 255}
	d.value = uint32(d.next())<<8 | uint32(d.next())
	return d
}

func (d *boolDecoder) next() byte {
	if d.pos >= len(d.data) {
		d.overrun = true
		return 0
	}
	d.pos++
	return d.data[d.pos-1]
}

func (d *boolDecoder) bool(prob uint32) bool {
	split := 1 + ((d.rng-1)*prob)>>8
	big := split << 8
	var b bool
	if d.value >= big {
		b = true
		d.rng -= split
		d.value -= big
	} else {
		d.rng = split
	}
	for d.rng < 128 {
		d.value <<= 1
		d.rng <<= 1
		if d.bits++; d.bits == 8 {
			d.bits = 0
			d.value |= uint32(d.next())
		}
	}
	return b
}

func (d *boolDecoder) flag() bool { return d.bool(128) }

func (d *boolDecoder) lit(n int) int {
	v := 0
	for range n {
		v <<= 1
		if d.flag() {
			v |= 1
		}
	}
	return v
}

// optSigned skips a flagged, signed n-bit field.
func (d *boolDecoder) optSigned(n int) {
	if d.flag() {
		d.lit(n + 1)
	}
}

// descLen is the payload descriptor LayerPayloader writes: the first
// byte, the extension byte, a 15-bit PictureID, TL0PICIDX and TID/Y.
const descLen = 6

// RFC 7741 §4.2 payload descriptor bits.
const (
	bitX   = 0x80 // extension present (byte 0)
	bitN   = 0x20 // non-reference frame (byte 0)
	bitS   = 0x10 // start of a partition (byte 0)
	bitI   = 0x80 // PictureID present (extension byte)
	bitL   = 0x40 // TL0PICIDX present (extension byte)
	bitT   = 0x20 // TID present (extension byte)
	bitK   = 0x10 // KEYIDX present (extension byte)
	bitM   = 0x80 // 15-bit PictureID
	bitY   = 0x20 // layer sync (TID byte)
	pidMax = 0x7fff
)

// LayerPayloader splits frames of a layered stream into RTP payloads (RFC
// 7741 §4), each with a descriptor naming the frame's layer: PictureID,
// TL0PICIDX and TID, Y on frames that decode from layer 0 alone, N on
// the top layer's frames, which nothing references. Frames whose layer
// cannot be read go out as layer 0.
type LayerPayloader struct {
	pictureID uint16
	tl0       uint8
	started   bool
	sinceKey  bool // a layer 1 frame came since the last keyframe
}

// Payload implements rtp.Payloader.
func (p *LayerPayloader) Payload(mtu uint16, frame []byte) [][]byte {
	if len(frame) == 0 || int(mtu) <= descLen {
		return nil
	}
	layer, err := FrameLayer(frame)
	if err != nil {
		layer = 0
	}
	if p.started {
		p.pictureID = (p.pictureID + 1) & pidMax
		if layer == 0 {
			p.tl0++
		}
	}
	p.started = true
	key := IsKeyFrame(frame)
	if key {
		p.sinceKey = false
	}
	// Layer 1 references LAST alone; layer 2 references GOLDEN too,
	// which holds the keyframe until a layer 1 frame comes.
	sync := layer == 1 || (layer == 2 && !p.sinceKey)
	if layer == 1 {
		p.sinceKey = true
	}
	b0 := byte(bitX)
	if layer == 2 {
		b0 |= bitN
	}
	tid := byte(layer) << 6
	if sync {
		tid |= bitY
	}
	max := int(mtu) - descLen
	var out [][]byte
	for i := 0; i < len(frame); i += max {
		chunk := frame[i:min(i+max, len(frame))]
		pkt := make([]byte, descLen+len(chunk))
		pkt[0] = b0
		if i == 0 {
			pkt[0] |= bitS
		}
		pkt[1] = bitI | bitL | bitT
		pkt[2] = bitM | byte(p.pictureID>>8)
		pkt[3] = byte(p.pictureID)
		pkt[4] = p.tl0
		pkt[5] = tid
		copy(pkt[descLen:], chunk)
		out = append(out, pkt)
	}
	return out
}

// LayerFilter is one receiver's view of a stream LayerPayloader made
// (codec.LayerFilter): it leaves out the frames above the receiver's
// layer and renumbers PictureID so that the frames it keeps are
// consecutive, since a receiver takes a gap for a lost frame it must wait
// for (RFC 7741 §4.2). Keyframes are always kept. Layer 1 frames can be
// taken up at any frame; layer 2 frames only once the receiver has the
// layer 1 frame they reference. Y is set on a receiver's first frame of a
// layer after a keyframe or a gap in that layer, so that a receiver that
// tracks references by layer (Chrome does) does not wait for frames it
// was never sent.
type LayerFilter struct {
	started   bool
	drop      bool   // the current frame is left out
	sync      bool   // the current frame gets Y
	pictureID uint16 // the receiver's PictureID of the current frame
	hasGolden bool   // the receiver has the frame in GOLDEN
	had       [MaxTemporalLayers]bool
}

// Filter implements codec.LayerFilter. Payloads without PictureID and
// TID pass unchanged.
func (f *LayerFilter) Filter(payload []byte, maxLayer int) ([]byte, bool) {
	n, ok := descriptorLen(payload)
	if !ok || payload[1]&(bitI|bitT) != bitI|bitT || payload[2]&bitM == 0 || n >= len(payload) {
		return payload, true
	}
	tidAt := n - 1
	tid := int(payload[tidAt] >> 6)
	if payload[0]&bitS != 0 && payload[0]&0x07 == 0 { // a frame starts
		key := payload[n]&0x01 == 0
		keep := key || (tid <= maxLayer && (tid < 2 || f.hasGolden))
		switch {
		case key:
			f.hasGolden = true
			f.had = [MaxTemporalLayers]bool{}
		case tid == 1:
			f.hasGolden = keep
		}
		f.drop = !keep
		if !keep {
			if tid < len(f.had) {
				f.had[tid] = false
			}
			return nil, false
		}
		if f.started {
			f.pictureID = (f.pictureID + 1) & pidMax
		} else {
			f.started = true
			f.pictureID = uint16(payload[2]&0x7f)<<8 | uint16(payload[3])
		}
		f.sync = false
		for l := 1; l <= tid && l < len(f.had); l++ {
			if !f.had[l] {
				f.sync = true
			}
		}
		if tid < len(f.had) {
			f.had[tid] = true
		}
	}
	if f.drop || !f.started {
		return nil, false
	}
	payload[2] = bitM | byte(f.pictureID>>8)
	payload[3] = byte(f.pictureID)
	if f.sync {
		payload[tidAt] |= bitY
	}
	return payload, true
}

// descriptorLen is the length of a VP8 payload descriptor whose
// extension byte has L and T (or K) set: the position of the TID byte
// plus one. ok is false when payload is too short for what its bits
// announce, or lacks L or T/K.
func descriptorLen(p []byte) (int, bool) {
	if len(p) < 2 || p[0]&bitX == 0 {
		return 0, false
	}
	x := p[1]
	n := 2
	if x&bitI != 0 {
		if len(p) <= n {
			return 0, false
		}
		if p[n]&bitM != 0 {
			n += 2
		} else {
			n++
		}
	}
	if x&bitL == 0 || x&(bitT|bitK) == 0 {
		return 0, false
	}
	n += 2 // TL0PICIDX, TID/Y/KEYIDX
	if len(p) < n {
		return 0, false
	}
	return n, true
}
