//go:build cgo

package opus

import (
	"math"
	"testing"
)

// tone returns n samples of a sine at freq Hz and amplitude amp (full
// scale 1), starting at sample offset start.
func tone(freq, amp float64, start, n int) []int16 {
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16(amp * 32767 * math.Sin(2*math.Pi*freq*float64(start+i)/SampleRate))
	}
	return pcm
}

// goertzel returns the power of pcm at freq Hz, normalized so that a
// full-scale sine at freq gives about 0.25.
func goertzel(pcm []int16, freq float64) float64 {
	w := 2 * math.Pi * freq / SampleRate
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range pcm {
		s := float64(v)/32768 + c*s1 - s2
		s2, s1 = s1, s
	}
	p := s1*s1 + s2*s2 - c*s1*s2
	n := float64(len(pcm))
	return p / (n * n)
}

// rms is the root mean square of pcm, full scale 1.
func rms(pcm []int16) float64 {
	var sum float64
	for _, v := range pcm {
		f := float64(v) / 32768
		sum += f * f
	}
	return math.Sqrt(sum / float64(len(pcm)))
}

// noise returns n samples of deterministic white noise at amplitude amp
// (xorshift, so that tests do not depend on math/rand's stream).
func noise(amp float64, seed uint32, n int) []int16 {
	pcm := make([]int16, n)
	x := seed | 1
	for i := range pcm {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		pcm[i] = int16(amp * float64(int32(x)>>16))
	}
	return pcm
}

// encodeAll encodes pcm (a whole number of frames) and returns the packets.
func encodeAll(t testing.TB, enc *Encoder, pcm []int16) [][]byte {
	t.Helper()
	var pkts [][]byte
	for off := 0; off+FrameSamples <= len(pcm); off += FrameSamples {
		p, err := enc.Encode(pcm[off : off+FrameSamples])
		if err != nil {
			t.Fatalf("Encode frame %d: %v", off/FrameSamples, err)
		}
		pkts = append(pkts, p)
	}
	return pkts
}

func newEncoder(t testing.TB, p Params) *Encoder {
	t.Helper()
	enc, err := NewEncoder(p)
	if err != nil {
		t.Fatalf("NewEncoder(%+v): %v", p, err)
	}
	t.Cleanup(func() { enc.Close() })
	return enc
}

func newDecoder(t testing.TB) *Decoder {
	t.Helper()
	dec, err := NewDecoder()
	if err != nil {
		t.Fatalf("NewDecoder: %v", err)
	}
	t.Cleanup(func() { dec.Close() })
	return dec
}

// db is 10·log10 of a power ratio.
func db(ratio float64) float64 { return 10 * math.Log10(ratio) }
