package capture

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// y4mHeader is what p2pcam needs from a YUV4MPEG2 stream header.
type y4mHeader struct {
	w, h int
	fps  float64 // 0 when the file does not say
}

// maxY4MLine bounds header and frame-header lines: real ones are short.
const maxY4MLine = 1024

// parseY4MHeader reads the stream header line. Only 4:2:0 8-bit chroma is
// supported (C420, C420jpeg, C420paldv, C420mpeg2 or no C tag), which is what
// ffmpeg writes by default.
func parseY4MHeader(r *bufio.Reader) (y4mHeader, error) {
	line, err := readLine(r)
	if err != nil {
		return y4mHeader{}, fmt.Errorf("read header: %w", err)
	}
	fields := strings.Fields(line)
	if len(fields) == 0 || fields[0] != "YUV4MPEG2" {
		return y4mHeader{}, errors.New("not a YUV4MPEG2 (.y4m) file")
	}
	var h y4mHeader
	for _, f := range fields[1:] {
		if f == "" {
			continue
		}
		val := f[1:]
		switch f[0] {
		case 'W':
			h.w, err = strconv.Atoi(val)
		case 'H':
			h.h, err = strconv.Atoi(val)
		case 'F':
			num, den, ok := strings.Cut(val, ":")
			n, err1 := strconv.Atoi(num)
			d, err2 := strconv.Atoi(den)
			if ok && err1 == nil && err2 == nil && n > 0 && d > 0 {
				h.fps = float64(n) / float64(d)
			}
		case 'C':
			if !strings.HasPrefix(val, "420") || strings.Contains(val, "p1") {
				return y4mHeader{}, fmt.Errorf("colour space C%s is not supported; convert with: ffmpeg -i IN -pix_fmt yuv420p OUT.y4m", val)
			}
		case 'I':
			if val != "p" && val != "?" {
				return y4mHeader{}, errors.New("interlaced y4m is not supported; deinterlace it first")
			}
		}
		if err != nil {
			return y4mHeader{}, fmt.Errorf("bad header field %q", f)
		}
	}
	if h.w <= 0 || h.h <= 0 || h.w > 8192 || h.h > 8192 {
		return y4mHeader{}, fmt.Errorf("bad picture size %dx%d in header", h.w, h.h)
	}
	return h, nil
}

func readLine(r *bufio.Reader) (string, error) {
	var b []byte
	for {
		c, err := r.ReadByte()
		if err != nil {
			if err == io.EOF && len(b) > 0 {
				return "", io.ErrUnexpectedEOF
			}
			return "", err
		}
		if c == '\n' {
			return string(b), nil
		}
		if len(b) >= maxY4MLine {
			return "", errors.New("line too long")
		}
		b = append(b, c)
	}
}

// y4mSource plays a .y4m file in a loop at its own frame rate (or the one
// asked for). It implements mediadevices.VideoSource.
//
// The source owns its file from openY4M on: Close closes it whether or not
// Read was ever called, and Read closes it early when playback fails. Only
// one goroutine may call Read; Close may be called from any goroutine, at
// any time, any number of times.
type y4mSource struct {
	path   string
	f      *os.File
	r      *bufio.Reader // used by openY4M, then by the Read goroutine only
	hdr    y4mHeader
	dataAt int64
	pace   pacer

	closeOnce sync.Once
	closeErr  error

	n      int
	frames [2]*image.YCbCr
}

// openY4M opens path and reads its header; fps overrides the file's rate
// when positive. On error the file is closed; on success the returned
// source owns it until Close.
func openY4M(path string, fps float64) (*y4mSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r := bufio.NewReaderSize(f, 1<<16)
	hdr, err := parseY4MHeader(r)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if fps <= 0 {
		fps = hdr.fps
	}
	if fps <= 0 {
		fps = 30
	}
	pos, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s := &y4mSource{
		path: path, f: f, r: r, hdr: hdr,
		dataAt: pos - int64(r.Buffered()),
		pace:   newPacer(time.Duration(float64(time.Second) / fps)),
	}
	for i := range s.frames {
		s.frames[i] = image.NewYCbCr(image.Rect(0, 0, hdr.w, hdr.h), image.YCbCrSubsampleRatio420)
	}
	// Read one frame now so that a file with no frame fails at open.
	if err := s.readFrame(s.frames[1]); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := s.rewind(); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

// ID implements mediadevices.Source.
func (s *y4mSource) ID() string { return "y4m:" + s.path }

// Close stops playback and closes the file, whether or not playback ever
// started; a Read in progress and every later one return io.EOF. It is
// idempotent: later calls return what the first returned.
func (s *y4mSource) Close() error {
	s.pace.close()
	return s.closeFile()
}

// closeFile closes the file the first time it is called, by Close or by
// Read when playback ends, and reports that first result every time.
func (s *y4mSource) closeFile() error {
	s.closeOnce.Do(func() {
		if err := s.f.Close(); err != nil {
			s.closeErr = fmt.Errorf("close %s: %w", s.path, err)
		}
	})
	return s.closeErr
}

func (s *y4mSource) rewind() error {
	if _, err := s.f.Seek(s.dataAt, io.SeekStart); err != nil {
		return fmt.Errorf("rewind %s: %w", s.path, err)
	}
	s.r.Reset(s.f)
	return nil
}

func (s *y4mSource) readFrame(img *image.YCbCr) error {
	line, err := readLine(s.r)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "FRAME") {
		return errors.New("corrupt y4m: expected a FRAME marker")
	}
	cw, ch := (s.hdr.w+1)/2, (s.hdr.h+1)/2
	planes := []struct {
		buf           []byte
		stride, w, rh int
	}{
		{img.Y, img.YStride, s.hdr.w, s.hdr.h},
		{img.Cb, img.CStride, cw, ch},
		{img.Cr, img.CStride, cw, ch},
	}
	for _, p := range planes {
		for y := range p.rh {
			if _, err := io.ReadFull(s.r, p.buf[y*p.stride:y*p.stride+p.w]); err != nil {
				return fmt.Errorf("corrupt y4m: short frame: %w", err)
			}
		}
	}
	return nil
}

// Read returns the next frame at the playback rate, starting over at the
// end of the file. It returns io.EOF once Close has been called, and
// closes the file on any error.
func (s *y4mSource) Read() (image.Image, func(), error) {
	if !s.pace.wait() {
		s.closeFile()
		return nil, func() {}, io.EOF
	}
	img := s.frames[s.n%2]
	err := s.readFrame(img)
	if err == io.EOF {
		if err = s.rewind(); err == nil {
			err = s.readFrame(img)
		}
	}
	if err != nil {
		s.closeFile()
		if s.pace.ctx.Err() != nil {
			// Close closed the file under this read: playback was
			// stopped, the file is not corrupt.
			return nil, func() {}, io.EOF
		}
		return nil, func() {}, fmt.Errorf("%s: %w", s.path, err)
	}
	s.n++
	return img, func() {}, nil
}
