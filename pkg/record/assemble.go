package record

import (
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4/pkg/media"
)

// assembler puts VP8 frames back together from RTP packets that may come
// out of order. It releases a frame as soon as its last packet (the one
// with the marker bit, RFC 7741 section 4.1) and every packet before it
// are in: unlike pion's samplebuilder it does not wait for the next
// frame's first packet, which would cost a whole frame interval of
// latency. A missing packet is waited for until maxLate later packets or
// maxDelay of RTP time have arrived; then the frames it belongs to are
// given up and the sequence moves on.
//
// Frames come out in sequence order with their RTP headers, so the
// recorder can tell complete frames (ending with the marker) from frames
// cut short, and see gaps between them.
type assembler struct {
	maxLate  int64
	maxDelay uint32        // in RTP ticks
	delay    func() uint32 // if set, the current wait in RTP ticks, instead of maxDelay

	ring []slot // indexed by sequence number modulo len(ring)
	mask int64

	begun   bool  // head is set
	head    int64 // the next sequence number to release
	lowest  int64 // the lowest sequence number pushed before begun
	highest int64
	any     bool // anything pushed
	newest  uint32

	ready []*media.Sample
}

type slot struct {
	seq     int64
	pkt     *rtp.Packet // nil for padding
	padding bool
	full    bool
}

func newAssembler(maxLate uint16, maxDelayTicks uint32) *assembler {
	n := int64(1)
	for n < 2*int64(maxLate)+2 {
		n <<= 1
	}
	return &assembler{maxLate: int64(maxLate), maxDelay: maxDelayTicks, ring: make([]slot, n), mask: n - 1}
}

// push stores a packet under its unwrapped sequence number seq; padding
// packets only mark their sequence number as accounted for. Packets older
// than what was already released are ignored.
func (a *assembler) push(seq int64, p *rtp.Packet, padding bool) {
	if a.begun && seq < a.head {
		return
	}
	if !a.any || seq > a.highest {
		a.highest = seq
		if p != nil {
			a.newest = p.Timestamp
		}
	}
	if !a.begun && (!a.any || seq < a.lowest) {
		a.lowest = seq
	}
	a.any = true
	a.ring[seq&a.mask] = slot{seq: seq, pkt: p, padding: padding, full: true}
}

func (a *assembler) at(seq int64) *slot {
	s := &a.ring[seq&a.mask]
	if !s.full || s.seq != seq {
		return nil
	}
	return s
}

func (a *assembler) release(seq int64) {
	s := &a.ring[seq&a.mask]
	if s.seq == seq {
		*s = slot{}
	}
}

// pop returns the next finished frame, or nil. With flush it gives up on
// every missing packet, to empty the buffer at the end.
func (a *assembler) pop(flush bool) *media.Sample {
	if len(a.ready) == 0 {
		a.assemble(flush)
	}
	if len(a.ready) == 0 {
		return nil
	}
	s := a.ready[0]
	a.ready[0] = nil
	a.ready = a.ready[1:]
	return s
}

// assemble moves finished frames from the head of the buffer to ready.
func (a *assembler) assemble(flush bool) {
	if !a.any {
		return
	}
	if !a.begun {
		a.head, a.begun = a.lowest, true
	}
	for a.head <= a.highest {
		s := a.at(a.head)
		if s == nil {
			if !flush && !a.tooLate(a.head) {
				return
			}
			a.head++ // give the missing packet up
			continue
		}
		if s.padding {
			a.release(a.head)
			a.head++
			continue
		}
		// Collect the frame that starts at head.
		ts := s.pkt.Timestamp
		end := a.head
		complete := false
		for ; end <= a.highest; end++ {
			e := a.at(end)
			if e == nil || e.padding || e.pkt.Timestamp != ts {
				break
			}
			if e.pkt.Marker {
				complete = true
				break
			}
		}
		if complete && !isPartitionStart(s.pkt.Payload) {
			// The frame's first packets are lost: this is its tail.
			for seq := a.head; seq <= end; seq++ {
				a.release(seq)
			}
			a.head = end + 1
			continue
		}
		if !complete {
			next := a.at(end)
			cut := next != nil && !next.padding && next.pkt.Timestamp != ts
			if !cut && !flush && !a.tooLate(end) {
				return // wait for the rest of the frame
			}
			// The frame ended without its marker, or its rest is lost:
			// hand over what there is, the recorder drops it.
			end--
		}
		a.emit(a.head, end)
		a.head = end + 1
	}
}

// tooLate reports whether the packet seq should no longer be waited for.
func (a *assembler) tooLate(seq int64) bool {
	if a.highest-seq >= a.maxLate {
		return true
	}
	// The oldest packet present after the hole dates the frame.
	for s := seq + 1; s <= a.highest; s++ {
		if e := a.at(s); e != nil && !e.padding {
			wait := a.maxDelay
			if a.delay != nil {
				wait = a.delay()
			}
			return a.newest-e.pkt.Timestamp > wait && int32(a.newest-e.pkt.Timestamp) > 0
		}
	}
	return false
}

// emit makes one sample of the packets from..to.
func (a *assembler) emit(from, to int64) {
	var vp8 codecs.VP8Packet
	smp := &media.Sample{}
	for seq := from; seq <= to; seq++ {
		p := a.at(seq).pkt
		if seq == from {
			smp.PacketTimestamp = p.Timestamp
		}
		h := p.Header
		smp.RTPHeaders = append(smp.RTPHeaders, &h)
		if payload, err := vp8.Unmarshal(p.Payload); err == nil {
			smp.Data = append(smp.Data, payload...)
		}
		a.release(seq)
	}
	a.ready = append(a.ready, smp)
}

// isPartitionStart reports whether a VP8 payload starts a frame: the S bit
// set on partition 0 in the payload descriptor (RFC 7741 section 4.2).
func isPartitionStart(payload []byte) bool {
	return len(payload) > 0 && payload[0]&0x10 != 0 && payload[0]&0x07 == 0
}
