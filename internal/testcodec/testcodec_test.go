package testcodec

import (
	"bytes"
	"errors"
	"testing"
)

// TestFrameSurvivesPacketizing: a frame split by the payloader at any
// MTU and joined by the depacketizer parses back to what was encoded; a
// damaged frame does not parse.
func TestFrameSurvivesPacketizing(t *testing.T) {
	samples := bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7}, 5)
	want := Frame{Key: true, Width: 64, Height: 48, Number: 7}
	frame := Encode(want, samples)
	d := Descriptor()
	for _, mtu := range []uint16{2, 5, 17, 1200} {
		pkts := d.NewPayloader().Payload(mtu, frame)
		dep := d.NewDepacketizer()
		var got []byte
		for i, p := range pkts {
			if len(p) > int(mtu) {
				t.Fatalf("mtu %d: packet of %d bytes", mtu, len(p))
			}
			if head := dep.IsPartitionHead(p); head != (i == 0) {
				t.Fatalf("mtu %d: packet %d head = %v", mtu, i, head)
			}
			part, err := dep.Unmarshal(p)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, part...)
		}
		f, err := Parse(got)
		if err != nil {
			t.Fatalf("mtu %d: %v", mtu, err)
		}
		want.Checksum = f.Checksum
		if f != want || !IsKeyFrame(got) {
			t.Fatalf("mtu %d: got %+v; want %+v", mtu, f, want)
		}
		if w, h, err := d.FrameSize(got); err != nil || w != 64 || h != 48 {
			t.Fatalf("FrameSize = %d, %d, %v", w, h, err)
		}
	}
	damaged := bytes.Clone(frame)
	damaged[len(damaged)-1] ^= 0xff
	if _, err := Parse(damaged); !errors.Is(err, ErrNotAFrame) {
		t.Fatalf("Parse of a damaged frame = %v; want ErrNotAFrame", err)
	}
}
