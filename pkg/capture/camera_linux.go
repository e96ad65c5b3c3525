//go:build linux

package capture

import (
	"errors"
	"fmt"
	"image"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/blackjack/webcam"
	"github.com/pion/mediadevices/pkg/io/video"

	"github.com/p2pcam/p2pcam/pkg/mjpeg"
)

// On Linux p2pcam reads cameras through V4L2 itself (with
// github.com/blackjack/webcam, no cgo), not through mediadevices: its
// driver decodes MJPEG with Go's image/jpeg, too slow for 1080p30, and
// ends the stream on the first bad frame. Here the JPEG bytes go to
// pkg/mjpeg, bad frames are counted and skipped, and the mode is picked
// by PickMode.

// StallTimeout is how long a camera may deliver no usable frame before
// reading it fails with ErrCameraStalled.
const StallTimeout = 2 * time.Second

// fourccs maps the V4L2 pixel formats p2pcam reads to PickMode's names.
var fourccs = map[string]string{
	"YU12": "I420", "NV12": "NV12", "NV21": "NV21", "YUYV": "YUYV", "UYVY": "UYVY",
	"MJPG": "MJPEG", "JPEG": "MJPEG",
}

func fourccString(f webcam.PixelFormat) string {
	b := []byte{byte(f), byte(f >> 8), byte(f >> 16), byte(f >> 24)}
	return strings.TrimRight(string(b), " \x00")
}

// formatName is PickMode's name for a V4L2 format; unknown ones keep
// their fourcc.
func formatName(f webcam.PixelFormat) string {
	s := fourccString(f)
	if n, ok := fourccs[s]; ok {
		return n
	}
	return s
}

// commonSizes are tried within a camera's stepwise size ranges.
var commonSizes = [][2]int{{320, 240}, {640, 360}, {640, 480}, {800, 600}, {960, 540}, {1024, 768},
	{1280, 720}, {1280, 960}, {1600, 1200}, {1920, 1080}, {2560, 1440}, {3840, 2160}}

// cameraModes lists what cam can deliver, one mode per format and size.
func cameraModes(cam *webcam.Webcam, asked [2]int) []CameraMode {
	var out []CameraMode
	for f := range cam.GetSupportedFormats() {
		for _, fs := range cam.GetSupportedFrameSizes(f) {
			var sizes [][2]int
			if fs.StepWidth == 0 || fs.StepHeight == 0 || (fs.MinWidth == fs.MaxWidth && fs.MinHeight == fs.MaxHeight) {
				sizes = [][2]int{{int(fs.MaxWidth), int(fs.MaxHeight)}}
			} else {
				for _, s := range append(slices.Clone(commonSizes), asked) {
					w, h := uint32(s[0]), uint32(s[1])
					if w >= fs.MinWidth && w <= fs.MaxWidth && h >= fs.MinHeight && h <= fs.MaxHeight &&
						(w-fs.MinWidth)%fs.StepWidth == 0 && (h-fs.MinHeight)%fs.StepHeight == 0 && !slices.Contains(sizes, s) {
						sizes = append(sizes, s)
					}
				}
			}
			for _, s := range sizes {
				m := CameraMode{Format: formatName(f), Width: s[0], Height: s[1]}
				for _, r := range cam.GetSupportedFramerates(f, uint32(s[0]), uint32(s[1])) {
					if r.StepNumerator == 0 && r.StepDenominator == 0 {
						if r.MaxNumerator > 0 {
							m.Rates = append(m.Rates, roundRate(float64(r.MaxDenominator)/float64(r.MaxNumerator)))
						}
						continue
					}
					// A range of frame intervals: the longest is the lowest rate.
					if r.MaxNumerator > 0 && r.MinNumerator > 0 {
						m.Rates = append(m.Rates, roundRate(float64(r.MaxDenominator)/float64(r.MaxNumerator)),
							roundRate(float64(r.MinDenominator)/float64(r.MinNumerator)))
						m.Stepwise = true
					}
				}
				slices.Sort(m.Rates)
				m.Rates = slices.Compact(m.Rates)
				out = append(out, m)
			}
		}
	}
	return out
}

func roundRate(r float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(r, 'f', 3, 64), 64)
	return v
}

// videoNodes lists /dev/video* in numeric order.
func videoNodes() []string { return videoNodesIn("/dev") }

