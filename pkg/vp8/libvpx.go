package vp8

// This file is the only one that talks to libvpx. The C structs below live in
// C memory for the whole life of an encoder or decoder. Go pointers (frame
// planes, compressed input) are handed to C only as call arguments, and no
// copy of one survives the call, as cgo's pointer rules require:
//
//   - Decoding: libvpx keeps the input pointer after vpx_codec_decode
//     returns (vp8/vp8_dx_iface.c stores it in ctx->fragments.ptrs[0] and
//     copies that list into the decoder instance, pbi->fragments; it is only
//     overwritten by the next call). So the input is first copied into a C
//     buffer the decoder owns (p2p_dec.buf, grown as needed, freed with the
//     decoder), and only that buffer's address reaches libvpx.
//   - Encoding: the frame planes are wrapped in a vpx_image_t without a
//     copy. That is safe because libvpx copies the picture before
//     vpx_codec_encode returns: vp8e_encode (vp8/vp8_cx_iface.c) turns the
//     image into a YV12_BUFFER_CONFIG on its own stack and hands it to
//     vp8_receive_raw_frame, whose vp8_lookahead_push
//     (vp8/encoder/lookahead.c) copies the planes into the lookahead queue's
//     own frame buffers (vp8_copy_and_extend_frame); every later stage reads
//     those copies. The encoder's threads finish within the call. Our
//     vpx_image_t lives in C memory, and p2p_enc_encode clears its plane
//     pointers before returning.

