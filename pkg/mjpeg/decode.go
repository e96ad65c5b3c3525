//go:build cgo

package mjpeg

/*
#cgo pkg-config: libturbojpeg
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

// p2p_range maps a plane from JPEG's full range (0-255) to the video
// range encoders and players assume (luma 16-235, chroma 16-240).
static void p2p_range(unsigned char *p, int stride, int w, int h, int chroma) {
	unsigned char lut[256];
	for (int i = 0; i < 256; i++)
		lut[i] = chroma ? (unsigned char)(128 + ((i - 128) * 224 + (i >= 128 ? 127 : -127)) / 255)
		                : (unsigned char)(16 + (i * 219 + 127) / 255);
	for (int r = 0; r < h; r++) {
		unsigned char *row = p + r * stride;
		for (int c = 0; c < w; c++)
			row[c] = lut[row[c]];
	}
}

static int p2p_decode_planes(tjhandle h, const unsigned char *jpeg, unsigned long n,
		int w, int ht, int subsamp,
		unsigned char *y, int ys, unsigned char *u, unsigned char *v, int cs,
		unsigned char *tu, unsigned char *tv, int ts);

// p2p_decode decodes jpeg into I420 planes y, u, v (strides ys, cs), in
// video range.
static int p2p_decode(tjhandle h, const unsigned char *jpeg, unsigned long n,
		int w, int ht, int subsamp,
		unsigned char *y, int ys, unsigned char *u, unsigned char *v, int cs,
		unsigned char *tu, unsigned char *tv, int ts) {
	int rc = p2p_decode_planes(h, jpeg, n, w, ht, subsamp, y, ys, u, v, cs, tu, tv, ts);
	if (rc != 0)
		return rc;
	p2p_range(y, ys, w, ht, 0);
	if (subsamp != TJSAMP_GRAY) {
		p2p_range(u, cs, (w + 1) / 2, (ht + 1) / 2, 1);
		p2p_range(v, cs, (w + 1) / 2, (ht + 1) / 2, 1);
	}
	return 0;
}

// p2p_decode_planes decodes jpeg into I420 planes y, u, v (strides ys, cs).
// 4:2:0 goes straight into them; other subsamplings are decoded into the
// scratch planes tu, tv (stride ts, as tall as the picture) and resampled.
// Returns 0, or -1 with tjGetErrorStr2 set, or -2 for a subsampling not
// handled here.
static int p2p_decode_planes(tjhandle h, const unsigned char *jpeg, unsigned long n,
		int w, int ht, int subsamp,
		unsigned char *y, int ys, unsigned char *u, unsigned char *v, int cs,
		unsigned char *tu, unsigned char *tv, int ts) {
	int cw = (w + 1) / 2, ch = (ht + 1) / 2;
	unsigned char *planes[3];
	int strides[3];
	const int flags = TJFLAG_STOPONWARNING;
	switch (subsamp) {
	case TJSAMP_420:
		planes[0] = y; planes[1] = u; planes[2] = v;
		strides[0] = ys; strides[1] = cs; strides[2] = cs;
		return tjDecompressToYUVPlanes(h, jpeg, n, planes, w, strides, ht, flags);
	case TJSAMP_GRAY:
		planes[0] = y; planes[1] = NULL; planes[2] = NULL;
		strides[0] = ys; strides[1] = 0; strides[2] = 0;
		if (tjDecompressToYUVPlanes(h, jpeg, n, planes, w, strides, ht, flags) != 0)
			return -1;
		for (int r = 0; r < ch; r++) {
			memset(u + r * cs, 128, cw);
			memset(v + r * cs, 128, cw);
		}
		return 0;
	case TJSAMP_422:
	case TJSAMP_444: {
		planes[0] = y; planes[1] = tu; planes[2] = tv;
		strides[0] = ys; strides[1] = ts; strides[2] = ts;
		if (tjDecompressToYUVPlanes(h, jpeg, n, planes, w, strides, ht, flags) != 0)
			return -1;
		unsigned char *src[2] = {tu, tv}, *dst[2] = {u, v};
		for (int p = 0; p < 2; p++) {
			for (int r = 0; r < ch; r++) {
				const unsigned char *a = src[p] + (2 * r) * ts;
				// An odd last row pairs with itself.
				const unsigned char *b = (2 * r + 1 < ht) ? a + ts : a;
				unsigned char *d = dst[p] + r * cs;
				if (subsamp == TJSAMP_422) {
					for (int c = 0; c < cw; c++)
						d[c] = (unsigned char)((a[c] + b[c] + 1) >> 1);
				} else {
					for (int c = 0; c < cw; c++) {
						int c1 = (2 * c + 1 < w) ? 2 * c + 1 : 2 * c;
						d[c] = (unsigned char)((a[2 * c] + a[c1] + b[2 * c] + b[c1] + 2) >> 2);
					}
				}
			}
		}
		return 0;
	}
	}
	return -2;
}
*/
import "C"

import (
	"fmt"
	"image"
	"sync"
	"unsafe"
)