// videoNodesIn lists the video* nodes under dev in numeric order.
func videoNodesIn(dev string) []string {
	nodes, _ := filepath.Glob(filepath.Join(dev, "video*"))
	num := func(s string) int { n, _ := strconv.Atoi(strings.TrimPrefix(filepath.Base(s), "video")); return n }
	sort.Slice(nodes, func(i, j int) bool { return num(nodes[i]) < num(nodes[j]) })
	return nodes
}

// openNode opens a V4L2 node; ok is false for nodes that are not video
// capture devices (metadata nodes of UVC cameras, encoders, ...).
func openNode(path string) (cam *webcam.Webcam, ok bool, err error) {
	cam, err = webcam.Open(path)
	if err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) {
			return nil, true, cameraError(err, path, "/proc", deviceGroup)
		}
		return nil, false, err // "Not a video capture device" and the like
	}
	return cam, true, nil
}

// Devices lists the V4L2 cameras, each opened briefly to read its modes.
func Devices() []Device {
	var out []Device
	for _, path := range videoNodes() {
		cam, ok, err := openNode(path)
		if !ok {
			continue
		}
		dev := Device{ID: path, Label: filepath.Base(path), StableName: filepath.Base(path)}
		if err != nil {
			dev.Err = err.Error()
			out = append(out, dev)
			continue
		}
		if name, err := cam.GetName(); err == nil && name != "" {
			dev.Label = name
		}
		for _, m := range cameraModes(cam, [2]int{}) {
			if len(m.Rates) == 0 {
				dev.Formats = append(dev.Formats, Format{PixelFormat: m.Format, Width: m.Width, Height: m.Height})
			}
			for _, r := range m.Rates {
				dev.Formats = append(dev.Formats, Format{PixelFormat: m.Format, Width: m.Width, Height: m.Height, FPS: float32(r)})
			}
		}
		cam.Close()
		sortFormats(dev.Formats)
		out = append(out, dev)
	}
	return out
}

// openCamera opens the camera named id ("" for the first) in the mode
// PickMode finds for opts.
func openCamera(id string, opts Options) (*v4l2Source, error) {
	path := ""
	for _, n := range videoNodes() {
		if id == "" {
			// The first capture device, even one we may not open: its
			// error says why.
			if _, ok, _ := probeNode(n); ok {
				path = n
				break
			}
		} else if id == n || id == filepath.Base(n) {
			path = n
			break
		}
	}
	if path == "" && id != "" {
		// A card name, as p2pcam devices shows it.
		for _, d := range Devices() {
			if d.Matches(id) {
				path = d.ID
				break
			}
		}
	}
	if path == "" {
		if id == "" {
			return nil, ErrNoCamera
		}
		return nil, fmt.Errorf("%w matching %q", ErrNoCamera, id)
	}
	return openV4L2(path, opts)
}

// openCameraReader opens a camera for Open.
func openCameraReader(id string, opts Options) (video.Reader, func() error, cameraInfo, int, int, error) {
	s, err := openCamera(id, opts)
	if err != nil {
		return nil, nil, nil, 0, 0, err
	}
	return s, s.Close, s, s.mode.Width, s.mode.Height, nil
}

// probeNode reports whether path is a capture device (opening it).
func probeNode(path string) (string, bool, error) {
	cam, ok, err := openNode(path)
	if cam != nil {
		cam.Close()
	}
	return path, ok, err
}

// v4l2Source reads one V4L2 camera as I420 pictures; it implements
// video.Reader. Read and Close may run on different goroutines.
type v4l2Source struct {
	path string
	mode ModeChoice

	mu     sync.Mutex // held while reading a frame, and by Close
	cam    *webcam.Webcam
	dec    *mjpeg.Decoder // MJPEG only
	pics   [2]*image.YCbCr
	seq    int
	closed atomic.Bool
	once   sync.Once

	dropped atomic.Uint64
}