/*
#cgo pkg-config: vpx
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
#include <vpx/vpx_encoder.h>
#include <vpx/vpx_decoder.h>
#include <vpx/vp8cx.h>
#include <vpx/vp8dx.h>

typedef struct {
	vpx_codec_ctx_t ctx;
	vpx_codec_enc_cfg_t cfg;
	vpx_image_t img;
	vpx_codec_iter_t iter;
	int live;
} p2p_enc;

typedef struct {
	vpx_codec_err_t err;
	int64_t cpu_ns;
	int64_t wall_ns;
} p2p_enc_result;

typedef struct {
	const void *buf;
	size_t sz;
	int key;
	int ok;
} p2p_pkt;

typedef struct {
	int cpu_used;
	unsigned int noise;
	unsigned int static_thresh;
	unsigned int max_intra_pct;
	int token_partitions;
} p2p_enc_ctrls;

static int64_t p2p_clock_ns(clockid_t id) {
	struct timespec ts;
	if (clock_gettime(id, &ts) != 0) {
		return 0;
	}
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static p2p_enc *p2p_enc_new(void) {
	p2p_enc *e = calloc(1, sizeof(p2p_enc));
	if (e == NULL) {
		return NULL;
	}
	if (vpx_codec_enc_config_default(vpx_codec_vp8_cx(), &e->cfg, 0) != VPX_CODEC_OK) {
		free(e);
		return NULL;
	}
	return e;
}

static vpx_codec_err_t p2p_enc_init(p2p_enc *e, p2p_enc_ctrls c) {
	vpx_codec_err_t err = vpx_codec_enc_init(&e->ctx, vpx_codec_vp8_cx(), &e->cfg, 0);
	if (err != VPX_CODEC_OK) {
		return err;
	}
	e->live = 1;
	if ((err = vpx_codec_control(&e->ctx, VP8E_SET_CPUUSED, c.cpu_used)) != VPX_CODEC_OK) return err;
	if ((err = vpx_codec_control(&e->ctx, VP8E_SET_NOISE_SENSITIVITY, c.noise)) != VPX_CODEC_OK) return err;
	if ((err = vpx_codec_control(&e->ctx, VP8E_SET_STATIC_THRESHOLD, c.static_thresh)) != VPX_CODEC_OK) return err;
	if ((err = vpx_codec_control(&e->ctx, VP8E_SET_MAX_INTRA_BITRATE_PCT, c.max_intra_pct)) != VPX_CODEC_OK) return err;
	if ((err = vpx_codec_control(&e->ctx, VP8E_SET_TOKEN_PARTITIONS, c.token_partitions)) != VPX_CODEC_OK) return err;
	return VPX_CODEC_OK;
}

static vpx_codec_err_t p2p_enc_config(p2p_enc *e) {
	return vpx_codec_enc_config_set(&e->ctx, &e->cfg);
}

static void p2p_enc_shutdown(p2p_enc *e) {
	if (e->live) {
		vpx_codec_destroy(&e->ctx);
		e->live = 0;
	}
}

static void p2p_enc_free(p2p_enc *e) {
	p2p_enc_shutdown(e);
	free(e);
}

static p2p_enc_result p2p_enc_encode(p2p_enc *e,
		unsigned char *y, unsigned char *u, unsigned char *v,
		int ystride, int cstride,
		int64_t pts, unsigned long dur, long flags, int layer) {
	p2p_enc_result r;
	if (layer >= 0) {
		r.err = vpx_codec_control(&e->ctx, VP8E_SET_TEMPORAL_LAYER_ID, layer);
		if (r.err != VPX_CODEC_OK) {
			r.cpu_ns = r.wall_ns = 0;
			return r;
		}
	}
	vpx_image_t *img = &e->img;
	memset(img, 0, sizeof(*img));
	img->fmt = VPX_IMG_FMT_I420;
	img->cs = VPX_CS_UNKNOWN;
	img->range = VPX_CR_STUDIO_RANGE;
	img->w = img->d_w = img->r_w = e->cfg.g_w;
	img->h = img->d_h = img->r_h = e->cfg.g_h;
	img->x_chroma_shift = 1;
	img->y_chroma_shift = 1;
	img->bps = 12;
	img->planes[VPX_PLANE_Y] = y;
	img->planes[VPX_PLANE_U] = u;
	img->planes[VPX_PLANE_V] = v;
	img->stride[VPX_PLANE_Y] = ystride;
	img->stride[VPX_PLANE_U] = cstride;
	img->stride[VPX_PLANE_V] = cstride;

	int64_t c0 = p2p_clock_ns(CLOCK_THREAD_CPUTIME_ID);
	int64_t w0 = p2p_clock_ns(CLOCK_MONOTONIC);
	r.err = vpx_codec_encode(&e->ctx, img, pts, dur, flags, VPX_DL_REALTIME);
	r.wall_ns = p2p_clock_ns(CLOCK_MONOTONIC) - w0;
	r.cpu_ns = p2p_clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;

	// libvpx has copied the planes into its lookahead queue (see the top
	// of this file); drop the Go pointers before returning.
	memset(img->planes, 0, sizeof(img->planes));
	e->iter = NULL;
	return r;
}

static p2p_pkt p2p_enc_next(p2p_enc *e) {
	p2p_pkt p = {0};
	const vpx_codec_cx_pkt_t *pkt;
	while ((pkt = vpx_codec_get_cx_data(&e->ctx, &e->iter)) != NULL) {
		if (pkt->kind == VPX_CODEC_CX_FRAME_PKT) {
			p.buf = pkt->data.frame.buf;
			p.sz = pkt->data.frame.sz;
			p.key = (pkt->data.frame.flags & VPX_FRAME_IS_KEY) != 0;
			p.ok = 1;
			return p;
		}
	}
	return p;
}

static const char *p2p_enc_detail(p2p_enc *e) {
	return e->live ? vpx_codec_error_detail(&e->ctx) : NULL;
}

typedef struct {
	vpx_codec_ctx_t ctx;
	vpx_codec_iter_t iter;
	int live;
	unsigned char *buf; // the frame being decoded, copied from Go memory
	size_t cap;         // bytes allocated at buf
} p2p_dec;

static p2p_dec *p2p_dec_new(vpx_codec_err_t *err) {
	p2p_dec *d = calloc(1, sizeof(p2p_dec));
	if (d == NULL) {
		*err = VPX_CODEC_MEM_ERROR;
		return NULL;
	}
	vpx_codec_dec_cfg_t cfg = {0};
	cfg.threads = 1;
	*err = vpx_codec_dec_init(&d->ctx, vpx_codec_vp8_dx(), &cfg, 0);
	if (*err != VPX_CODEC_OK) {
		free(d);
		return NULL;
	}
	d->live = 1;
	return d;
}

// p2p_dec_decode copies data (Go memory) into d->buf and decodes it from
// there: libvpx holds on to the pointer it is given after the call.
static vpx_codec_err_t p2p_dec_decode(p2p_dec *d, const unsigned char *data, unsigned int sz) {
	d->iter = NULL;
	if (sz > d->cap) {
		size_t want = d->cap * 2;
		if (want < sz) {
			want = sz;
		}
		unsigned char *b = realloc(d->buf, want);
		if (b == NULL) {
			return VPX_CODEC_MEM_ERROR;
		}
		d->buf = b;
		d->cap = want;
	}
	memcpy(d->buf, data, sz);
	return vpx_codec_decode(&d->ctx, d->buf, sz, NULL, 0);
}

static vpx_image_t *p2p_dec_next(p2p_dec *d) {
	return vpx_codec_get_frame(&d->ctx, &d->iter);
}

static const char *p2p_dec_detail(p2p_dec *d) {
	return vpx_codec_error_detail(&d->ctx);
}

static void p2p_dec_free(p2p_dec *d) {
	if (d->live) {
		vpx_codec_destroy(&d->ctx);
	}
	free(d->buf);
	free(d);
}
*/
import "C"

