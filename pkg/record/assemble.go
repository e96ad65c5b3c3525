package record

import (
	"time"

	"github.com/pion/rtp"
)

// assembler puts one track's frames back together from RTP packets that
// may come out of order, with the codec's depacketizer (codec.Descriptor):
// it releases a frame as soon as it is whole: every packet from the one
// the depacketizer calls a partition head (rtp.Depacketizer's
// IsPartitionHead) through the one it calls a partition tail
// (IsPartitionTail: for video formats the marker bit, RFC 3550 section
// 5.1; for audio formats, where a packet is a frame, every packet), with
// contiguous sequence numbers and one timestamp. Unlike pion's
// samplebuilder it does not wait for the next frame's first packet, which
// would cost a whole frame interval of latency.
//
// A missing packet is waited for until maxLate later packets arrived, or
// until wait() has passed on the clock since a later packet showed the
// gap (that is also when the NACK generator asks for it); then it is
// given up, and the frames behind it go out. The wait is wall-clock time,
// not RTP time: a retransmission takes a network round trip whatever the
// sender's capture clock says.
//
// Frames come out in sequence order. A frame that was not whole (its
// start or its end lost, a malformed payload header) still comes out, marked
// incomplete, so the recorder can count it; a frame preceded by packets
// that were given up is marked gap.
//
// Payloads are copied into buffers the assembler recycles, so a packet
// costs no allocation; each frame's data is one fresh allocation, because
// the muxers keep it.
type assembler struct {
	maxLate int64
	wait    func() time.Duration // how long a missing packet is awaited
	now     func() time.Time
	depack  rtp.Depacketizer // the codec's: strips payload headers, finds frame starts

	ring []slot // indexed by sequence number modulo len(ring)
	mask int64
	free [][]byte // payload buffers to reuse

	any     bool  // a packet was pushed
	begun   bool  // head is set: a packet with the marker arrived
	head    int64 // the next sequence number to release
	lowest  int64 // the lowest sequence number pushed before begun
	highest int64
	scan    int64 // head..scan-1 are one frame's packets without the marker, or given up
	broken  bool  // packets in head..scan-1 were given up
	gave    bool  // packets were given up since the last frame released

	ready []frame
	next  int // ready[next:] are still to pop
}

// frame is what the assembler releases.
type frame struct {
	first, last int64  // sequence numbers of its first and last packets
	ts          uint32 // RTP timestamp
	data        []byte // the frame, payload headers stripped; owned by the receiver
	// complete: it starts a frame, ends with the marker, no packet of it is
	// missing and every payload header parsed.
	complete bool
	// gap: packets before it (since the previous frame) were given up.
	gap bool
}

// Slot states.
const (
	slotEmpty   = iota
	slotPacket  // a media packet
	slotPadding // a padding-only packet: no media, not a loss
	slotMissing // a later packet arrived; noticed says when
)

type slot struct {
	seq     int64
	noticed time.Time // slotMissing: when the gap was seen
	data    []byte    // slotPacket: the payload, its codec's header stripped
	ts      uint32
	state   uint8
	start   bool // the depacketizer's partition head: a frame starts here
	marker  bool
	bad     bool // the payload header did not parse
}

// newAssembler returns an assembler with a reorder window of maxLate
// packets whose missing packets are awaited wait() (called while one is
// missing), depacketizing with depack. The clock is time.Now.
func newAssembler(maxLate uint16, wait func() time.Duration, depack rtp.Depacketizer) *assembler {
	n := int64(1)
	for n < 2*int64(maxLate)+2 {
		n <<= 1
	}
	return &assembler{
		maxLate: int64(maxLate),
		wait:    wait,
		now:     time.Now,
		depack:  depack,
		ring:    make([]slot, n),
		mask:    n - 1,
	}
}

// nackInterval is how often the receiver's NACK generator asks for missing
// packets; pkg/peer configures the same.
const nackInterval = 20 * time.Millisecond

// minWait is the least time a missing packet is waited for when the RTT
// is known.
const minWait = 120 * time.Millisecond

// waitFor is how long a Recorder waits for a missing packet given
// the round-trip time rtt and Options.MaxDelay: a NACK goes out within
// the generator's 20 ms interval, the retransmission needs a round trip
// and a second try another, and 30 ms cover scheduling; so 2×rtt + 50 ms,
// but never less than 120 ms (on a busy machine a sender answers NACKs
// that slowly even over loopback, and giving up costs a keyframe round
// trip anyway) and never more than maxDelay. An rtt <= 0 (unknown) gives
// maxDelay. For example rtt 10 ms gives 120 ms, rtt 100 ms gives 250 ms.
func waitFor(rtt, maxDelay time.Duration) time.Duration {
	if rtt <= 0 {
		return maxDelay
	}
	return min(maxDelay, max(minWait, 2*rtt+nackInterval+30*time.Millisecond))
}

// reset forgets everything, keeping the ring and buffers, as after a
// change of SSRC.
func (a *assembler) reset() {
	for i := range a.ring {
		a.clear(&a.ring[i])
	}
	a.any, a.begun, a.gave, a.broken = false, false, false, false
	a.ready, a.next = a.ready[:0], 0
}

// clear empties a slot and recycles its buffer.
func (a *assembler) clear(s *slot) {
	if s.data != nil {
		a.free = append(a.free, s.data[:0])
	}
	*s = slot{}
}

