// Package capture is the first stage of p2pcam's pipeline: it turns a
// source — a camera, the built-in synthetic pattern, or Y4M video from a
// file, a named pipe or standard input — into
// an encoded video track that a PeerConnection can send, and a sound
// source into an audio track beside it.
//
// Frames flow source -> encoder -> track in one goroutine per track, so a
// frame is encoded as soon as it is captured and sent as soon as it is
// encoded; the encoder answers keyframe requests and bitrate changes.
//
// Cameras on Linux are read through V4L2 by p2pcam itself; elsewhere they
// come through github.com/pion/mediadevices (AVFoundation on macOS).
//
// The codec is the caller's choice, given as a codec.Descriptor: capture
// builds the descriptor's encoder, names its track with the descriptor's
// capability and packetizes with its payloader, and never names a codec
// itself. Callers set the encoder's ceiling and speed.
//
// Sound sits beside the video (audio.go): a microphone, the test beep or
// a WAV file, encoded by the audio codec's descriptor into a track whose
// RTP timestamps follow the samples coded. Microphones (mic_cgo.go) come
// through miniaudio (github.com/gen2brain/malgo), which loads the sound
// server's library at run time: the capture callback copies samples into a
// ring buffer and never waits; the encoder reads 20 ms at a time from it.
//
// Sender (sender.go) is the one send pipeline every mode uses: it opens
// the sources under a context (sound and video at once), builds encoder
// and track for each, shares the congestion controller's bitrate (sound
// first), and reports the end of a source or a failure the same way for
// everyone.
package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	mdcodec "github.com/pion/mediadevices/pkg/codec"
	"github.com/pion/mediadevices/pkg/io/video"
	"github.com/pion/mediadevices/pkg/prop"

	"github.com/p2pcam/p2pcam/pkg/codec"
)

// Kind is the kind of a video source.
type Kind int

// Source kinds.
const (
	None Kind = iota
	Camera
	Test
	File
)

// Source names where video comes from, as given to --source.
type Source struct {
	Kind Kind
	// Arg is the camera id or label for Camera ("" for the first camera)
	// and the path for File: a .y4m file (played in a loop), a named pipe
	// (played once, as it arrives), or "-" for In.
	Arg string
	// In is where a File source with Arg "-" reads its Y4M stream
	// (standard input); it plays once and its end is ErrSourceEnded.
	In io.Reader
}

// ErrBadSource means a --source value was not understood.
var ErrBadSource = errors.New("unknown source")

// ParseSource parses "camera", "camera:NAME", "test", "none", "-" (Y4M on
// standard input: the caller sets In), a path to a .y4m file or the path
// of an existing named pipe.
func ParseSource(s string) (Source, error) {
	switch {
	case s == "-":
		return Source{Kind: File, Arg: "-"}, nil
	case s == "none":
		return Source{Kind: None}, nil
	case s == "test":
		return Source{Kind: Test}, nil
	case s == "camera":
		return Source{Kind: Camera}, nil
	case strings.HasPrefix(s, "camera:"):
		id := strings.TrimPrefix(s, "camera:")
		if id == "" {
			return Source{}, fmt.Errorf("%w %q: camera: needs a camera name after the colon", ErrBadSource, s)
		}
		return Source{Kind: Camera, Arg: id}, nil
	case strings.HasSuffix(strings.ToLower(s), ".y4m"):
		return Source{Kind: File, Arg: s}, nil
	}
	if fi, err := os.Stat(s); err == nil && fi.Mode()&os.ModeNamedPipe != 0 {
		return Source{Kind: File, Arg: s}, nil
	}
	return Source{}, fmt.Errorf("%w %q: use camera, camera:NAME, test, none, a .y4m file, a named pipe or - (Y4M on stdin)", ErrBadSource, s)
}

// String formats the source as --source takes it.
func (s Source) String() string {
	switch s.Kind {
	case Camera:
		if s.Arg == "" {
			return "camera"
		}
		return "camera:" + s.Arg
	case Test:
		return "test"
	case File:
		return s.Arg
	}
	return "none"
}

// Options shape the video a source produces.
type Options struct {
	Width, Height int     // wanted picture size; the synthetic source makes exactly this
	FPS           float64 // wanted frame rate
	// Bitrate is the encoder's ceiling in bits per second (0: the
	// encoder's default); congestion control moves the target below it.
	Bitrate int
	// Speed is the codec's own speed/quality knob (codec.EncoderParams);
	// 0 means the codec's default.
	Speed int
	// CameraFormat, when set, is the only pixel format a camera is
	// opened in (I420, NV12, NV21, YUYV, UYVY or MJPEG); otherwise
	// PickMode chooses.
	CameraFormat string
	// Codec is the video codec to encode with: its encoder, RTP
	// capability and payloader. Required.
	Codec codec.Descriptor
	// Encoder, when set, replaces Codec's own encoder (tests); Codec
	// still names the track and packetizes it.
	Encoder mdcodec.VideoEncoderBuilder
	// TemporalLayers asks Codec's encoder for that many temporal layers
	// (codec.EncoderParams), and the track then packetizes with
	// Codec.Layers' payloader; 0 or 1 (the default) makes none. Codecs
	// without Layers ignore it.
	TemporalLayers int
}