import (
	"image"
	"strings"
	"time"
	"unsafe"
)

// encConfig is everything the C encoder is built from.
type encConfig struct {
	width, height int
	kbps          int
	threads       int
	cpuUsed       int
	kfInterval    int
	maxIntraPct   int
	layers        int // temporal layers; 0 or 1 for none
}

// Rate-control constants, as libwebrtc's VP8 wrapper sets them for realtime
// camera video (modules/video_coding/codecs/vp8/libvpx_vp8_encoder.cc).
const (
	bufInitialMS  = 500 // decoder buffer fill at start
	bufOptimalMS  = 600 // level the rate control aims for
	bufSizeMS     = 1000
	undershootPct = 100 // let easy frames fall well below the budget
	overshootPct  = 15  // keep bursts above it small
	minQuantizer  = 2
	maxQuantizer  = 56
	staticThresh  = 1
	timebaseHz    = 90000 // pts in RTP's 90 kHz video clock
)

// cEncoder owns one libvpx VP8 encoder context. It is not safe for
// concurrent use; encoder serializes access.
type cEncoder struct {
	p      *C.p2p_enc
	layers int
}

func newCEncoder(c encConfig) (*cEncoder, error) {
	p := C.p2p_enc_new()
	if p == nil {
		return nil, &CodecError{Op: "vpx_codec_enc_config_default", Code: int(C.VPX_CODEC_MEM_ERROR), Msg: "out of memory"}
	}
	cfg := &p.cfg
	cfg.g_w = C.uint(c.width)
	cfg.g_h = C.uint(c.height)
	cfg.g_threads = C.uint(c.threads)
	cfg.g_timebase.num = 1
	cfg.g_timebase.den = timebaseHz
	cfg.g_lag_in_frames = 0
	cfg.g_error_resilient = C.VPX_ERROR_RESILIENT_DEFAULT
	cfg.g_pass = C.VPX_RC_ONE_PASS
	cfg.rc_end_usage = C.VPX_CBR
	cfg.rc_target_bitrate = C.uint(c.kbps)
	cfg.rc_min_quantizer = minQuantizer
	cfg.rc_max_quantizer = maxQuantizer
	cfg.rc_undershoot_pct = undershootPct
	cfg.rc_overshoot_pct = overshootPct
	cfg.rc_buf_initial_sz = bufInitialMS
	cfg.rc_buf_optimal_sz = bufOptimalMS
	cfg.rc_buf_sz = bufSizeMS
	cfg.rc_dropframe_thresh = 0 // every frame comes out; the peer paces the network
	cfg.rc_resize_allowed = 0
	cfg.kf_mode = C.VPX_KF_AUTO
	cfg.kf_min_dist = 0
	cfg.kf_max_dist = C.uint(c.kfInterval)
	if c.layers > 1 {
		// libvpx's own per-layer rate control: each layer gets its
		// share of the bitrate at its share of the frame rate.
		pat := layerPattern(c.layers)
		cfg.ts_number_layers = C.uint(c.layers)
		cfg.ts_periodicity = C.uint(len(pat))
		for i, l := range pat {
			cfg.ts_layer_id[i] = C.uint(l)
		}
		for i := range c.layers {
			cfg.ts_rate_decimator[i] = C.uint(1 << (c.layers - 1 - i))
		}
		setLayerRates(cfg, c.kbps, c.layers)
	}

	partitions := 0 // log2 of token partitions: one per thread, up to 8
	for t := c.threads; t > 1 && partitions < 3; t /= 2 {
		partitions++
	}
	ctrls := C.p2p_enc_ctrls{
		cpu_used:         C.int(c.cpuUsed),
		noise:            0,
		static_thresh:    staticThresh,
		max_intra_pct:    C.uint(c.maxIntraPct),
		token_partitions: C.int(partitions),
	}
	if rc := C.p2p_enc_init(p, ctrls); rc != C.VPX_CODEC_OK {
		err := codecError("vpx_codec_enc_init", rc, C.p2p_enc_detail(p))
		C.p2p_enc_free(p)
		return nil, err
	}
	return &cEncoder{p: p, layers: c.layers}, nil
}

