package record

// sequence follows the RTP sequence numbers of one source (SSRC): it
// extends the 16-bit numbers to 64 bits against the highest one seen
// (RFC 3550 appendix A.1) and counts the packets lost, expected minus
// received as in RFC 3550 appendix A.3, never negative.
//
// A Recorder keeps one sequence for the life of the recording. When the
// source changes or its numbers jump, the Recorder ends the sequence
// (keeping its losses) and starts it again at the next packet. The zero
// value has not started; it is used under the Recorder's mu.
type sequence struct {
	ssrc     uint32
	started  bool  // restart was called since New or the last end
	first    int64 // lowest extended sequence number of this run
	highest  int64 // highest extended sequence number of this run
	received int64 // packets of this run
	lostBase int64 // losses of the runs before, ended
	behind   int   // consecutive packets far behind highest
}

// restart takes a packet of source ssrc numbered sn as the first of a new
// run.
func (s *sequence) restart(ssrc uint32, sn uint16) {
	s.ssrc = ssrc
	s.started = true
	s.first = int64(sn)
	s.highest = s.first
	s.received = 0
}

// extend returns sn extended to 64 bits: the number nearest the highest
// one seen that has sn as its low 16 bits.
func (s *sequence) extend(sn uint16) int64 {
	return s.highest + int64(int16(sn-uint16(s.highest))) // #nosec G115: wraps on purpose
}

// add counts the packet at extended number seq as received.
func (s *sequence) add(seq int64) {
	s.behind = 0
	s.received++
	s.highest = max(s.highest, seq)
	s.first = min(s.first, seq)
}

// late takes a packet too far behind the highest one to use. It reports
// whether 8 came in a row, which means the sender restarted its numbers
// behind us: the caller then ends the run. Otherwise the packet counts as
// received.
func (s *sequence) late() (restarted bool) {
	s.behind++
	if s.behind >= 8 {
		s.behind = 0
		return true
	}
	s.received++
	return false
}

// end closes the run, keeping its losses; the next packet restarts it.
func (s *sequence) end() {
	s.lostBase = s.lost()
	s.started = false
}

// lost returns the packets lost so far, over every run.
func (s *sequence) lost() int64 {
	if !s.started {
		return s.lostBase
	}
	return s.lostBase + max(s.highest-s.first+1-s.received, 0)
}
