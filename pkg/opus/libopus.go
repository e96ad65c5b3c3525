//go:build cgo

package opus

// This file is the only one that talks to libopus. Encoder and decoder
// states live in C memory for their whole life. Go memory (PCM samples,
// packets) reaches libopus only as call arguments: opus_encode and
// opus_decode read their input and write their output within the call and
// keep no pointer to either, as cgo's pointer rules require. The CTL
// macros are variadic, which cgo cannot call, so each one used here has a
// small C wrapper.

/*
#cgo pkg-config: opus
#include <stdint.h>
#include <time.h>
#include <opus.h>

static int64_t p2p_cpu_ns(void) {
	struct timespec ts;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) {
		return 0;
	}
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

typedef struct {
	opus_int32 n;   // bytes written, or a negative OPUS_* error
	int64_t cpu_ns; // thread CPU time spent in opus_encode
} p2p_opus_result;

static int p2p_opus_enc_setup(OpusEncoder *e, opus_int32 bitrate, int complexity, int loss, int fec) {
	int err;
	if ((err = opus_encoder_ctl(e, OPUS_SET_BITRATE(bitrate))) != OPUS_OK) return err;
	if ((err = opus_encoder_ctl(e, OPUS_SET_COMPLEXITY(complexity))) != OPUS_OK) return err;
	if ((err = opus_encoder_ctl(e, OPUS_SET_INBAND_FEC(fec))) != OPUS_OK) return err;
	if ((err = opus_encoder_ctl(e, OPUS_SET_PACKET_LOSS_PERC(loss))) != OPUS_OK) return err;
	if ((err = opus_encoder_ctl(e, OPUS_SET_DTX(0))) != OPUS_OK) return err;
	if ((err = opus_encoder_ctl(e, OPUS_SET_VBR(1))) != OPUS_OK) return err;
	return OPUS_OK;
}

static int p2p_opus_set_bitrate(OpusEncoder *e, opus_int32 v) {
	return opus_encoder_ctl(e, OPUS_SET_BITRATE(v));
}

static int p2p_opus_set_loss(OpusEncoder *e, int v) {
	return opus_encoder_ctl(e, OPUS_SET_PACKET_LOSS_PERC(v));
}

static int p2p_opus_lookahead(OpusEncoder *e, opus_int32 *v) {
	return opus_encoder_ctl(e, OPUS_GET_LOOKAHEAD(v));
}

static p2p_opus_result p2p_opus_encode(OpusEncoder *e, const opus_int16 *pcm, int frame,
		unsigned char *out, opus_int32 cap) {
	p2p_opus_result r;
	int64_t c0 = p2p_cpu_ns();
	r.n = opus_encode(e, pcm, frame, out, cap);
	r.cpu_ns = p2p_cpu_ns() - c0;
	return r;
}
*/
import "C"

import (
	"unsafe"
)

// cEncoder owns one OpusEncoder. Its methods are not safe for concurrent
// use; Encoder serializes them.
type cEncoder struct{ p *C.OpusEncoder }

func newCEncoder(bitRate, complexity, loss int, fec bool) (*cEncoder, error) {
	var cerr C.int
	p := C.opus_encoder_create(C.opus_int32(SampleRate), 1, C.OPUS_APPLICATION_VOIP, &cerr)
	if p == nil || cerr != C.OPUS_OK {
		return nil, codecError("opus_encoder_create", cerr)
	}
	f := C.int(0)
	if fec {
		f = 1
	}
	if cerr = C.p2p_opus_enc_setup(p, C.opus_int32(bitRate), C.int(complexity), C.int(loss), f); cerr != C.OPUS_OK {
		C.opus_encoder_destroy(p)
		return nil, codecError("opus_encoder_ctl", cerr)
	}
	return &cEncoder{p: p}, nil
}

func (c *cEncoder) close() {
	if c.p != nil {
		C.opus_encoder_destroy(c.p)
		c.p = nil
	}
}

func (c *cEncoder) setBitRate(v int) error {
	if err := C.p2p_opus_set_bitrate(c.p, C.opus_int32(v)); err != C.OPUS_OK {
		return codecError("OPUS_SET_BITRATE", err)
	}
	return nil
}

func (c *cEncoder) setLoss(v int) error {
	if err := C.p2p_opus_set_loss(c.p, C.int(v)); err != C.OPUS_OK {
		return codecError("OPUS_SET_PACKET_LOSS_PERC", err)
	}
	return nil
}

func (c *cEncoder) lookahead() (int, error) {
	var v C.opus_int32
	if err := C.p2p_opus_lookahead(c.p, &v); err != C.OPUS_OK {
		return 0, codecError("OPUS_GET_LOOKAHEAD", err)
	}
	return int(v), nil
}

// encode codes one frame of len(pcm) samples into out (its full capacity
// is offered to libopus) and returns the packet's length and the CPU time
// spent.
func (c *cEncoder) encode(pcm []int16, out []byte) (int, int64, error) {
	r := C.p2p_opus_encode(c.p, (*C.opus_int16)(unsafe.Pointer(&pcm[0])), C.int(len(pcm)),
		(*C.uchar)(unsafe.Pointer(&out[0])), C.opus_int32(len(out)))
	if r.n < 0 {
		return 0, int64(r.cpu_ns), codecError("opus_encode", C.int(r.n))
	}
	return int(r.n), int64(r.cpu_ns), nil
}

// cDecoder owns one OpusDecoder.
type cDecoder struct{ p *C.OpusDecoder }

func newCDecoder() (*cDecoder, error) {
	var cerr C.int
	p := C.opus_decoder_create(C.opus_int32(SampleRate), 1, &cerr)
	if p == nil || cerr != C.OPUS_OK {
		return nil, codecError("opus_decoder_create", cerr)
	}
	return &cDecoder{p: p}, nil
}

func (c *cDecoder) close() {
	if c.p != nil {
		C.opus_decoder_destroy(c.p)
		c.p = nil
	}
}

// decode decodes packet (nil: conceal) into out, whose length is the
// number of samples wanted for a lost frame and the room for a received
// one; fec asks for the in-band redundancy of the frame before packet.
func (c *cDecoder) decode(packet []byte, out []int16, fec bool) (int, error) {
	var data *C.uchar
	if len(packet) > 0 {
		data = (*C.uchar)(unsafe.Pointer(&packet[0]))
	}
	f := C.int(0)
	if fec {
		f = 1
	}
	n := C.opus_decode(c.p, data, C.opus_int32(len(packet)),
		(*C.opus_int16)(unsafe.Pointer(&out[0])), C.int(len(out)), f)
	if n < 0 {
		return 0, codecError("opus_decode", n)
	}
	return int(n), nil
}

// packetSamples is libopus's count of the samples at 48 kHz in packet.
func packetSamples(packet []byte) (int, error) {
	n := C.opus_packet_get_nb_samples((*C.uchar)(unsafe.Pointer(&packet[0])), C.opus_int32(len(packet)), C.opus_int32(SampleRate))
	if n < 0 {
		return 0, codecError("opus_packet_get_nb_samples", n)
	}
	return int(n), nil
}

func codecError(op string, code C.int) error {
	return &CodecError{Op: op, Code: int(code), Msg: C.GoString(C.opus_strerror(code))}
}
