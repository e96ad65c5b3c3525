//go:build cgo

package opus

import (
	"fmt"
	"sync"
)

// DecoderStats are a decoder's running figures.
type DecoderStats struct {
	Packets uint64 // packets decoded
	// Recovered counts lost packets rebuilt from the FEC data of the
	// next packet (DecodeFEC with a next packet that has some, HasFEC).
	Recovered uint64
	// Concealed counts lost packets made up by PLC: those passed to
	// Conceal, and to DecodeFEC with a next packet that carries no FEC
	// data (the sender expected no loss, or coded it CELT-only).
	Concealed uint64
	// ConcealedSamples counts the samples (48 kHz) of those.
	ConcealedSamples uint64
}

// Decoder turns Opus packets back into 48 kHz mono PCM (stereo packets
// are mixed down). Its methods are safe for concurrent use.
type Decoder struct {
	mu      sync.Mutex // guards everything below, and the C state
	c       *cDecoder
	stats   DecoderStats
	scratch []int16 // room for the longest packet
}

// NewDecoder returns a decoder.
func NewDecoder() (*Decoder, error) {
	c, err := newCDecoder()
	if err != nil {
		return nil, err
	}
	return &Decoder{c: c, scratch: make([]int16, MaxPacketSamples)}, nil
}

// Decode returns the samples of one packet (the caller's to keep). An
// empty or malformed packet gives an error wrapping ErrBadInput.
func (d *Decoder) Decode(packet []byte) ([]int16, error) {
	if _, err := PacketSamples(packet); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.c == nil {
		return nil, ErrClosed
	}
	n, err := d.c.decode(packet, d.scratch, false)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	d.stats.Packets++
	return append([]int16(nil), d.scratch[:n]...), nil
}

// DecodeFEC stands in for a lost packet that held samples samples (a
// multiple of 2.5 ms, at most 120 ms; FrameSamples for p2pcam's own
// stream) using the in-band FEC data in next, the packet that came after
// it; next itself must then be passed to Decode. When next carries no FEC
// data libopus conceals the loss instead, so the result is never worse
// than Conceal. Decoding FEC data needs the decoder to have decoded a
// packet before.
func (d *Decoder) DecodeFEC(next []byte, samples int) ([]int16, error) {
	if err := checkLost(samples); err != nil {
		return nil, err
	}
	if _, err := PacketSamples(next); err != nil {
		return nil, err
	}
	out := make([]int16, samples)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.c == nil {
		return nil, ErrClosed
	}
	n, err := d.c.decode(next, out, true)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	if HasFEC(next) {
		d.stats.Recovered++
	} else {
		d.stats.Concealed++
		d.stats.ConcealedSamples += uint64(n)
	}
	return out[:n:n], nil
}

// Conceal makes up samples samples (a multiple of 2.5 ms, at most 120 ms)
// for a lost packet from what came before it (packet loss concealment).
func (d *Decoder) Conceal(samples int) ([]int16, error) {
	if err := checkLost(samples); err != nil {
		return nil, err
	}
	out := make([]int16, samples)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.c == nil {
		return nil, ErrClosed
	}
	n, err := d.c.decode(nil, out, false)
	if err != nil {
		return nil, err
	}
	d.stats.Concealed++
	d.stats.ConcealedSamples += uint64(n)
	return out[:n:n], nil
}

func checkLost(samples int) error {
	if samples <= 0 || samples > MaxPacketSamples || samples%(SampleRate/400) != 0 {
		return fmt.Errorf("opus: %d lost samples is not a multiple of 2.5 ms up to 120 ms: %w", samples, ErrBadInput)
	}
	return nil
}

// Stats returns the figures so far.
func (d *Decoder) Stats() DecoderStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stats
}

// Close frees the decoder; it is idempotent, and later calls to the other
// methods fail with ErrClosed.
func (d *Decoder) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.c != nil {
		d.c.close()
		d.c = nil
	}
	return nil
}
