//go:build cgo

package opus

import (
	"slices"
	"testing"
)

// TestHasFECReadsTheLBRRFlagOfRealPackets encodes the same sound with and
// without an expected loss and checks HasFEC against libopus itself: a
// lost packet decoded from the FEC data of a packet HasFEC accepts comes
// out differently from concealment, and from one it refuses exactly as
// concealment (libopus conceals when the LBRR flag is off).
func TestHasFECReadsTheLBRRFlagOfRealPackets(t *testing.T) {
	for _, tc := range []struct {
		name    string
		p       Params
		wantFEC bool
	}{
		{"no expected loss", Params{BitRate: 32_000}, false},
		{"5% expected loss", Params{BitRate: 32_000, PacketLoss: 5}, true},
		{"20% expected loss", Params{BitRate: 32_000, PacketLoss: 20}, true},
		{"25% at 18 kbit/s, SILK only", Params{BitRate: 18_000, PacketLoss: 25}, true},
		{"20% expected loss with FEC turned off", Params{BitRate: 32_000, PacketLoss: 20, NoFEC: true}, false},
		{"20% at 64 kbit/s", Params{BitRate: 64_000, PacketLoss: 20}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pkts := encodeAll(t, newEncoder(t, tc.p), steppedTone(50))
			var with, checked int
			modes := map[string]int{}
			for i, p := range pkts {
				modes[mode(p)]++
				has := HasFEC(p)
				if has {
					with++
				}
				if i < 10 || i%4 != 0 {
					continue
				}
				// Two decoders in the same state: packet i-1 lost.
				fec, plc := newDecoder(t), newDecoder(t)
				for _, q := range pkts[i-6 : i-1] {
					for _, d := range []*Decoder{fec, plc} {
						if _, err := d.Decode(q); err != nil {
							t.Fatal(err)
						}
					}
				}
				a, err := fec.DecodeFEC(p, FrameSamples)
				if err != nil {
					t.Fatal(err)
				}
				b, err := plc.Conceal(FrameSamples)
				if err != nil {
					t.Fatal(err)
				}
				if differs := !slices.Equal(a, b); differs != has {
					t.Errorf("packet %d (%s): HasFEC %v, but libopus's FEC decode differs from concealment: %v", i, mode(p), has, differs)
				}
				checked++
			}
			t.Logf("%d of %d packets with FEC; modes %v; %d checked against libopus", with, len(pkts), modes, checked)
			if tc.wantFEC && with < len(pkts)*3/4 {
				t.Errorf("%d of %d packets with FEC; want most", with, len(pkts))
			}
			if !tc.wantFEC && with != 0 {
				t.Errorf("%d of %d packets with FEC; want none", with, len(pkts))
			}
		})
	}
}

// mode names a packet's coding mode from its TOC (RFC 6716 §3.1).
func mode(p []byte) string {
	switch c := p[0] >> 3; {
	case c < 12:
		return "SILK"
	case c < 16:
		return "hybrid"
	}
	return "CELT"
}

// TestHasFECFindsTheFirstFrame builds packets of every framing code
// (RFC 6716 §3.2) around first frames whose header bits are known, and
// malformed ones, which have no FEC data.
func TestHasFECFindsTheFirstFrame(t *testing.T) {
	const (
		silk20  = 1 << 3  // SILK-only NB 20 ms, mono
		silk40  = 2 << 3  // SILK-only NB 40 ms: two VAD bits first
		silk60  = 3 << 3  // SILK-only NB 60 ms: three VAD bits first
		hybrid  = 13 << 3 // hybrid SWB 20 ms
		celt    = 31 << 3 // CELT-only FB 20 ms
		stereo  = 0x4
		lbrr20  = 0x40 // VAD bit, then the LBRR flag
		lbrr40  = 0x20
		lbrr60  = 0x10
		vadOnly = 0x80 | 0x3f
	)
	for _, tc := range []struct {
		name   string
		packet []byte
		want   bool
	}{
		{"code 0 with LBRR", []byte{silk20, lbrr20, 1, 2}, true},
		{"code 0, VAD set, no LBRR", []byte{silk20, vadOnly, 1, 2}, false},
		{"code 0 hybrid with LBRR", []byte{hybrid, lbrr20 | 0x80, 9}, true},
		{"40 ms: the flag after two VAD bits", []byte{silk40, lbrr40}, true},
		{"40 ms: the first frame's second VAD bit is not the flag", []byte{silk40, lbrr20}, false},
		{"60 ms: the flag after three VAD bits", []byte{silk60, lbrr60}, true},
		{"stereo: the side channel's flag", []byte{silk20 | stereo, 0x10}, true},
		{"stereo: neither", []byte{silk20 | stereo, 0xa0}, false},
		{"CELT never", []byte{celt, 0xff, 0xff}, false},
		{"code 1: the first of two halves", []byte{silk20 | 1, lbrr20, 0, 0, 0}, true},
		{"code 1: the flag in the second half only", []byte{silk20 | 1, 0, 0, lbrr20, 0}, false},
		{"code 1 of odd length", []byte{silk20 | 1, lbrr20, 0, 0}, false},
		{"code 2: first frame sized", []byte{silk20 | 2, 1, lbrr20, 0, 0}, true},
		{"code 2: an empty (DTX) first frame", []byte{silk20 | 2, 0, lbrr20, 0}, false},
		{"code 2: two-byte size", append([]byte{silk20 | 2, 252, 1, lbrr20}, make([]byte, 260)...), true},
		{"code 2: size beyond the packet", []byte{silk20 | 2, 9, lbrr20}, false},
		{"code 3 CBR, two frames", []byte{silk20 | 3, 2, lbrr20, 0}, true},
		{"code 3 CBR with padding", []byte{silk20 | 3, 0x40 | 2, 2, lbrr20, 0, 0, 0}, true},
		{"code 3 VBR", []byte{silk20 | 3, 0x80 | 2, 1, lbrr20, 0, 0}, true},
		{"code 3 VBR, the flag in the second frame only", []byte{silk20 | 3, 0x80 | 2, 1, 0, lbrr20, 0}, false},
		{"code 3 with no frames", []byte{silk20 | 3, 0}, false},
		{"code 3 without its count", []byte{silk20 | 3}, false},
		{"code 3 with padding longer than the packet", []byte{silk20 | 3, 0x40 | 1, 255}, false},
		{"a TOC alone", []byte{silk20}, false},
		{"empty", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := HasFEC(tc.packet); got != tc.want {
				t.Errorf("HasFEC(% x) = %v, want %v", tc.packet, got, tc.want)
			}
		})
	}
}
