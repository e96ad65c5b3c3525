package pcm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// Errors of DecodeWAV, wrapped with the details.
var (
	// ErrNotWAV means the input is not a RIFF WAVE file.
	ErrNotWAV = errors.New("not a WAV file")
	// ErrNotPCM16 means the file holds something other than 16-bit
	// integer PCM (float, 8-, 24- or 32-bit, a compressed format).
	ErrNotPCM16 = errors.New("WAV file is not 16-bit PCM")
	// ErrTruncated means the file ends before the sizes in its headers
	// say it should.
	ErrTruncated = errors.New("WAV file is cut short")
)

// WAV format tags (the "fmt " chunk's first field).
const (
	wavPCM        = 0x0001
	wavExtensible = 0xfffe
)

// maxWAVRate bounds the sample rate accepted, well above any real file.
const maxWAVRate = 768000

// WAVInfo is what a WAV file's header says.
type WAVInfo struct {
	SampleRate int
	Channels   int
	Frames     int // sample frames in the file (each one sample per channel)
}

// DecodeWAV reads a RIFF WAVE file holding 16-bit integer PCM
// (WAVE_FORMAT_PCM, or WAVE_FORMAT_EXTENSIBLE with the PCM subformat) at
// any sample rate with any number of channels, and returns its sound in
// mono (the channels averaged) at the file's rate, info.SampleRate; NewLoop
// plays it at 48 kHz. The whole input is read into memory. A data chunk
// whose size field is 0 or 0xffffffff (left so by a writer that could not
// seek back, as ffmpeg does into a pipe) runs to the end of the input.
func DecodeWAV(r io.Reader) ([]int16, WAVInfo, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, WAVInfo{}, fmt.Errorf("pcm: reading WAV: %w", err)
	}
	if len(data) < 12 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		return nil, WAVInfo{}, fmt.Errorf("pcm: no RIFF/WAVE header: %w", ErrNotWAV)
	}
	var (
		info    WAVInfo
		haveFmt bool
	)
	rest := data[12:]
	for {
		if len(rest) < 8 {
			if haveFmt {
				return nil, info, fmt.Errorf("pcm: no data chunk: %w", ErrTruncated)
			}
			return nil, info, fmt.Errorf("pcm: no fmt chunk: %w", ErrNotWAV)
		}
		id := string(rest[0:4])
		size := int64(binary.LittleEndian.Uint32(rest[4:8]))
		rest = rest[8:]
		if id == "data" {
			if !haveFmt {
				return nil, info, fmt.Errorf("pcm: data chunk before the fmt chunk: %w", ErrNotWAV)
			}
			if size == 0 || size == 0xffffffff {
				size = int64(len(rest))
			}
			if size > int64(len(rest)) {
				return nil, info, fmt.Errorf("pcm: the header announces %d bytes of samples, the file holds %d: %w", size, len(rest), ErrTruncated)
			}
			frame := 2 * info.Channels
			info.Frames = int(size) / frame
			return toMono(rest[:info.Frames*frame], info), info, nil
		}
		if size > int64(len(rest)) {
			return nil, info, fmt.Errorf("pcm: %q chunk of %d bytes, %d left: %w", id, size, len(rest), ErrTruncated)
		}
		if id == "fmt " {
			if info, err = parseFmt(rest[:size]); err != nil {
				return nil, info, err
			}
			haveFmt = true
		}
		// Chunks are padded to even sizes; a last pad byte may be missing.
		rest = rest[min(size+size%2, int64(len(rest))):]
	}
}

// pcmSubFormat is KSDATAFORMAT_SUBTYPE_PCM, the GUID a WAVE_FORMAT_EXTENSIBLE
// file names integer PCM with.
var pcmSubFormat = []byte{0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71}

