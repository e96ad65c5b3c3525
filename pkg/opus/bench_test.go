//go:build cgo

package opus

import (
	"syscall"
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
			b.ReportMetric(float64(s.CPUPerFrame()*50)/float64(time.Millisecond), "cpu-ms/s-audio")
			b.ReportMetric(100*float64(s.CPUPerFrame())/float64(FrameDuration), "%core")
			b.ReportMetric(float64(s.Bytes)*8*50/float64(s.Frames)/1000, "kbit/s")
		})
	}
}

// BenchmarkDecode decodes 20 ms packets at 32 kbit/s coded with FEC (10%
// expected loss), as received: plain packets, a lost packet rebuilt from
// the next one's FEC data, and one concealed. It reports the CPU time of
// one second of sound and the share of one core that real time costs
// (the process's CPU clock; the benchmark runs on one goroutine).
func BenchmarkDecode(b *testing.B) {
	pcm := tone(1000, 0.3, 0, SampleRate)
	for i, v := range noise(0.05, 3, SampleRate) {
		pcm[i] += v
	}
	pkts := encodeAll(b, newEncoder(b, Params{BitRate: 32_000, PacketLoss: 10}), pcm)
	for _, bc := range []struct {
		name string
		op   func(d *Decoder, i int) error
	}{
		{"packet", func(d *Decoder, i int) error { _, err := d.Decode(pkts[i%len(pkts)]); return err }},
		{"fec", func(d *Decoder, i int) error { _, err := d.DecodeFEC(pkts[i%len(pkts)], FrameSamples); return err }},
		{"conceal", func(d *Decoder, _ int) error { _, err := d.Conceal(FrameSamples); return err }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			dec := newDecoder(b)
			for _, p := range pkts[:5] {
				if _, err := dec.Decode(p); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			cpu0 := processCPU(b)
			for i := 0; b.Loop(); i++ {
				if err := bc.op(dec, i); err != nil {
					b.Fatal(err)
				}
			}
			perFrame := (processCPU(b) - cpu0) / time.Duration(b.N)
			b.ReportMetric(float64(perFrame.Nanoseconds()), "cpu-ns/frame")
			b.ReportMetric(float64(perFrame*50)/float64(time.Millisecond), "cpu-ms/s-audio")
			b.ReportMetric(100*float64(perFrame)/float64(FrameDuration), "%core")
		})
	}
}

// processCPU is the CPU time (user and system) the process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
