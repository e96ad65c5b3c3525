package opus

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/pkg/codec"
)

func TestDescriptorIsOpusAsBrowsersOfferIt(t *testing.T) {
	d := Descriptor
	if !d.Is("audio/OPUS") || d.Kind != codec.Audio || d.ClockRate != 48000 || d.Channels != 2 ||
		d.Fmtp != "minptime=10;useinbandfec=1" || d.PayloadType != 111 || d.ContainerID != "A_OPUS" || d.FourCC != "" {
		t.Errorf("Descriptor = %+v", d)
	}
	if len(d.Feedback) != 1 || d.Feedback[0].Type != webrtc.TypeRTCPFBTransportCC {
		t.Errorf("Feedback = %v, want transport-cc only", d.Feedback)
	}
	if d.NewVideoEncoder != nil || d.NewVideoDecoder != nil || d.FrameSize != nil {
		t.Error("an audio descriptor has video constructors")
	}
	if !d.IsKeyFrame(nil) || !d.IsKeyFrame([]byte{0x78}) {
		t.Error("IsKeyFrame is not always true")
	}
	if d.CodecDelay != 6500*time.Microsecond || d.SeekPreRoll != 80*time.Millisecond {
		t.Errorf("CodecDelay %v, SeekPreRoll %v, want 6.5ms and 80ms", d.CodecDelay, d.SeekPreRoll)
	}
	head := d.CodecPrivate()
	want := []byte("OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00")
	if !bytes.Equal(head, want) {
		t.Errorf("CodecPrivate = % x, want % x", head, want)
	}
	head[0] = 'X'
	if d.CodecPrivate()[0] != 'O' {
		t.Error("CodecPrivate shares its slice between calls")
	}

	// A packet survives the payloader and depacketizer whole (RFC 7587
	// §4.2: one Opus packet per RTP payload).
	pkt := []byte{0x78, 1, 2, 3, 4, 5}
	payloads := d.NewPayloader().Payload(1200, pkt)
	if len(payloads) != 1 {
		t.Fatalf("payloader split a packet into %d", len(payloads))
	}
	got, err := d.NewDepacketizer().Unmarshal(payloads[0])
	if err != nil || !bytes.Equal(got, pkt) {
		t.Errorf("depacketized % x, %v; want % x", got, err, pkt)
	}
}

func TestOpusHeadLayout(t *testing.T) {
	h := OpusHead(2, 0x1234, 44100)
	want := []byte{'O', 'p', 'u', 's', 'H', 'e', 'a', 'd', 1, 2, 0x34, 0x12, 0x44, 0xac, 0, 0, 0, 0, 0}
	if !bytes.Equal(h, want) {
		t.Errorf("OpusHead = % x, want % x", h, want)
	}
}

func TestPacketDurationReadsTheTOC(t *testing.T) {
	tests := []struct {
		name   string
		packet []byte
		want   time.Duration
	}{
		{"SILK 10 ms", []byte{0 << 3}, 10 * time.Millisecond},
		{"SILK 20 ms", []byte{1 << 3}, 20 * time.Millisecond},
		{"SILK 40 ms", []byte{2 << 3}, 40 * time.Millisecond},
		{"SILK 60 ms", []byte{3 << 3}, 60 * time.Millisecond},
		{"hybrid 10 ms", []byte{12 << 3}, 10 * time.Millisecond},
		{"hybrid 20 ms", []byte{13 << 3}, 20 * time.Millisecond},
		{"CELT 2.5 ms", []byte{16 << 3}, 2500 * time.Microsecond},
		{"CELT 5 ms", []byte{17 << 3}, 5 * time.Millisecond},
		{"CELT 20 ms stereo", []byte{31<<3 | 4}, 20 * time.Millisecond},
		{"two equal frames", []byte{1<<3 | 1}, 40 * time.Millisecond},
		{"two different frames", []byte{1<<3 | 2}, 40 * time.Millisecond},
		{"code 3, 6 frames of 20 ms", []byte{1<<3 | 3, 6}, 120 * time.Millisecond},
		{"code 3 with padding flags", []byte{16<<3 | 3, 0xc0 | 48}, 120 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PacketDuration(tc.packet)
			if err != nil || got != tc.want {
				t.Errorf("PacketDuration(% x) = %v, %v; want %v", tc.packet, got, err, tc.want)
			}
		})
	}
	for _, bad := range [][]byte{nil, {1<<3 | 3}, {1<<3 | 3, 0}, {1<<3 | 3, 7}, {16<<3 | 3, 49}} {
		if _, err := PacketDuration(bad); !errors.Is(err, ErrBadInput) {
			t.Errorf("PacketDuration(% x) error %v, want ErrBadInput", bad, err)
		}
	}
}