// setLayerRates splits kbps over the layers: ts_target_bitrate[i] is what
// layers 0..i carry together.
func setLayerRates(cfg *C.vpx_codec_enc_cfg_t, kbps, layers int) {
	for i, f := range layerShare(layers) {
		cfg.ts_target_bitrate[i] = C.uint(max(1, int(float64(kbps)*f+0.5)))
	}
}

// layerFlags are the references frame of the given layer may use and
// the buffers it may update (vp8cx.h's VP8_EFLAG_*), so that dropping the
// layers above any layer leaves the rest decodable:
//
//   - layer 0 uses and updates only LAST;
//   - layer 1 of three uses LAST and updates only GOLDEN (so it is always
//     a layer sync frame: it decodes from layer 0 alone);
//   - the top layer uses LAST and GOLDEN and updates nothing.
//
// No layer but 0 keeps its entropy-coding changes, and none uses or
// updates ALTREF.
func layerFlags(layer, layers int) C.long {
	const noRefGF, noRefARF = C.VP8_EFLAG_NO_REF_GF, C.VP8_EFLAG_NO_REF_ARF
	const noUpdLast, noUpdGF, noUpdARF = C.VP8_EFLAG_NO_UPD_LAST, C.VP8_EFLAG_NO_UPD_GF, C.VP8_EFLAG_NO_UPD_ARF
	const noUpdEntropy = C.VP8_EFLAG_NO_UPD_ENTROPY
	switch {
	case layer == 0:
		return noRefGF | noRefARF | noUpdGF | noUpdARF
	case layer == layers-1:
		return noRefARF | noUpdLast | noUpdGF | noUpdARF | noUpdEntropy
	default:
		return noRefGF | noRefARF | noUpdLast | noUpdARF | noUpdEntropy
	}
}

// setBitRate reconfigures the target; callers only call it on a change.
func (e *cEncoder) setBitRate(kbps int) error {
	e.p.cfg.rc_target_bitrate = C.uint(kbps)
	if e.layers > 1 {
		setLayerRates(&e.p.cfg, kbps, e.layers)
	}
	if rc := C.p2p_enc_config(e.p); rc != C.VPX_CODEC_OK {
		return codecError("vpx_codec_enc_config_set", rc, C.p2p_enc_detail(e.p))
	}
	return nil
}

