//go:build cgo

package opus

import (
	"testing"
	"time"
)

// BenchmarkEncode encodes 20 ms frames of a tone under noise (so that
// the bitrate is spent) at the default complexity and a few bitrates,
// with and without FEC, and reports libopus's CPU time per frame (thread
// CPU clock inside opus_encode) and the share of one core that real time
// (50 frames a second) costs.
func BenchmarkEncode(b *testing.B) {
	pcm := tone(1000, 0.3, 0, SampleRate)
	for i, v := range noise(0.05, 3, SampleRate) {
		pcm[i] += v
	}
	for _, bc := range []struct {
		name string
		p    Params
	}{
		{"32k", Params{BitRate: 32_000}},
		{"32k-fec10", Params{BitRate: 32_000, PacketLoss: 10}},
		{"64k", Params{BitRate: 64_000}},
		{"16k-complexity5", Params{BitRate: 16_000, Complexity: 5}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			enc := newEncoder(b, bc.p)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				off := (i % 50) * FrameSamples
				if _, err := enc.Encode(pcm[off : off+FrameSamples]); err != nil {
					b.Fatal(err)
				}
			}
			s := enc.Stats()
			b.ReportMetric(float64(s.CPUPerFrame().Nanoseconds()), "cpu-ns/frame")
			b.ReportMetric(100*float64(s.CPUPerFrame())/float64(FrameDuration), "%core")
			b.ReportMetric(float64(s.Bytes)*8*50/float64(s.Frames)/1000, "kbit/s")
		})
	}
}

// BenchmarkDecode decodes 20 ms packets at 32 kbit/s.
func BenchmarkDecode(b *testing.B) {
	enc := newEncoder(b, NewParams())
	pkts := encodeAll(b, enc, tone(1000, 0.3, 0, SampleRate))
	dec := newDecoder(b)
	b.ReportAllocs()
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		if _, err := dec.Decode(pkts[i%len(pkts)]); err != nil {
			b.Fatal(err)
		}
	}
	perFrame := time.Since(start) / time.Duration(b.N)
	b.ReportMetric(100*float64(perFrame)/float64(FrameDuration), "%core")
}
