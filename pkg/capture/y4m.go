package capture

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrSourceEnded means a streamed source (a pipe, a named pipe, standard
// input) came to its end: its writer finished. It ends a call normally; a
// track's Err reports it so the caller can tell it from a failure.
var ErrSourceEnded = errors.New("the source ended")

// ErrTruncated means a .y4m file ends inside a frame: a copy or a
// recording that was cut short.
var ErrTruncated = errors.New("the file is cut short")

// errNoFrames means a Y4M file or stream holds a header and no frame.
var errNoFrames = errors.New("no frames")

// FileError is a fault in a Y4M file or stream given as the source: a
// header p2pcam cannot play, a frame without its marker, a file cut short.
// Its text is Err's alone: callers name the source already.
type FileError struct {
	Name string // the path, or "stdin"
	Err  error
}

func (e *FileError) Error() string { return e.Err.Error() }

// Unwrap returns the fault itself.
func (e *FileError) Unwrap() error { return e.Err }

// y4mHeader is what p2pcam needs from a YUV4MPEG2 stream header.
type y4mHeader struct {
	w, h  int
	fps   float64 // 0 when the file does not say
	sx    int     // chroma subsampling across: 1, 2 or 4; 0 for mono (no chroma)
	sy    int     // chroma subsampling down: 1 or 2; 0 for mono
	depth int     // bits per sample, 8 to 16; above 8 each takes two bytes, little-endian
	alpha bool    // an alpha plane follows the chroma (C444alpha); it is dropped
	full  bool    // XCOLORRANGE=FULL: samples span 0-255 rather than video range
}

// maxY4MLine bounds header and frame-header lines: real ones are short.
const maxY4MLine = 1024

// y4mColour maps the C tags p2pcam plays (the 8-bit ones ffmpeg's
// yuv4mpegpipe writes) to their chroma subsampling; high bit depths add
// pN (C420p10, C422p12, C444p16, Cmono10, ...).
var y4mColour = map[string][2]int{
	"420": {2, 2}, "420jpeg": {2, 2}, "420paldv": {2, 2}, "420mpeg2": {2, 2},
	"422": {2, 1}, "444": {1, 1}, "411": {4, 1}, "mono": {0, 0},
}

// parseColour reads a C tag's value into h.
func (h *y4mHeader) parseColour(val string) error {
	name, depth := val, 8
	if val == "444alpha" {
		h.sx, h.sy, h.alpha = 1, 1, true
		return nil
	}
	if i := strings.LastIndexByte(val, 'p'); i > 0 && i+1 < len(val) && strings.Trim(val[i+1:], "0123456789") == "" {
		d, _ := strconv.Atoi(val[i+1:])
		if d < 9 || d > 16 {
			return fmt.Errorf("colour space C%s is not supported: high bit depths go from 9 to 16", val)
		}
		name, depth = val[:i], d
	} else if strings.HasPrefix(val, "mono") && len(val) > 4 {
		d, err := strconv.Atoi(val[4:])
		if err != nil || d < 8 || d > 16 {
			return fmt.Errorf("colour space C%s is not supported", val)
		}
		name, depth = "mono", d
	}
	sub, ok := y4mColour[name]
	if !ok || (depth > 8 && name != "mono" && name != "420" && name != "422" && name != "444") {
		return fmt.Errorf("colour space C%s is not supported: p2pcam plays 4:2:0, 4:2:2, 4:4:4, 4:1:1 and mono, 8 to 16 bits", val)
	}
	h.sx, h.sy, h.depth = sub[0], sub[1], depth
	return nil
}

// parseY4MHeader reads the stream header line. Without a C tag the
// samples are 8-bit 4:2:0; without XCOLORRANGE they are video range.
func parseY4MHeader(r *bufio.Reader) (y4mHeader, error) {
	line, err := readLine(r)
	if err != nil {
		return y4mHeader{}, fmt.Errorf("read header: %w", err)
	}
	fields := strings.Fields(line)
	if len(fields) == 0 || fields[0] != "YUV4MPEG2" {
		return y4mHeader{}, errors.New("not a YUV4MPEG2 (.y4m) stream")
	}
	h := y4mHeader{sx: 2, sy: 2, depth: 8}
	for _, f := range fields[1:] {
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
			if cerr := h.parseColour(val); cerr != nil {
				return y4mHeader{}, cerr
			}
		case 'I':
			if val != "p" && val != "?" {
				return y4mHeader{}, errors.New("interlaced y4m is not supported; deinterlace it first")
			}
		case 'X':
			if k, v, ok := strings.Cut(val, "="); ok && k == "COLORRANGE" {
				h.full = v == "FULL"
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

// chromaSize is the size of one chroma plane as stored, in samples.
func (h y4mHeader) chromaSize() (w, ht int) {
	if h.sx == 0 {
		return 0, 0
	}
	return (h.w + h.sx - 1) / h.sx, (h.h + h.sy - 1) / h.sy
}

// frameBytes is the size of one frame's samples, without its FRAME line.
func (h y4mHeader) frameBytes() int {
	cw, ch := h.chromaSize()
	n := h.w*h.h + 2*cw*ch
	if h.alpha {
		n += h.w * h.h
	}
	if h.depth > 8 {
		n *= 2
	}
	return n
}

// direct reports whether frames are already what the encoder takes
// (8-bit video-range 4:2:0) and can be read straight into the picture.
func (h y4mHeader) direct() bool {
	return h.sx == 2 && h.sy == 2 && h.depth == 8 && !h.full && !h.alpha
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

// y4mSource plays Y4M video. A regular file plays in a loop at its own
// frame rate (or the one asked for); a stream (standard input, a named
// pipe) plays once, as it arrives, and its end is ErrSourceEnded. Frames
// in 4:2:2, 4:4:4, 4:1:1, mono, high bit depths or full range are
// converted to the video-range 8-bit I420 the encoder takes. It
// implements mediadevices.VideoSource.
//
// The source owns its input from openY4M on: Close closes it whether or
// not Read was ever called, and Read closes it early when playback ends
// or fails. Only one goroutine may call Read; Close may be called from any
// goroutine, at any time, any number of times.
type y4mSource struct {
	name   string    // the path, or "stdin"
	in     io.Reader // what the frames are read from, under r
	closer io.Closer // closes in (nil: nothing of ours to close)
	file   *os.File  // a regular file, played in a loop; nil for a stream
	r      *bufio.Reader
	hdr    y4mHeader
	dataAt int64
	fps    float64 // the playback rate: the one asked for, else the header's, else 30
	pace   pacer

	closeOnce sync.Once
	closeErr  error

	pending bool // a stream's first frame, read at open, is in frames[1] and not yet played
	n       int
	frames  [2]*image.YCbCr
	raw     []byte     // one frame as stored, when it needs converting
	luma    *[256]byte // full range to video range, nil when the samples are video range
	chroma  *[256]byte
}

// openY4M opens src (a path, or "-" for src.In) and reads its header and
// first frame, so that input p2pcam cannot play fails here, before a
// call starts; a regular file is also checked to end on a whole frame.
// fps overrides the rate the header says when positive; otherwise the
// header's rate is played (30 when it says none). Opening a named pipe
// waits for its writer, and reading waits for the header, until ctx
// ends. On error everything opened is closed; on success the returned
// source owns the input until Close.
func openY4M(ctx context.Context, src Source, fps float64) (*y4mSource, error) {
	s, err := openInput(ctx, src)
	if err != nil {
		return nil, err
	}
	if err := s.start(ctx, fps); err != nil {
		s.closeFile()
		return nil, err
	}
	return s, nil
}

// openInput opens the file, pipe or standard input behind src.
func openInput(ctx context.Context, src Source) (*y4mSource, error) {
	if src.Arg == "-" {
		if src.In == nil {
			return nil, errors.New("no standard input to read video from")
		}
		s := &y4mSource{name: "stdin", in: src.In}
		if f, ok := src.In.(*os.File); ok {
			// A descriptor of our own, in non-blocking mode, so that
			// Close ends a read that waits for the writer.
			pf, err := pollable(f)
			if err != nil {
				return nil, fmt.Errorf("read stdin: %w", err)
			}
			s.in, s.closer = pf, pf
		}
		return s, nil
	}
	fi, err := os.Stat(src.Arg)
	if err != nil {
		return nil, err
	}
	if fi.Mode().IsRegular() {
		f, err := os.Open(src.Arg)
		if err != nil {
			return nil, err
		}
		return &y4mSource{name: src.Arg, in: f, closer: f, file: f}, nil
	}
	f, err := openPipe(ctx, src.Arg)
	if err != nil {
		return nil, err
	}
	return &y4mSource{name: src.Arg, in: f, closer: f}, nil
}

// openPipe opens a named pipe, which waits for a writer; when ctx ends
// first it opens the pipe's writing end itself for a moment, which ends
// the wait, and returns ctx's error.
func openPipe(ctx context.Context, path string) (*os.File, error) {
	type opened struct {
		f   *os.File
		err error
	}
	done := make(chan opened, 1)
	go func() {
		f, err := os.Open(path)
		done <- opened{f, err}
	}()
	select {
	case o := <-done:
		return o.f, o.err
	case <-ctx.Done():
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if w, err := openWriterNow(path); err == nil {
			w.Close()
		}
		select {
		case o := <-done:
			if o.f != nil {
				o.f.Close()
			}
			return nil, fmt.Errorf("wait for a writer on %s: %w", path, ctx.Err())
		case <-tick.C:
		}
	}
}

// start reads the header and the first frame, closing the input when ctx
// ends first, and readies playback.
func (s *y4mSource) start(ctx context.Context, fps float64) error {
	s.r = bufio.NewReaderSize(s.in, 1<<16)
	done := make(chan error, 1)
	go func() { done <- s.readHead() }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		s.closeFile()
		<-done
		return fmt.Errorf("read %s: %w", s.name, ctx.Err())
	}
	if err != nil {
		return err
	}
	if fps <= 0 {
		fps = s.hdr.fps
	}
	if fps <= 0 {
		fps = 30
	}
	s.fps = fps
	s.pace = newPacer(time.Duration(float64(time.Second) / fps))
	return nil
}

// readHead reads the header, checks a file's frames and reads the first.
func (s *y4mSource) readHead() error {
	hdr, err := parseY4MHeader(s.r)
	if err != nil {
		return &FileError{Name: s.name, Err: err}
	}
	s.hdr = hdr
	for i := range s.frames {
		s.frames[i] = image.NewYCbCr(image.Rect(0, 0, hdr.w, hdr.h), image.YCbCrSubsampleRatio420)
	}
	if !hdr.direct() {
		s.raw = make([]byte, hdr.frameBytes())
	}
	if hdr.full {
		s.luma, s.chroma = rangeTables()
	}
	if s.file != nil {
		pos, err := s.file.Seek(0, io.SeekCurrent)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		s.dataAt = pos - int64(s.r.Buffered())
		if err := s.checkWhole(); err != nil {
			return &FileError{Name: s.name, Err: err}
		}
	}
	// Read one frame now so that input with no frame fails at open; a
	// file is read again from its start, a stream's frame is played first.
	if err := s.readFrame(s.frames[1]); err != nil {
		if err == io.EOF {
			err = errNoFrames
		}
		return &FileError{Name: s.name, Err: err}
	}
	if s.file == nil {
		s.pending = true
		return nil
	}
	return s.rewind()
}

// checkWhole walks a file's frames, seeking from one FRAME line to the
// next, and fails when the file ends inside a frame.
func (s *y4mSource) checkWhole() error {
	fi, err := s.file.Stat()
	if err != nil {
		return err
	}
	size, n := fi.Size(), int64(s.hdr.frameBytes())
	buf := make([]byte, maxY4MLine+1)
	frames := 0
	for pos := s.dataAt; pos < size; frames++ {
		got, err := s.file.ReadAt(buf, pos)
		if err != nil && err != io.EOF {
			return err
		}
		nl := bytes.IndexByte(buf[:got], '\n')
		if nl < 0 && pos+int64(got) == size {
			return fmt.Errorf("%w: it ends after %d whole frames, in a frame header", ErrTruncated, frames)
		}
		if nl < 0 || !bytes.HasPrefix(buf[:nl], []byte("FRAME")) {
			return fmt.Errorf("corrupt y4m: expected a FRAME marker after %d frames", frames)
		}
		start := pos + int64(nl) + 1
		if start+n > size {
			return fmt.Errorf("%w: it ends after %d whole frames, %d bytes into frame %d of %d bytes", ErrTruncated, frames, size-start, frames+1, n)
		}
		pos = start + n
	}
	return nil
}

// ID implements mediadevices.Source.
func (s *y4mSource) ID() string { return "y4m:" + s.name }

// Close stops playback and closes the input, whether or not playback ever
// started; a Read in progress and every later one return io.EOF. It is
// idempotent: later calls return what the first returned.
func (s *y4mSource) Close() error {
	s.pace.close()
	return s.closeFile()
}

// closeFile closes the input the first time it is called, by Close or by
// Read when playback ends, and reports that first result every time.
func (s *y4mSource) closeFile() error {
	s.closeOnce.Do(func() {
		if s.closer == nil {
			return
		}
		if err := s.closer.Close(); err != nil {
			s.closeErr = fmt.Errorf("close %s: %w", s.name, err)
		}
	})
	return s.closeErr
}

func (s *y4mSource) rewind() error {
	if _, err := s.file.Seek(s.dataAt, io.SeekStart); err != nil {
		return fmt.Errorf("rewind %s: %w", s.name, err)
	}
	s.r.Reset(s.file)
	return nil
}

// readFrame reads the next frame into img: io.EOF at a clean end, an
// error wrapping io.ErrUnexpectedEOF when the input ends inside a frame.
func (s *y4mSource) readFrame(img *image.YCbCr) error {
	line, err := readLine(s.r)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "FRAME") {
		return errors.New("corrupt y4m: expected a FRAME marker")
	}
	if s.raw != nil {
		if _, err := io.ReadFull(s.r, s.raw); err != nil {
			return fmt.Errorf("corrupt y4m: short frame: %w", eofInFrame(err))
		}
		s.convert(img)
		return nil
	}
	for _, p := range [][]byte{img.Y, img.Cb, img.Cr} {
		if _, err := io.ReadFull(s.r, p); err != nil {
			return fmt.Errorf("corrupt y4m: short frame: %w", eofInFrame(err))
		}
	}
	return nil
}

// eofInFrame makes an end of input inside a frame io.ErrUnexpectedEOF.
func eofInFrame(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// convert turns the stored frame in s.raw into 8-bit video-range I420.
func (s *y4mSource) convert(img *image.YCbCr) {
	h := s.hdr
	cw, ch := h.chromaSize()
	bps := 1
	if h.depth > 8 {
		bps = 2
	}
	raw := s.raw
	plane := func(n int) []byte {
		p := raw[:n*bps]
		raw = raw[n*bps:]
		if bps == 2 {
			p = to8(p, h.depth)
		}
		return p
	}
	y := plane(h.w * h.h)
	mapInto(img.Y, y, s.luma)
	if h.sx == 0 {
		for i := range img.Cb {
			img.Cb[i], img.Cr[i] = 128, 128
		}
		return
	}
	for _, dst := range [][]byte{img.Cb, img.Cr} {
		src := plane(cw * ch)
		if h.sx == 2 && h.sy == 2 {
			mapInto(dst, src, s.chroma)
			continue
		}
		resample(dst, src, h, cw)
		if s.chroma != nil {
			mapInto(dst, dst, s.chroma)
		}
	}
}

// to8 packs little-endian samples of depth bits into bytes in place,
// rounding, and returns the packed half.
func to8(p []byte, depth int) []byte {
	shift := uint(depth - 8)
	half := uint32(1) << (shift - 1)
	n := len(p) / 2
	for i := 0; i < n; i++ {
		// out[i] overwrites p[i], whose sample (at 2i) is read already.
		pair := p[2*i : 2*i+2 : 2*i+2]
		v := (uint32(pair[0]) | uint32(pair[1])<<8 + half) >> shift
		if v > 255 {
			v = 255
		}
		p[i] = byte(v)
	}
	return p[:n]
}

// mapInto copies src into dst through the table t (nil: unchanged).
func mapInto(dst, src []byte, t *[256]byte) {
	if t == nil {
		copy(dst, src)
		return
	}
	for i, v := range src[:len(dst)] {
		dst[i] = t[v]
	}
}

// resample fills an I420 chroma plane from a plane subsampled by h.sx
// across and h.sy down, srcW samples wide: each output sample averages the
// source samples under its 2x2 block of luma.
func resample(dst, src []byte, h y4mHeader, srcW int) {
	dw := (h.w + 1) / 2
	for cy := 0; cy < (h.h+1)/2; cy++ {
		r0 := (2 * cy / h.sy) * srcW
		r1 := (min(2*cy+1, h.h-1) / h.sy) * srcW
		out := dst[cy*dw : (cy+1)*dw]
		switch {
		case h.sx == 2 && h.sy == 1: // 4:2:2: two rows, one column
			a, b := src[r0:r0+dw], src[r1:r1+dw]
			for cx := range out {
				out[cx] = byte((uint(a[cx]) + uint(b[cx]) + 1) >> 1)
			}
			continue
		case h.sx == 1 && h.sy == 1 && h.w%2 == 0: // 4:4:4: two rows, two columns
			a, b := src[r0:r0+2*dw], src[r1:r1+2*dw]
			for cx := range out {
				x := 2 * cx
				out[cx] = byte((uint(a[x]) + uint(a[x+1]) + uint(b[x]) + uint(b[x+1]) + 2) >> 2)
			}
			continue
		}
		for cx := range out {
			x0, x1 := 2*cx/h.sx, min(2*cx+1, h.w-1)/h.sx
			sum := uint(src[r0+x0]) + uint(src[r0+x1]) + uint(src[r1+x0]) + uint(src[r1+x1])
			out[cx] = byte((sum + 2) / 4)
		}
	}
}

// rangeTables map full-range samples (0-255) to video range: luma 16-235,
// chroma 16-240 around 128, which is what video decoders display.
func rangeTables() (luma, chroma *[256]byte) {
	luma, chroma = new([256]byte), new([256]byte)
	for v := range 256 {
		luma[v] = byte(math.Round(16 + float64(v)*219/255))
		chroma[v] = byte(math.Round(128 + (float64(v)-128)*224/255))
	}
	return luma, chroma
}

// Read returns the next frame at the playback rate: a file starts over at
// its end, a stream returns ErrSourceEnded at its end (also when its
// writer stopped inside a frame). It returns io.EOF once Close has been
// called, and closes the input on any error.
func (s *y4mSource) Read() (image.Image, func(), error) {
	if !s.pace.wait() {
		s.closeFile()
		return nil, func() {}, io.EOF
	}
	img := s.frames[s.n%2]
	var err error
	switch {
	case s.pending:
		s.pending = false
		img = s.frames[1]
		s.n = 1
	default:
		err = s.readFrame(img)
		if err == io.EOF && s.file != nil {
			if err = s.rewind(); err == nil {
				err = s.readFrame(img)
			}
		}
	}
	if err != nil {
		s.closeFile()
		switch {
		case s.pace.ctx.Err() != nil:
			// Close closed the input under this read: playback was
			// stopped, the input is not corrupt.
			return nil, func() {}, io.EOF
		case s.file == nil && (err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF)):
			return nil, func() {}, ErrSourceEnded
		}
		return nil, func() {}, fmt.Errorf("%s: %w", s.name, &FileError{Name: s.name, Err: err})
	}
	s.n++
	return img, func() {}, nil
}
