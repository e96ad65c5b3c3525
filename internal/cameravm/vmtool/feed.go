//go:build linux

package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	bufTypeVideoOutput = 2
	vidiocSFmt         = 0xc0d05605 // _IOWR('V', 5, struct v4l2_format)
	vidiocSParm        = 0xc0cc5616 // _IOWR('V', 22, struct v4l2_streamparm)
	pixFmtMJPEG        = 'M' | 'J'<<8 | 'P'<<16 | 'G'<<24
)

// outFormat is struct v4l2_format with its v4l2_pix_format member.
type outFormat struct {
	Type uint32
	_    uint32
	Pix  struct {
		Width, Height, PixelFormat, Field, BytesPerLine, SizeImage uint32
		Colorspace, Priv, Flags, YCbCrEnc, Quantization, XferFunc  uint32
	}
	_ [200 - 48]byte
}

// feed writes the JPEG files to dev, a v4l2loopback output, at fps frames
// a second until killed, each without its DHT segments; every bad-th
// frame (counting from 1 across loops) is cut in half.
func feed(dev, fpsArg, badArg string, files []string, out io.Writer) error {
	fps, err := strconv.Atoi(fpsArg)
	if err != nil || fps <= 0 {
		return fmt.Errorf("bad frame rate %q", fpsArg)
	}
	bad, err := strconv.Atoi(badArg)
	if err != nil {
		return fmt.Errorf("bad frame number %q", badArg)
	}
	var frames [][]byte
	var w, h int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if w == 0 {
			if w, h, err = jpegSize(b); err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
		}
		frames = append(frames, stripDHT(b))
	}
	fd, err := unix.Open(dev, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", dev, err)
	}
	defer unix.Close(fd)
	f := outFormat{Type: bufTypeVideoOutput}
	f.Pix.Width, f.Pix.Height, f.Pix.PixelFormat, f.Pix.Field = uint32(w), uint32(h), pixFmtMJPEG, 1
	if err := rawIoctl(fd, vidiocSFmt, unsafe.Pointer(&f)); err != nil {
		return fmt.Errorf("set MJPEG %dx%d on %s: %w", w, h, dev, err)
	}
	p := v4l2Streamparm{Type: bufTypeVideoOutput, TimePerFrame: [2]uint32{1, uint32(fps)}}
	if err := rawIoctl(fd, vidiocSParm, unsafe.Pointer(&p)); err != nil {
		return fmt.Errorf("set %d fps on %s: %w", fps, dev, err)
	}
	fmt.Fprintf(out, "feeding %s: MJPEG %dx%d @ %d fps, %d frames without Huffman tables, every %dth cut short\n",
		dev, w, h, fps, len(frames), bad)
	tick := time.NewTicker(time.Second / time.Duration(fps))
	defer tick.Stop()
	for n := 1; ; n++ {
		b := frames[(n-1)%len(frames)]
		if bad > 0 && n%bad == 0 {
			b = b[:len(b)/2]
		}
		if _, err := unix.Write(fd, b); err != nil {
			return fmt.Errorf("write frame %d: %w", n, err)
		}
		<-tick.C
	}
}

func rawIoctl(fd int, req uintptr, arg unsafe.Pointer) error {
	for {
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
		if errno == 0 {
			return nil
		}
		if errno != unix.EINTR {
			return errno
		}
	}
}

// segments walks b's marker segments before the first scan, calling fn
// with each marker and its bytes; it returns the offset of the scan.
func segments(b []byte, fn func(marker byte, seg []byte)) (int, error) {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return 0, fmt.Errorf("not a JPEG")
	}
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xFF {
			return 0, fmt.Errorf("no marker at byte %d", i)
		}
		if b[i+1] == 0xDA {
			return i, nil
		}
		n := int(b[i+2])<<8 | int(b[i+3])
		if i+2+n > len(b) {
			break
		}
		fn(b[i+1], b[i:i+2+n])
		i += 2 + n
	}
	return 0, fmt.Errorf("no scan")
}

// stripDHT returns b without its Huffman table segments (b unchanged if it
// cannot be walked).
func stripDHT(b []byte) []byte {
	out := []byte{0xFF, 0xD8}
	sos, err := segments(b, func(m byte, seg []byte) {
		if m != 0xC4 {
			out = append(out, seg...)
		}
	})
	if err != nil {
		return b
	}
	return append(out, b[sos:]...)
}

// jpegSize reads the frame size from b's SOF0 segment.
func jpegSize(b []byte) (w, h int, err error) {
	_, err = segments(b, func(m byte, seg []byte) {
		if m == 0xC0 && len(seg) >= 9 {
			h, w = int(seg[5])<<8|int(seg[6]), int(seg[7])<<8|int(seg[8])
		}
	})
	if err == nil && w == 0 {
		err = fmt.Errorf("no baseline frame header")
	}
	return w, h, err
}
