// Package testcodec holds codecs that exist only for tests: descriptors
// (package codec) that prove the pipeline takes any codec it is given,
// with nothing to link and payloads a test can make and check by hand.
package testcodec

import (
	"errors"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/pkg/codec"
)

// AudioMime is the MIME type of Audio.
const AudioMime = "audio/x-p2pcam-test"

// Audio is an audio-like codec for tests: 48 kHz, one channel, every frame
// a keyframe, any bytes a frame. Its RTP payload format is one header
// byte (1 on the first packet of a frame, 0 on the others) before a piece
// of the frame, the marker bit on the last packet (RFC 3550 section 5.1).
// Matroska knows it as "A_P2PCAM/TEST", which players list as an audio
// stream they cannot decode.
var Audio = codec.Descriptor{
	Name:            "TestAudio",
	Kind:            codec.Audio,
	MimeType:        AudioMime,
	ClockRate:       48000,
	Channels:        1,
	PayloadType:     118,
	Feedback:        []webrtc.RTCPFeedback{{Type: webrtc.TypeRTCPFBTransportCC}},
	NewPayloader:    func() rtp.Payloader { return AudioPayloader{} },
	NewDepacketizer: func() rtp.Depacketizer { return &AudioPacket{} },
	IsKeyFrame:      func(frame []byte) bool { return len(frame) > 0 },
	ContainerID:     "A_P2PCAM/TEST",
}

// AudioPayloader cuts a frame of Audio into packets of at most mtu bytes.
type AudioPayloader struct{}

// Payload implements rtp.Payloader.
func (AudioPayloader) Payload(mtu uint16, frame []byte) [][]byte {
	if mtu < 2 || len(frame) == 0 {
		return nil
	}
	var out [][]byte
	for first := true; len(frame) > 0; first = false {
		n := min(len(frame), int(mtu)-1)
		p := make([]byte, 1+n)
		if first {
			p[0] = 1
		}
		copy(p[1:], frame[:n])
		out = append(out, p)
		frame = frame[n:]
	}
	return out
}

// errEmpty is AudioPacket's error for a payload without its header byte.
var errEmpty = errors.New("testcodec: empty audio payload")

// AudioPacket depacketizes Audio.
type AudioPacket struct{}

// Unmarshal implements rtp.Depacketizer: the payload without its header.
func (*AudioPacket) Unmarshal(payload []byte) ([]byte, error) {
	if len(payload) < 1 {
		return nil, errEmpty
	}
	return payload[1:], nil
}

// IsPartitionHead implements rtp.Depacketizer: a frame starts here.
func (*AudioPacket) IsPartitionHead(payload []byte) bool {
	return len(payload) > 0 && payload[0] == 1
}

// IsPartitionTail implements rtp.Depacketizer: the marker ends a frame.
func (*AudioPacket) IsPartitionTail(marker bool, _ []byte) bool { return marker }
