package record

import (
	"testing"

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
