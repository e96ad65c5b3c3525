package record

import "testing"

func TestSequenceExtendsAcrossTheWrap(t *testing.T) {
	var s sequence
	s.restart(1, 65534)
	for i, tc := range []struct {
		sn   uint16
		want int64
	}{
		{65534, 65534},
		{65535, 65535},
		{0, 65536},
		{1, 65537},
		{65535, 65535}, // reordered behind the wrap
		{3, 65539},
	} {
		got := s.extend(tc.sn)
		if got != tc.want {
			t.Fatalf("packet %d: extend(%d) = %d; want %d", i, tc.sn, got, tc.want)
		}
		s.add(got)
	}
	// 65534..65539 expected, 6 packets received (65535 twice), 65538
	// missing: as in RFC 3550 the duplicate offsets the loss.
	if got := s.lost(); got != 0 {
		t.Errorf("lost() = %d; want 0", got)
	}
}

func TestSequenceLossesSurviveARestart(t *testing.T) {
	var s sequence
	s.restart(1, 100)
	for _, sn := range []uint16{100, 101, 104} { // 102, 103 lost
		s.add(s.extend(sn))
	}
	if got := s.lost(); got != 2 {
		t.Fatalf("lost() = %d; want 2", got)
	}
	s.end()
	if got := s.lost(); got != 2 {
		t.Fatalf("after end, lost() = %d; want 2", got)
	}
	s.restart(2, 9000)
	for _, sn := range []uint16{9000, 9002} { // 9001 lost
		s.add(s.extend(sn))
	}
	if got := s.lost(); got != 3 {
		t.Errorf("after a second run, lost() = %d; want 3", got)
	}
}

func TestSequenceLateRunRestarts(t *testing.T) {
	var s sequence
	s.restart(1, 5000)
	s.add(5000)
	for i := 1; i <= 8; i++ {
		if restarted := s.late(); restarted != (i == 8) {
			t.Fatalf("late packet %d: restarted = %v; want %v", i, restarted, i == 8)
		}
	}
}