func parseFmt(b []byte) (WAVInfo, error) {
	if len(b) < 16 {
		return WAVInfo{}, fmt.Errorf("pcm: fmt chunk of %d bytes: %w", len(b), ErrNotWAV)
	}
	tag := binary.LittleEndian.Uint16(b[0:2])
	info := WAVInfo{
		Channels:   int(binary.LittleEndian.Uint16(b[2:4])),
		SampleRate: int(binary.LittleEndian.Uint32(b[4:8])),
	}
	blockAlign := int(binary.LittleEndian.Uint16(b[12:14]))
	bits := int(binary.LittleEndian.Uint16(b[14:16]))
	switch {
	case tag == wavExtensible && len(b) >= 40 && bytes.Equal(b[24:40], pcmSubFormat):
	case tag == wavPCM:
	case tag == wavExtensible && len(b) >= 26:
		// The sub-format GUID starts with the format tag it stands for.
		return info, fmt.Errorf("pcm: %s: %w", coding(binary.LittleEndian.Uint16(b[24:26]), bits), ErrNotPCM16)
	default:
		return info, fmt.Errorf("pcm: %s: %w", coding(tag, bits), ErrNotPCM16)
	}
	if bits != 16 {
		return info, fmt.Errorf("pcm: %d bits per sample: %w", bits, ErrNotPCM16)
	}
	if info.Channels < 1 || blockAlign != 2*info.Channels {
		return info, fmt.Errorf("pcm: %d channels in blocks of %d bytes: %w", info.Channels, blockAlign, ErrNotWAV)
	}
	if info.SampleRate < 1 || info.SampleRate > maxWAVRate {
		return info, fmt.Errorf("pcm: sample rate %d Hz: %w", info.SampleRate, ErrNotWAV)
	}
	return info, nil
}

// coding names a WAV format tag for people: the common ones by name, the
// rest by number.
func coding(tag uint16, bits int) string {
	switch tag {
	case 3:
		return fmt.Sprintf("%d-bit float samples", bits)
	case 6:
		return "A-law samples"
	case 7:
		return "µ-law samples"
	case 2, 0x11:
		return "ADPCM-compressed samples"
	case 0x55:
		return "MP3-compressed samples"
	}
	return fmt.Sprintf("format tag %#04x", tag)
}

// toMono averages the channels of the interleaved little-endian samples
// in b.
func toMono(b []byte, info WAVInfo) []int16 {
	mono := make([]int16, info.Frames)
	for i := range mono {
		var sum int
		for ch := range info.Channels {
			off := 2 * (i*info.Channels + ch)
			sum += int(int16(binary.LittleEndian.Uint16(b[off:])))
		}
		mono[i] = int16(sum / info.Channels)
	}
	return mono
}

// Loop is a Source that plays mono samples over and over (--audio
// FILE.wav loops like a .y4m does), resampled to 48 kHz as it goes by
// linear interpolation: output sample j stands for the instant j/48000 s
// into the loop, and the last input sample leads into the first, so the
// seam is as smooth as the file allows and a loop lasts exactly as long as
// the file.
type Loop struct {
	samples []int16
	rate    int64
	// pos is the position of the next output sample in the input, in
	// units of 1/SampleRate of an input sample: exact integer arithmetic.
	pos int64
}

// NewLoop returns a Loop over samples at rate Hz, which it keeps; it fails
// for no samples or a rate outside 1..768000.
func NewLoop(samples []int16, rate int) (*Loop, error) {
	if len(samples) == 0 {
		return nil, errors.New("pcm: nothing to loop: no samples")
	}
	if rate < 1 || rate > maxWAVRate {
		return nil, fmt.Errorf("pcm: cannot loop samples at %d Hz", rate)
	}
	return &Loop{samples: samples, rate: int64(rate)}, nil
}

// OpenWAV decodes the WAV file at path (see DecodeWAV) into a Loop.
func OpenWAV(path string) (*Loop, WAVInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, WAVInfo{}, fmt.Errorf("pcm: %w", err)
	}
	defer f.Close()
	samples, info, err := DecodeWAV(f)
	if err != nil {
		return nil, info, fmt.Errorf("%s: %w", path, err)
	}
	l, err := NewLoop(samples, info.SampleRate)
	if err != nil {
		return nil, info, fmt.Errorf("%s: %w", path, err)
	}
	return l, info, nil
}

// Read implements Source; a Loop never ends.
func (l *Loop) Read(buf []int16) (int, error) {
	n := int64(len(l.samples))
	end := n * SampleRate
	for j := range buf {
		i, frac := l.pos/SampleRate, l.pos%SampleRate
		a, b := int64(l.samples[i]), int64(l.samples[(i+1)%n])
		buf[j] = int16((a*(SampleRate-frac) + b*frac) / SampleRate)
		l.pos += l.rate
		if l.pos >= end {
			l.pos -= end
		}
	}
	return len(buf), nil
}