// Decoder decodes JPEG frames into I420 pictures. One goroutine at a time
// may use it; Close frees it.
type Decoder struct {
	mu     sync.Mutex
	h      C.tjhandle
	dht    []byte // frame plus standard Huffman tables, reused
	tu, tv []byte // 4:2:2 / 4:4:4 chroma before resampling
}

// NewDecoder returns a decoder backed by libjpeg-turbo.
func NewDecoder() (*Decoder, error) {
	h := C.tjInitDecompress()
	if h == nil {
		return nil, fmt.Errorf("mjpeg: start libjpeg-turbo: %s", C.GoString(C.tjGetErrorStr2(nil)))
	}
	return &Decoder{h: h}, nil
}

// Header returns the size of the JPEG in b without decoding it.
func (d *Decoder) Header(b []byte) (w, h int, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.h == nil {
		return 0, 0, fmt.Errorf("mjpeg: decoder closed")
	}
	w, h, _, err = d.header(b)
	return w, h, err
}

func (d *Decoder) header(b []byte) (w, h, subsamp int, err error) {
	if len(b) == 0 {
		return 0, 0, 0, fmt.Errorf("%w: empty frame", ErrCorrupt)
	}
	var cw, ch, cs, cc C.int
	if C.tjDecompressHeader3(d.h, (*C.uchar)(unsafe.Pointer(&b[0])), C.ulong(len(b)), &cw, &ch, &cs, &cc) != 0 {
		return 0, 0, 0, fmt.Errorf("%w: %s", ErrCorrupt, C.GoString(C.tjGetErrorStr2(d.h)))
	}
	return int(cw), int(ch), int(cs), nil
}

// Decode decodes the JPEG in b into an I420 picture of its size, in the
// video range encoders and players assume (JPEG's full range is mapped to
// luma 16-235, chroma 16-240, as ffmpeg's yuvj420p -> yuv420p does). It
// decodes into dst when dst is a 4:2:0 picture of that size (so callers
// can reuse pictures) and into a new one otherwise, and returns the
// picture written. A truncated or damaged frame is an error wrapping
// ErrCorrupt (libjpeg-turbo's warnings count as errors: no half pictures);
// the decoder stays usable.
func (d *Decoder) Decode(b []byte, dst *image.YCbCr) (*image.YCbCr, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.h == nil {
		return nil, fmt.Errorf("mjpeg: decoder closed")
	}
	in := b
	b, err := WithHuffmanTables(b, d.dht)
	if err != nil {
		return nil, err
	}
	if len(b) != len(in) {
		d.dht = b // tables were added: keep the buffer for the next frame
	}
	w, h, sub, err := d.header(b)
	if err != nil {
		return nil, err
	}
	switch sub {
	case C.TJSAMP_420, C.TJSAMP_422, C.TJSAMP_444, C.TJSAMP_GRAY:
	default:
		return nil, fmt.Errorf("%w: chroma subsampling %d (only 4:2:0, 4:2:2, 4:4:4 and grey)", ErrUnsupported, sub)
	}
	if h%2 != 0 && sub != C.TJSAMP_GRAY {
		// libjpeg-turbo 2.1's planar decode writes the chroma of the
		// padding rows over the first rows when the height is odd;
		// cameras only deliver even heights.
		return nil, fmt.Errorf("%w: odd height %d", ErrUnsupported, h)
	}
	if dst == nil || dst.Rect != image.Rect(0, 0, w, h) || dst.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		dst = image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	}
	var tu, tv *C.uchar
	ts := 0
	if sub == C.TJSAMP_422 || sub == C.TJSAMP_444 {
		ts = w
		if sub == C.TJSAMP_422 {
			ts = (w + 1) / 2
		}
		if n := ts * h; len(d.tu) < n {
			d.tu, d.tv = make([]byte, n), make([]byte, n)
		}
		tu, tv = (*C.uchar)(unsafe.Pointer(&d.tu[0])), (*C.uchar)(unsafe.Pointer(&d.tv[0]))
	}
	rc := C.p2p_decode(d.h, (*C.uchar)(unsafe.Pointer(&b[0])), C.ulong(len(b)), C.int(w), C.int(h), C.int(sub),
		(*C.uchar)(unsafe.Pointer(&dst.Y[0])), C.int(dst.YStride),
		(*C.uchar)(unsafe.Pointer(&dst.Cb[0])), (*C.uchar)(unsafe.Pointer(&dst.Cr[0])), C.int(dst.CStride),
		tu, tv, C.int(ts))
	switch rc {
	case 0:
		return dst, nil
	case -2:
		return nil, fmt.Errorf("%w: chroma subsampling %d", ErrUnsupported, sub)
	}
	return nil, fmt.Errorf("%w: %s", ErrCorrupt, C.GoString(C.tjGetErrorStr2(d.h)))
}

// Close frees the decoder. It is idempotent.
func (d *Decoder) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.h != nil {
		C.tjDestroy(d.h)
		d.h = nil
	}
	return nil
}
