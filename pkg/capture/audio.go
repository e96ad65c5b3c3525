package capture

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	mdcodec "github.com/pion/mediadevices/pkg/codec"
	"github.com/pion/mediadevices/pkg/io/audio"
	"github.com/pion/mediadevices/pkg/prop"
	"github.com/pion/mediadevices/pkg/wave"
	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/pkg/codec"
	"github.com/p2pcam/p2pcam/pkg/pcm"
)

// AudioKind is the kind of a sound source.
type AudioKind int

// Sound source kinds.
const (
	AudioNone AudioKind = iota
	// AudioAuto is the system's default microphone when there is one, and
	// no sound (silently) when there is none or no sound server.
	AudioAuto
	// AudioMic is a microphone: the system's default one (Arg "") or
	// the one Arg names (see Microphones).
	AudioMic
	// AudioTest is the synthetic beep of package pcm.
	AudioTest
	// AudioFile is a .wav file played in a loop.
	AudioFile
)

// AudioSource names where sound comes from, as given to --audio.
type AudioSource struct {
	Kind AudioKind
	// Arg is the microphone's name for AudioMic ("" for the default one)
	// and the path for AudioFile.
	Arg string
	// BeepLate is AudioTest's test knob ("test:late=300ms"): the beeps
	// start that long after each whole second, sound late against the
	// picture on purpose, for checking what measures it.
	BeepLate time.Duration
}

// ErrBadAudio means an --audio value was not understood.
var ErrBadAudio = errors.New("unknown sound source")

// ParseAudio parses "auto", "none", "default" (the system's default
// microphone), "mic:NAME", "test" or a path ending in .wav.
func ParseAudio(s string) (AudioSource, error) {
	switch {
	case s == "auto":
		return AudioSource{Kind: AudioAuto}, nil
	case s == "none" || s == "":
		return AudioSource{Kind: AudioNone}, nil
	case s == "default":
		return AudioSource{Kind: AudioMic}, nil
	case s == "test":
		return AudioSource{Kind: AudioTest}, nil
	case strings.HasPrefix(s, "test:"):
		return parseTestAudio(s)
	case strings.HasPrefix(s, "mic:"):
		name := strings.TrimPrefix(s, "mic:")
		if name == "" {
			return AudioSource{}, fmt.Errorf("%w %q: mic: needs a microphone name after the colon", ErrBadAudio, s)
		}
		return AudioSource{Kind: AudioMic, Arg: name}, nil
	case strings.HasSuffix(strings.ToLower(s), ".wav"):
		return AudioSource{Kind: AudioFile, Arg: s}, nil
	}
	return AudioSource{}, fmt.Errorf("%w %q: use auto, none, default, mic:NAME, test or a .wav file", ErrBadAudio, s)
}