// encode compresses img (I420, exactly the configured size, planes already
// bounds-checked by the caller) and appends the output to out, as a frame
// of the given temporal layer (-1 when the encoder makes none). It reports
// whether a frame came out and whether it is a keyframe, and the thread CPU
// and wall time spent inside vpx_codec_encode.
func (e *cEncoder) encode(img *image.YCbCr, pts, dur int64, forceKey bool, layer int, out []byte) (_ []byte, got, key bool, cpu, wall time.Duration, err error) {
	var flags C.long
	if layer >= 0 {
		flags |= layerFlags(layer, e.layers)
	}
	if forceKey {
		flags |= C.VPX_EFLAG_FORCE_KF
	}
	yo := img.YOffset(img.Rect.Min.X, img.Rect.Min.Y)
	co := img.COffset(img.Rect.Min.X, img.Rect.Min.Y)
	r := C.p2p_enc_encode(e.p,
		(*C.uchar)(unsafe.Pointer(&img.Y[yo])),
		(*C.uchar)(unsafe.Pointer(&img.Cb[co])),
		(*C.uchar)(unsafe.Pointer(&img.Cr[co])),
		C.int(img.YStride), C.int(img.CStride),
		C.int64_t(pts), C.ulong(dur), flags, C.int(layer))
	cpu, wall = time.Duration(r.cpu_ns), time.Duration(r.wall_ns)
	if r.err != C.VPX_CODEC_OK {
		return out, false, false, cpu, wall, codecError("vpx_codec_encode", r.err, C.p2p_enc_detail(e.p))
	}
	for {
		pkt := C.p2p_enc_next(e.p)
		if pkt.ok == 0 {
			break
		}
		out = append(out, unsafe.Slice((*byte)(pkt.buf), int(pkt.sz))...)
		got = true
		key = key || pkt.key != 0
	}
	return out, got, key, cpu, wall, nil
}

func (e *cEncoder) close() {
	if e.p != nil {
		C.p2p_enc_free(e.p)
		e.p = nil
	}
}

// cDecoder owns one libvpx VP8 decoder context and the C buffer its input
// is copied into; close frees both.
type cDecoder struct {
	p *C.p2p_dec
}

func newCDecoder() (*cDecoder, error) {
	var rc C.vpx_codec_err_t
	p := C.p2p_dec_new(&rc)
	if p == nil {
		return nil, codecError("vpx_codec_dec_init", rc, nil)
	}
	return &cDecoder{p: p}, nil
}

// decode feeds one compressed frame (non-empty) and returns a copy of the
// image it produced, or nil if the frame was decoded but not for display.
// frame is copied into C memory first; libvpx never sees a Go pointer.
func (d *cDecoder) decode(frame []byte) (*image.YCbCr, error) {
	rc := C.p2p_dec_decode(d.p, (*C.uchar)(unsafe.Pointer(&frame[0])), C.uint(len(frame)))
	if rc != C.VPX_CODEC_OK {
		return nil, codecError("vpx_codec_decode", rc, C.p2p_dec_detail(d.p))
	}
	var out *image.YCbCr
	for {
		img := C.p2p_dec_next(d.p)
		if img == nil {
			break
		}
		out = copyImage(img) // a VP8 packet yields at most one image; keep the last
	}
	return out, nil
}

// bufCap is the size of the C input buffer: the largest frame decoded so
// far, or more.
func (d *cDecoder) bufCap() int { return int(d.p.cap) }

func (d *cDecoder) close() {
	if d.p != nil {
		C.p2p_dec_free(d.p)
		d.p = nil
	}
}

// copyImage copies a decoded I420 vpx_image_t into Go memory.
func copyImage(img *C.vpx_image_t) *image.YCbCr {
	w, h := int(img.d_w), int(img.d_h)
	dst := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	copyPlane(dst.Y, dst.YStride, img.planes[C.VPX_PLANE_Y], int(img.stride[C.VPX_PLANE_Y]), w, h)
	cw, ch := (w+1)/2, (h+1)/2
	copyPlane(dst.Cb, dst.CStride, img.planes[C.VPX_PLANE_U], int(img.stride[C.VPX_PLANE_U]), cw, ch)
	copyPlane(dst.Cr, dst.CStride, img.planes[C.VPX_PLANE_V], int(img.stride[C.VPX_PLANE_V]), cw, ch)
	return dst
}

func copyPlane(dst []byte, dstStride int, src *C.uchar, srcStride, w, h int) {
	base := unsafe.Pointer(src)
	for row := 0; row < h; row++ {
		line := unsafe.Slice((*byte)(unsafe.Add(base, row*srcStride)), w)
		copy(dst[row*dstStride:row*dstStride+w], line)
	}
}

// codecError builds a CodecError from a libvpx status and optional detail.
func codecError(op string, rc C.vpx_codec_err_t, detail *C.char) error {
	e := &CodecError{Op: op, Code: int(rc), Msg: lowerFirst(C.GoString(C.vpx_codec_err_to_string(rc)))}
	if detail != nil {
		e.Detail = lowerFirst(C.GoString(detail))
	}
	return e
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
