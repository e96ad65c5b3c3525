package view

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestJitterBuffer: packets come out in timestamp order once the target
// is buffered; a missing one is rebuilt from the next one's FEC data, or
// concealed when the next is missing too or carries no FEC data; a late
// one is dropped; the buffer never holds more than jitterMax.
func TestJitterBuffer(t *testing.T) {
	const frame = 960
	t0 := time.Unix(1000, 0)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * 20 * time.Millisecond) }
	tests := []struct {
		name  string
		send  []int // frame numbers, in arrival order (one per 20 ms), one per 20 ms
		noFEC []int // frames that carry no FEC data for the one before
		want  string
	}{
		{"in order", []int{0, 1, 2, 3, 4}, nil, "p0 p1 p2 p3 p4"},
		{"reordered", []int{0, 2, 1, 3}, nil, "p0 p1 p2 p3"},
		{"one lost: FEC", []int{0, 1, 3, 4}, nil, "p0 p1 f2 p3 p4"},
		{"one lost, the next without FEC: concealed", []int{0, 1, 3, 4}, []int{3}, "p0 p1 c2 p3 p4"},
		{"two lost: concealed then FEC", []int{0, 3}, nil, "p0 c1 f2 p3"},
		{"wrapping timestamps", []int{-2, -1, 0, 1}, nil, "p-2 p-1 p0 p1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := newJitterBuffer(48000, func(p []byte) bool { return !slices.Contains(tc.noFEC, mustAtoi(t, string(p))) })
			var got string
			// take plays one step; false once nothing is left.
			take := func() bool {
				st := j.pop()
				switch {
				case st.samples == 0:
					return false
				case st.payload != nil:
					got += " p" + strings.TrimSpace(string(st.payload))
				case st.fec:
					got += " f" + fmt.Sprint(mustAtoi(t, string(st.next))-1)
				case len(j.pkts) == 0:
					return false // concealing past the end
				default:
					got += " c" + fmt.Sprint((j.next-j.frame)/frame)
				}
				return true
			}
			// A frame is asked for as each packet arrives, as a device
			// playing in real time would; then the rest.
			for i, n := range tc.send {
				j.push([]byte(fmt.Sprintf("%-16d", n)), uint32(n*frame), at(i)) // a loud packet's size
				take()
			}
			for take() {
			}
			if got[1:] != tc.want {
				t.Errorf("played %q, want %q", got[1:], tc.want)
			}
		})
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestJitterBufferBounded: a burst far deeper than jitterMax is cut to
// it (oldest dropped, counted), and packets older than the one due are
// dropped as late.
func TestJitterBufferBounded(t *testing.T) {
	j := newJitterBuffer(48000, nil)
	now := time.Unix(1000, 0)
	for i := range 50 {
		j.push([]byte{1}, uint32(i*960), now)
	}
	if d := j.depth(); d > jitterMax {
		t.Errorf("depth %v after a 1 s burst; want at most %v", d, jitterMax)
	}
	if j.stats.Dropped == 0 {
		t.Error("no packet counted as dropped")
	}
	if st := j.pop(); st.payload == nil {
		t.Fatalf("first step %+v; want a packet", st)
	}
	j.push([]byte{1}, 0, now)
	if j.stats.Late != 1 {
		t.Errorf("late = %d after a packet older than the one due; want 1", j.stats.Late)
	}
}