func openV4L2(path string, opts Options) (*v4l2Source, error) {
	cam, ok, err := openNode(path)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s is not a video capture device", ErrNoCamera, path)
	}
	fail := func(err error) (*v4l2Source, error) {
		cam.Close()
		return nil, err
	}
	dec, derr := mjpeg.NewDecoder()
	modes := cameraModes(cam, [2]int{opts.Width, opts.Height})
	choice, err := PickMode(modes, ModeRequest{Width: opts.Width, Height: opts.Height, FPS: opts.FPS, Format: opts.CameraFormat}, derr == nil)
	if err != nil {
		if dec != nil {
			dec.Close()
		}
		return fail(fmt.Errorf("camera %s: %w", path, err))
	}
	if choice.Format != "MJPEG" && dec != nil {
		dec.Close()
		dec = nil
	}
	var pf webcam.PixelFormat
	for f := range cam.GetSupportedFormats() {
		if formatName(f) == choice.Format {
			pf = f
		}
	}
	s := &v4l2Source{path: path, mode: choice, cam: cam, dec: dec}
	if _, _, _, err := cam.SetImageFormat(pf, uint32(choice.Width), uint32(choice.Height)); err != nil {
		s.Close()
		return nil, cameraError(err, path, "/proc", deviceGroup)
	}
	if err := cam.SetBufferCount(4); err != nil {
		s.Close()
		return nil, cameraError(err, path, "/proc", deviceGroup)
	}
	// Some drivers cannot set a rate; they run at their own.
	_ = cam.SetFramerate(float32(choice.FPS))
	if err := cam.StartStreaming(); err != nil {
		s.Close()
		return nil, cameraError(err, path, "/proc", deviceGroup)
	}
	for i := range s.pics {
		s.pics[i] = image.NewYCbCr(image.Rect(0, 0, choice.Width, choice.Height), image.YCbCrSubsampleRatio420)
	}
	return s, nil
}

// Read returns the next good frame, skipping (and counting) corrupt or
// short ones; it fails with ErrCameraStalled when none comes for
// StallTimeout, with ErrCameraGone when the camera goes away, and with
// io.EOF once closed. Two pictures alternate, so the one returned stays
// intact until the Read after next.
func (s *v4l2Source) Read() (image.Image, func(), error) {
	nop := func() {}
	s.mu.Lock()
	defer s.mu.Unlock()
	deadline := time.Now().Add(StallTimeout)
	for {
		if s.closed.Load() {
			return nil, nop, io.EOF
		}
		if time.Now().After(deadline) {
			return nil, nop, fmt.Errorf("%w: camera %s: no usable frame for %s", ErrCameraStalled, s.path, StallTimeout)
		}
		err := s.cam.WaitForFrame(1)
		var timeout *webcam.Timeout
		switch {
		case errors.As(err, &timeout), errors.Is(err, syscall.EINTR):
			continue
		case err != nil:
			return nil, nop, cameraError(err, s.path, "/proc", deviceGroup)
		}
		buf, idx, err := s.cam.GetFrame()
		if errors.Is(err, syscall.EAGAIN) {
			continue
		}
		if err != nil {
			return nil, nop, cameraError(err, s.path, "/proc", deviceGroup)
		}
		pic, err := s.convert(buf)
		// A buffer the driver refuses back is lost to this stream, not
		// fatal: the others keep coming, and if none do, the stall
		// timeout ends the stream.
		_ = s.cam.ReleaseFrame(idx)
		switch {
		case err == nil:
			s.seq++
			return pic, nop, nil
		case errors.Is(err, mjpeg.ErrCorrupt), errors.Is(err, errShortFrame), errors.Is(err, errWrongSize):
			s.dropped.Add(1)
			continue
		}
		return nil, nop, fmt.Errorf("camera %s: %w", s.path, err)
	}
}

// errWrongSize means a JPEG frame was not the size the camera was set to.
var errWrongSize = errors.New("frame of the wrong size")

func (s *v4l2Source) convert(b []byte) (*image.YCbCr, error) {
	dst := s.pics[s.seq%2]
	if s.mode.Format != "MJPEG" {
		return dst, rawToI420(s.mode.Format, b, s.mode.Width, s.mode.Height, dst)
	}
	pic, err := s.dec.Decode(b, dst)
	if err != nil {
		return nil, err
	}
	if pic != dst {
		return nil, fmt.Errorf("%w: %dx%d", errWrongSize, pic.Rect.Dx(), pic.Rect.Dy())
	}
	return pic, nil
}

// Dropped counts the frames skipped as corrupt or short.
func (s *v4l2Source) Dropped() uint64 { return s.dropped.Load() }

// Mode is the mode the camera was opened in.
func (s *v4l2Source) Mode() ModeChoice { return s.mode }

// Name is the camera's device node's name.
func (s *v4l2Source) Name() string { return filepath.Base(s.path) }

// Close stops the camera, waiting for a Read in progress (at most about a
// second), and makes later Reads return io.EOF. It is idempotent.
func (s *v4l2Source) Close() error {
	s.closed.Store(true)
	s.once.Do(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.cam.Close()
		if s.dec != nil {
			s.dec.Close()
		}
	})
	return nil
}

var _ video.Reader = (*v4l2Source)(nil)
