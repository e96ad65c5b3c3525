package pcm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// wavFile builds a WAV file: tag, channels, rate, bits and the data bytes,
// with an optional chunk before "data" and a data size field of its own
// (-1: the true size).
func wavFile(tag uint16, channels, rate, bits int, data []byte, extra []byte, dataSize int64) []byte {
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(0)) // readers ignore it, as DecodeWAV does
	b.WriteString("WAVE")
	fmtLen := 16
	if tag == wavExtensible {
		fmtLen = 40
	}
	b.WriteString("fmt ")
	le(uint32(fmtLen))
	le(tag)
	le(uint16(channels))
	le(uint32(rate))
	le(uint32(rate * channels * bits / 8))
	le(uint16(channels * bits / 8))
	le(uint16(bits))
	if tag == wavExtensible {
		le(uint16(22))
		le(uint16(bits))
		le(uint32(3))
		b.Write(pcmSubFormat)
	}
	b.Write(extra)
	b.WriteString("data")
	if dataSize < 0 {
		dataSize = int64(len(data))
	}
	le(uint32(dataSize))
	b.Write(data)
	return b.Bytes()
}

func le16(samples ...int16) []byte {
	b := make([]byte, 2*len(samples))
	for i, v := range samples {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

func TestDecodeWAVMixesChannels(t *testing.T) {
	odd := append([]byte("LIST"), 3, 0, 0, 0, 'a', 'b', 'c', 0) // odd size, padded
	tests := []struct {
		name string
		file []byte
		want []int16
	}{
		{"mono PCM", wavFile(wavPCM, 1, 48000, 16, le16(1, -2, 3, 32767, -32768), nil, -1), []int16{1, -2, 3, 32767, -32768}},
		{"stereo averaged", wavFile(wavPCM, 2, 48000, 16, le16(100, 300, -32768, -32768, 32767, 32767), nil, -1), []int16{200, -32768, 32767}},
		{"extensible PCM", wavFile(wavExtensible, 1, 48000, 16, le16(5, 6), nil, -1), []int16{5, 6}},
		{"chunk before data skipped", wavFile(wavPCM, 1, 48000, 16, le16(7, 8), odd, -1), []int16{7, 8}},
		{"size left at 0xffffffff", wavFile(wavPCM, 1, 48000, 16, le16(9, 10), nil, 0xffffffff), []int16{9, 10}},
		{"partial last frame dropped", wavFile(wavPCM, 2, 48000, 16, append(le16(2, 4), 1), nil, 0xffffffff), []int16{3}},
		{"trailing chunk ignored", append(wavFile(wavPCM, 1, 48000, 16, le16(1), nil, -1), "LIST\x00\x00\x00\x00"...), []int16{1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := DecodeWAV(bytes.NewReader(tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if !slicesEqual(got, tc.want) {
				t.Errorf("samples %v, want %v", got, tc.want)
			}
		})
	}
}

func slicesEqual(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDecodeWAVRejectsWhatItCannotPlay(t *testing.T) {
	pcm := le16(1, 2, 3, 4)
	// A WAVE_FORMAT_EXTENSIBLE fmt chunk of 32-bit float samples, as
	// ffmpeg writes with -c:a pcm_f32le.
	extFloat := wavFile(wavExtensible, 1, 48000, 32, pcm, nil, -1)
	extFloat[44] = 3 // the sub-format GUID's first bytes: IEEE float
	tests := []struct {
		name string
		file []byte
		want error
		says string // in the message
	}{
		{"empty", nil, ErrNotWAV, ""},
		{"not RIFF", []byte("OggS\x00\x00\x00\x00WAVEfmt "), ErrNotWAV, ""},
		{"RIFF but AVI", []byte("RIFF\x00\x00\x00\x00AVI LIST"), ErrNotWAV, ""},
		{"float samples", wavFile(3, 1, 48000, 32, pcm, nil, -1), ErrNotPCM16, "32-bit float samples"},
		{"24-bit", wavFile(wavPCM, 1, 48000, 24, pcm[:6], nil, -1), ErrNotPCM16, "24 bits per sample"},
		{"8-bit", wavFile(wavPCM, 1, 48000, 8, pcm, nil, -1), ErrNotPCM16, ""},
		{"A-law", wavFile(6, 1, 8000, 8, pcm, nil, -1), ErrNotPCM16, "A-law"},
		{"zero channels", wavFile(wavPCM, 0, 48000, 16, pcm, nil, -1), ErrNotWAV, ""},
		{"zero rate", wavFile(wavPCM, 1, 0, 16, pcm, nil, -1), ErrNotWAV, ""},
		{"data cut short", wavFile(wavPCM, 1, 48000, 16, pcm, nil, 100), ErrTruncated, ""},
		{"fmt cut short", wavFile(wavPCM, 1, 48000, 16, pcm, nil, -1)[:30], ErrTruncated, ""},
		{"no data chunk", wavFile(wavPCM, 1, 48000, 16, nil, nil, -1)[:36], ErrTruncated, ""},
		{"data before fmt", []byte("RIFF\x00\x00\x00\x00WAVEdata\x02\x00\x00\x00\x01\x00"), ErrNotWAV, ""},
		{"extensible float", extFloat, ErrNotPCM16, "32-bit float samples"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := DecodeWAV(bytes.NewReader(tc.file))
			if !errors.Is(err, tc.want) || !strings.Contains(fmt.Sprint(err), tc.says) {
				t.Errorf("error %v, want one wrapping %v that says %q", err, tc.want, tc.says)
			}
		})
	}
}

func TestOpenWAVSaysWhichFile(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.wav")
	if err := os.WriteFile(empty, wavFile(wavPCM, 1, 48000, 16, nil, nil, -1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := OpenWAV(empty); err == nil {
		t.Error("a WAV without samples opened")
	}
	if _, _, err := OpenWAV(filepath.Join(dir, "missing.wav")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	float := filepath.Join(dir, "float.wav")
	os.WriteFile(float, wavFile(3, 1, 48000, 32, make([]byte, 8), nil, -1), 0o644)
	if _, _, err := OpenWAV(float); !errors.Is(err, ErrNotPCM16) || !bytes.Contains([]byte(err.Error()), []byte("float.wav")) {
		t.Errorf("float WAV: %v, want ErrNotPCM16 naming the file", err)
	}
}

func TestLoopResamplesAcrossTheSeam(t *testing.T) {
	tests := []struct {
		name    string
		samples []int16
		rate    int
		reads   []int
		want    [][]int16
	}{
		{"48 kHz wraps exactly", []int16{1, 2, 3}, 48000, []int{8, 2}, [][]int16{{1, 2, 3, 1, 2, 3, 1, 2}, {3, 1}}},
		{"24 kHz interpolated, last into first", []int16{0, 100, 200, 300}, 24000, []int{8, 2}, [][]int16{{0, 50, 100, 150, 200, 250, 300, 150}, {0, 50}}},
		{"96 kHz takes every other", []int16{0, 1, 2, 3, 4, 5, 6, 7}, 96000, []int{4, 4}, [][]int16{{0, 2, 4, 6}, {0, 2, 4, 6}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := NewLoop(tc.samples, tc.rate)
			if err != nil {
				t.Fatal(err)
			}
			for i, n := range tc.reads {
				buf := make([]int16, n)
				if got, err := l.Read(buf); got != n || err != nil {
					t.Fatalf("Read = %d, %v", got, err)
				}
				if !slicesEqual(buf, tc.want[i]) {
					t.Errorf("read %d: %v, want %v", i, buf, tc.want[i])
				}
			}
		})
	}
}

func TestLoopOfASecondAt44100LastsASecond(t *testing.T) {
	in := make([]int16, 44100)
	in[0] = 1000 // a click at the start of each loop
	l, err := NewLoop(in, 44100)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]int16, 3*SampleRate)
	l.Read(buf)
	for _, n := range []int{0, SampleRate, 2 * SampleRate} {
		if buf[n] != 1000 {
			t.Errorf("sample %d = %d, want the click", n, buf[n])
		}
	}
}

func TestNewLoopRejectsNothing(t *testing.T) {
	for _, tc := range []struct {
		samples []int16
		rate    int
	}{{nil, 48000}, {[]int16{1}, 0}, {[]int16{1}, -8000}, {[]int16{1}, 1_000_000}} {
		if _, err := NewLoop(tc.samples, tc.rate); err == nil {
			t.Errorf("NewLoop(%v, %d) succeeded", tc.samples, tc.rate)
		}
	}
}

// TestWAVWrittenByFFmpeg reads a 440 Hz tone that ffmpeg wrote at
// 44.1 kHz in stereo, as a file and into a pipe (sizes left unset), and
// finds the tone, its level and its length after resampling to 48 kHz.
func TestWAVWrittenByFFmpeg(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "x.wav")
	gen := []string{"-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=f=440:d=1", "-ar", "44100", "-ac", "2"}
	if out, err := exec.Command("ffmpeg", append(gen, path)...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	piped, err := exec.Command("ffmpeg", append(gen, "-f", "wav", "-")...).Output()
	if err != nil {
		t.Fatalf("ffmpeg to a pipe: %v", err)
	}
	for name, open := range map[string]func() ([]int16, WAVInfo, error){
		"file": func() ([]int16, WAVInfo, error) {
			l, info, err := OpenWAV(path)
			if err != nil {
				return nil, info, err
			}
			buf := make([]int16, SampleRate)
			_, err = l.Read(buf)
			return buf, info, err
		},
		"pipe": func() ([]int16, WAVInfo, error) {
			samples, info, err := DecodeWAV(bytes.NewReader(piped))
			if err != nil {
				return nil, info, err
			}
			if len(samples) != 44100 {
				t.Errorf("%d samples at 44.1 kHz, want 44100", len(samples))
			}
			l, err := NewLoop(samples, info.SampleRate)
			if err != nil {
				return nil, info, err
			}
			buf := make([]int16, SampleRate)
			_, err = l.Read(buf)
			return buf, info, err
		},
	} {
		t.Run(name, func(t *testing.T) {
			got, info, err := open()
			if err != nil {
				t.Fatal(err)
			}
			if info != (WAVInfo{SampleRate: 44100, Channels: 2, Frames: 44100}) {
				t.Errorf("info %+v", info)
			}
			// ffmpeg's sine source has amplitude 1/8, and its mono to
			// stereo upmix puts the centre at -3 dB into each channel.
			if want := 0.125 / math.Sqrt2 / math.Sqrt2; math.Abs(rms(got)-want) > 0.002 {
				t.Errorf("level %.4f, want %.4f", rms(got), want)
			}
			if p := goertzel(got, 440) / goertzel(got, 660); p < 1000 {
				t.Errorf("440 Hz only %.0f× the power at 660 Hz", p)
			}
		})
	}
}

func rms(pcm []int16) float64 {
	var sum float64
	for _, v := range pcm {
		f := float64(v) / 32768
		sum += f * f
	}
	return math.Sqrt(sum / float64(len(pcm)))
}

func goertzel(pcm []int16, freq float64) float64 {
	c := 2 * math.Cos(2*math.Pi*freq/SampleRate)
	var s1, s2 float64
	for _, v := range pcm {
		s1, s2 = float64(v)/32768+c*s1-s2, s1
	}
	return s1*s1 + s2*s2 - c*s1*s2
}
