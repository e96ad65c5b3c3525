package record

import (
	"testing"
	"time"

	"github.com/pion/rtp"
)

// vp8Pkt makes a packet of a frame: start marks the first packet of the
// frame (S=1, PID=0), marker its last.
func vp8Pkt(ts uint32, start, marker bool, b byte) *rtp.Packet {
	desc := byte(0)
	if start {
		desc = 0x10
	}
	return &rtp.Packet{Header: rtp.Header{Timestamp: ts, Marker: marker}, Payload: []byte{desc, b}}
}

func TestAssemblerReleasesFramesAtOnce(t *testing.T) {
	type push struct {
		seq int64
		pkt *rtp.Packet
	}
	tests := []struct {
		name string
		in   []push
		// want lists, after each push, the frames (first payload byte of
		// each) released by then.
		want [][]byte
	}{
		{"one-packet frames go out as they come",
			[]push{{1, vp8Pkt(100, true, true, 'a')}, {2, vp8Pkt(200, true, true, 'b')}},
			[][]byte{{'a'}, {'b'}}},
		{"a frame goes out with its last packet, not with the next frame",
			[]push{{1, vp8Pkt(100, true, false, 'a')}, {2, vp8Pkt(100, false, false, 'a')}, {3, vp8Pkt(100, false, true, 'a')}},
			[][]byte{nil, nil, {'a'}}},
		{"reordered within a frame",
			[]push{{1, vp8Pkt(100, true, false, 'a')}, {3, vp8Pkt(100, false, true, 'a')}, {2, vp8Pkt(100, false, false, 'a')}},
			[][]byte{nil, nil, {'a'}}},
		{"a frame waits for the one before it",
			[]push{{1, vp8Pkt(100, true, false, 'a')}, {3, vp8Pkt(200, true, true, 'b')}, {2, vp8Pkt(100, false, true, 'a')}},
			[][]byte{nil, nil, {'a', 'b'}}},
		{"the tail of a frame whose start never came is dropped",
			[]push{{2, vp8Pkt(100, false, true, 'x')}, {3, vp8Pkt(200, true, true, 'b')}},
			[][]byte{nil, {'b'}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newAssembler(2, 90000)
			for i, p := range tc.in {
				a.push(p.seq, p.pkt, false)
				var got []byte
				for s := a.pop(false); s != nil; s = a.pop(false) {
					got = append(got, s.Data[0])
				}
				if string(got) != string(tc.want[i]) {
					t.Fatalf("after push %d: released %q; want %q", i, got, tc.want[i])
				}
			}
		})
	}
}

// TestAssemblerWaitFollowsRTT: a missing packet is given up once later
// frames are more than the RTT-based wait ahead, not after MaxDelay.
func TestAssemblerWaitFollowsRTT(t *testing.T) {
	tests := []struct {
		name     string
		rtt      time.Duration
		released bool // frames behind the hole released
	}{
		{"short rtt gives up quickly", 10 * time.Millisecond, true},
		{"long rtt keeps waiting", 200 * time.Millisecond, false},
		{"unknown rtt waits maxDelay", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newAssembler(1024, 45000) // maxDelay 500 ms
			a.delay = func() uint32 { return uint32(waitFor(tc.rtt, 500*time.Millisecond) * 90 / time.Millisecond) }
			a.push(1, vp8Pkt(0, true, true, 'a'), false)
			// 2 is lost; 3 is a frame 33 ms later, 4 one 233 ms later: 200 ms
			// after the first frame behind the hole.
			a.push(3, vp8Pkt(3000, true, true, 'b'), false)
			a.push(4, vp8Pkt(21000, true, true, 'c'), false)
			var got []byte
			for s := a.pop(false); s != nil; s = a.pop(false) {
				got = append(got, s.Data[0])
			}
			want := "a"
			if tc.released {
				want = "abc"
			}
			if string(got) != want {
				t.Fatalf("released %q; want %q", got, want)
			}
		})
	}
}