// ErrNoCamera means no camera was found, or none matched the id asked for.
var ErrNoCamera = errors.New("no camera found")

// Open is OpenContext without a way to stop waiting for a stream.
func Open(src Source, opts Options) (*Track, error) {
	return OpenContext(context.Background(), src, opts)
}

// OpenContext opens src and returns its track, ready to add to a
// PeerConnection. Nothing is captured or encoded until Start; Close stops
// everything. A stream's first frame is read here: waiting for it (or for
// a named pipe's writer) ends with ctx.
func OpenContext(ctx context.Context, src Source, opts Options) (*Track, error) {
	if opts.Codec.MimeType == "" {
		return nil, errNoCodec
	}
	if opts.Encoder == nil {
		b, err := newEncoder(opts.Codec, opts.Bitrate, opts.Speed, opts.TemporalLayers)
		if err != nil {
			return nil, err
		}
		opts.Encoder = b
	}
	if opts.FPS <= 0 && src.Kind != File { // a file plays at its own rate
		opts.FPS = 30
	}
	var (
		r       video.Reader
		closeFn func() error
		cam     cameraInfo
		w, h    = opts.Width, opts.Height
	)
	switch src.Kind {
	case Test:
		if w < 16 || h < 16 || w%2 != 0 || h%2 != 0 {
			return nil, fmt.Errorf("test source: size %dx%d must be even and at least 16x16", w, h)
		}
		s := newPatternSource(w, h, opts.FPS)
		r, closeFn = s, s.Close
	case File:
		s, err := openY4M(ctx, src, opts.FPS)
		if err != nil {
			return nil, err
		}
		r, closeFn, w, h = s, s.Close, s.hdr.w, s.hdr.h
		opts.FPS = s.fps
	case Camera:
		cr, cclose, info, cw, ch, err := openCameraReader(src.Arg, opts)
		if err != nil {
			return nil, err
		}
		r, closeFn, cam, w, h = cr, cclose, info, cw, ch
	default:
		return nil, fmt.Errorf("capture: nothing to open for source %q", src)
	}
	fr := opts.FPS
	if cam != nil && cam.Mode().FPS > 0 {
		fr = cam.Mode().FPS
	}
	if opts.TemporalLayers > 1 && opts.Codec.Layers != nil {
		opts.Codec.NewPayloader = opts.Codec.Layers.NewPayloader
	}
	t, err := newTrack(r, closeFn, opts.Codec, opts.Encoder, prop.Media{Video: prop.Video{Width: w, Height: h, FrameRate: float32(fr)}})
	if err != nil {
		return nil, err
	}
	t.camera = cam
	return t, nil
}

// Device is a camera and what it can produce.
type Device struct {
	// Name is Name(), for --json: the stable name scripts should use.
	StableName string `json:"name"`
	// ID is mediadevices' id for the device; it changes every run.
	ID      string   `json:"id"`
	Label   string   `json:"label"`
	Formats []Format `json:"formats"`
	// Err says why the formats could not be read (e.g. the device is busy).
	Err string `json:"error,omitempty"`
}

// Name is the stable name to pass to --source camera:NAME: on Linux the
// device node's name (video0). mediadevices (other systems) makes up a
// new ID each run; the part of its label before ";" stays put.
func (d Device) Name() string {
	if d.StableName != "" {
		return d.StableName
	}
	name, _, _ := strings.Cut(d.Label, ";")
	return name
}

// Matches reports whether s names this camera: its ID, its label, its
// Name, or on Linux its device node (/dev/video0).
func (d Device) Matches(s string) bool {
	return s == d.ID || s == d.Label || s == d.Name() || s == "/dev/"+d.Name()
}

// Format is one way a camera can deliver pictures.
type Format struct {
	PixelFormat string  `json:"pixel_format"`
	Width       int     `json:"width"`
	Height      int     `json:"height"`
	FPS         float32 `json:"fps,omitempty"`
}

// sortFormats orders a camera's formats: largest size first, then the
// highest rate, then by name, so the listing is the same every run.
func sortFormats(fs []Format) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Width*a.Height != b.Width*b.Height {
			return a.Width*a.Height > b.Width*b.Height
		}
		if a.FPS != b.FPS {
			return a.FPS > b.FPS
		}
		return a.PixelFormat < b.PixelFormat
	})
}

// cameraInfo is what a camera source tells about itself.
type cameraInfo interface {
	Dropped() uint64  // frames skipped as corrupt or short
	Mode() ModeChoice // the mode it was opened in
	Name() string     // its stable name
}