// parseTestAudio parses "test:late=DURATION" (under a second).
func parseTestAudio(s string) (AudioSource, error) {
	v, ok := strings.CutPrefix(s, "test:late=")
	if !ok {
		return AudioSource{}, fmt.Errorf("%w %q: test takes one knob, late=DURATION, e.g. test:late=300ms", ErrBadAudio, s)
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d >= time.Second {
		return AudioSource{}, fmt.Errorf("%w %q: late= takes a duration from 0 to under 1s, like late=300ms", ErrBadAudio, s)
	}
	return AudioSource{Kind: AudioTest, BeepLate: d}, nil
}

// String formats the source as --audio takes it.
func (a AudioSource) String() string {
	switch a.Kind {
	case AudioAuto:
		return "auto"
	case AudioMic:
		if a.Arg == "" {
			return "default"
		}
		return "mic:" + a.Arg
	case AudioTest:
		if a.BeepLate > 0 {
			return "test:late=" + a.BeepLate.String()
		}
		return "test"
	case AudioFile:
		return a.Arg
	}
	return "none"
}

// AudioOptions shape the sound a Sender sends.
type AudioOptions struct {
	// Codec is the audio codec to encode with. Required when there is
	// an audio source.
	Codec codec.Descriptor
	// Bitrate is the encoder's starting target, bits/s (0: the codec's
	// default).
	Bitrate int
	// NoFEC turns the codec's in-band redundancy against loss off
	// (codec.EncoderParams.NoFEC): a test knob.
	NoFEC bool
	// Encoder, when set, replaces Codec's own encoder (tests).
	Encoder mdcodec.AudioEncoderBuilder
}

// defaultAudioFrame is the length of an audio packet when the encoder
// does not say (its RTPCodec's Latency).
const defaultAudioFrame = 20 * time.Millisecond

// ErrNoAudioEncoder means this build has no encoder for the audio codec
// asked for; the error wraps codec.ErrUnavailable too.
var ErrNoAudioEncoder = errors.New("no audio encoder in this build")

// openAudio opens src and returns its track; nil and nil for AudioAuto
// when there is no microphone to take sound from (skipped then says why).
func openAudio(src AudioSource, opts AudioOptions) (t *Track, skipped error, err error) {
	if opts.Codec.MimeType == "" {
		return nil, nil, errors.New("capture: no audio codec given (AudioOptions.Codec)")
	}
	b := opts.Encoder
	if b == nil {
		if opts.Codec.NewAudioEncoder == nil {
			return nil, nil, fmt.Errorf("%w: %s has no audio encoder", ErrNoAudioEncoder, opts.Codec.Name)
		}
		b, err = opts.Codec.NewAudioEncoder(codec.EncoderParams{BitRate: opts.Bitrate, NoFEC: opts.NoFEC})
		if err != nil {
			if errors.Is(err, codec.ErrUnavailable) {
				return nil, nil, fmt.Errorf("%w: %w", ErrNoAudioEncoder, err)
			}
			return nil, nil, fmt.Errorf("build %s encoder: %w", opts.Codec.Name, err)
		}
	}
	var (
		r       audio.Reader
		stop    func() error
		mic     *Microphone
		dropped func() uint64
	)
	switch src.Kind {
	case AudioTest:
		b := pcm.NewBeep(time.Now())
		b.Late(src.BeepLate)
		rd := pcm.NewReader(b, "test", true)
		// Each 20 ms leaves once its time has passed, as from a
		// microphone: never sound from the future.
		rd.LikeMicrophone()
		r, stop = rd, rd.Close
	case AudioFile:
		loop, _, err := pcm.OpenWAV(src.Arg)
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, nil, pe // the file's name and the reason say it all
		}
		if err != nil {
			return nil, nil, err
		}
		rd := pcm.NewReader(loop, src.Arg, true)
		r, stop = rd, rd.Close
	case AudioMic, AudioAuto:
		m, err := openMic(src.Arg)
		if err != nil {
			if src.Kind == AudioAuto {
				return nil, err, nil
			}
			return nil, nil, err
		}
		r, stop, mic, dropped = m, m.Close, &m.info, m.Dropped
	default:
		return nil, nil, fmt.Errorf("capture: nothing to open for sound source %q", src)
	}
	t, err = newAudioTrack(r, stop, opts.Codec, b)
	if err != nil {
		return nil, nil, err
	}
	t.mic, t.micDropped = mic, dropped
	return t, nil, nil
}

// newAudioTrack builds an audio track: r's samples through b's encoder
// into desc's packets. Each packet holds one frame of the encoder's
// fixed length (its RTPCodec's Latency), so the RTP timestamps advance
// by the samples coded, never by the wall clock. The track takes over
// closeSrc as newTrack does.
func newAudioTrack(r audio.Reader, closeSrc func() error, desc codec.Descriptor, b mdcodec.AudioEncoderBuilder) (*Track, error) {
	tl, err := webrtc.NewTrackLocalStaticSample(desc.Capability(), "audio", "p2pcam", payloaderOption(desc)...)
	if err != nil {
		closeSrc()
		return nil, fmt.Errorf("create audio track: %w", err)
	}
	frame := defaultAudioFrame
	if c := b.RTPCodec(); c != nil && c.Latency > 0 {
		frame = c.Latency
	}
	t := &Track{TrackLocalStaticSample: tl, codec: desc, closeSrc: closeSrc, done: make(chan struct{}),
		interval: frame, fixed: true}
	// Note when each chunk's first sample was captured (see CaptureLag):
	// a source that knows says (a microphone, a paced Reader), else it is
	// when the chunk was read. Chunks are one encoder frame each, so the
	// frame the encoder returns is the chunk read last.
	captured, _ := r.(interface{ Captured() time.Time })
	stamped := audio.ReaderFunc(func() (wave.Audio, func(), error) {
		chunk, release, err := r.Read()
		if err == nil {
			at := time.Now()
			if captured != nil {
				if c := captured.Captured(); !c.IsZero() {
					at = c
				}
			}
			t.captured.Store(at.UnixNano())
		}
		return chunk, release, err
	})
	enc, err := b.BuildAudioEncoder(stamped, prop.Media{Audio: prop.Audio{SampleRate: int(desc.ClockRate), ChannelCount: 1}})
	if err != nil {
		closeSrc()
		return nil, fmt.Errorf("start %s encoder: %w", desc.Name, err)
	}
	t.enc = enc
	return t, nil
}