// push stores a packet under its unwrapped sequence number seq; a nil
// payload is a padding-only packet, which only marks its sequence number
// as accounted for. The payload is copied. Packets already released and
// duplicates are ignored.
func (a *assembler) push(seq int64, ts uint32, marker bool, payload []byte) {
	if a.begun && seq < a.head {
		return
	}
	s := &a.ring[seq&a.mask]
	if s.seq == seq && (s.state == slotPacket || s.state == slotPadding) {
		return // duplicate
	}
	switch {
	case !a.any:
		a.highest, a.lowest = seq, seq
	case seq > a.highest:
		// Everything between the old highest and seq is now missing.
		now := a.now()
		for m := max(a.highest+1, seq-int64(len(a.ring))+1); m < seq; m++ {
			ms := &a.ring[m&a.mask]
			a.clear(ms)
			*ms = slot{seq: m, state: slotMissing, noticed: now}
		}
		a.highest = seq
	case !a.begun && seq < a.lowest:
		now := a.now()
		for m := max(seq+1, a.lowest-int64(len(a.ring))+1); m < a.lowest; m++ {
			ms := &a.ring[m&a.mask]
			a.clear(ms)
			*ms = slot{seq: m, state: slotMissing, noticed: now}
		}
		a.lowest = seq
	}
	a.any = true
	a.clear(s)
	s.seq = seq
	if payload == nil {
		s.state = slotPadding
		return
	}
	// "marker" is the end of a frame from here on, as the payload
	// format says (see the type's comment).
	marker = a.depack.IsPartitionTail(marker, payload)
	s.state, s.ts, s.marker = slotPacket, ts, marker
	if marker && !a.begun {
		// Releasing fixes where the output starts, and a packet older
		// than that which arrives later is lost: start once the first
		// frame's last packet is in, so a first keyframe that came out
		// of order is still whole.
		a.head, a.scan, a.begun = a.lowest, a.lowest, true
	}
	data, err := a.depack.Unmarshal(payload)
	if err != nil {
		s.bad = true
		return
	}
	s.start = a.depack.IsPartitionHead(payload)
	if n := len(a.free); n > 0 {
		s.data = append(a.free[n-1], data...)
		a.free = a.free[:n-1]
	} else {
		s.data = append(make([]byte, 0, 1200), data...)
	}
}

// at returns the slot of seq if it holds a packet (media or padding).
func (a *assembler) at(seq int64) *slot {
	s := &a.ring[seq&a.mask]
	if s.seq != seq || (s.state != slotPacket && s.state != slotPadding) {
		return nil
	}
	return s
}

// pop returns the next released frame; ok is false when there is none.
// With flush it gives up on every missing packet, to empty the buffer at
// the end. f.data stays valid after later calls.
func (a *assembler) pop(flush bool) (f frame, ok bool) {
	if a.next == len(a.ready) {
		a.ready, a.next = a.ready[:0], 0
		a.assemble(flush)
	}
	if a.next == len(a.ready) {
		return frame{}, false
	}
	f = a.ready[a.next]
	a.ready[a.next] = frame{}
	a.next++
	return f, true
}

// assemble moves released frames from the head of the buffer to ready.
func (a *assembler) assemble(flush bool) {
	if !a.begun {
		if !flush || !a.any {
			return
		}
		a.head, a.scan, a.begun = a.lowest, a.lowest, true
	}
	for a.head <= a.highest {
		s := a.at(a.head)
		if s == nil {
			// A packet missing between frames: the start of the next.
			if !flush && !a.expired(a.head) {
				return
			}
			a.clear(&a.ring[a.head&a.mask]) // give it up
			a.head++
			a.scan, a.broken = a.head, false
			a.gave = true
			continue
		}
		if s.state == slotPadding {
			a.clear(s)
			a.head++
			a.scan, a.broken = a.head, false
			continue
		}
		// Find the end of the frame that starts at head: the packet with
		// the marker, or the last one before a packet of another frame.
		// A packet missing on the way is waited for; once given up, the
		// frame goes on past it as one incomplete frame.
		ts := s.ts
		end := max(a.scan, a.head)
		complete := false
		for ; end <= a.highest; end++ {
			e := a.at(end)
			if e == nil {
				if !flush && !a.expired(end) {
					a.scan = end
					return
				}
				a.clear(&a.ring[end&a.mask])
				a.broken = true
				continue
			}
			if e.state == slotPadding || e.ts != ts {
				break // cut: the frame ended without its marker
			}
			if e.marker {
				complete = true
				break
			}
		}
		if !complete {
			if end > a.highest && !flush {
				a.scan = end
				return // wait for the rest of the frame
			}
			end--
		}
		a.emit(a.head, end, complete && !a.broken)
		a.head = end + 1
		a.scan, a.broken = a.head, false
	}
}

// expired reports whether the packet seq should no longer be waited for.
func (a *assembler) expired(seq int64) bool {
	if a.highest-seq >= a.maxLate {
		return true
	}
	if seq > a.highest {
		return false // nothing after it arrived: not known to be missing
	}
	s := &a.ring[seq&a.mask]
	if s.seq != seq || s.state != slotMissing {
		// A gap below the first packet pushed: seen now.
		a.clear(s)
		*s = slot{seq: seq, state: slotMissing, noticed: a.now()}
		return false
	}
	return a.now().Sub(s.noticed) >= a.wait()
}

// emit releases the packets from..to, some of which may be missing, as
// one frame.
func (a *assembler) emit(from, to int64, complete bool) {
	n := 0
	for seq := from; seq <= to; seq++ {
		if s := a.at(seq); s != nil {
			n += len(s.data)
			complete = complete && !s.bad
		}
	}
	first := a.at(from)
	f := frame{
		first:    from,
		last:     to,
		ts:       first.ts,
		complete: complete && first.start && n > 0,
		gap:      a.gave,
		data:     make([]byte, 0, n),
	}
	for seq := from; seq <= to; seq++ {
		if s := a.at(seq); s != nil {
			f.data = append(f.data, s.data...)
			a.clear(s)
		}
	}
	a.gave = false
	a.ready = append(a.ready, f)
}
