//go:build cgo && linux

package capture

import (
	"syscall"
	"testing"
	"time"

	"github.com/pion/mediadevices/pkg/prop"

	"github.com/p2pcam/p2pcam/internal/testpulse"
	"github.com/p2pcam/p2pcam/pkg/codec"
	"github.com/p2pcam/p2pcam/pkg/opus"
)

// BenchmarkMicrophoneToOpus measures the CPU the process spends capturing
// from a microphone (a private PulseAudio's null-sink monitor) and encoding
// it with Opus at 32 kbit/s, per second of sound: cpu-ms/s is the share
// of one core in thousandths. Each op is one 20 ms frame, in real time.
func BenchmarkMicrophoneToOpus(b *testing.B) {
	testpulse.StartB(b)
	m, err := openMic("")
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	bld, err := opus.Descriptor.NewAudioEncoder(codec.EncoderParams{BitRate: 32_000})
	if err != nil {
		b.Fatal(err)
	}
	enc, err := bld.BuildAudioEncoder(m, prop.Media{})
	if err != nil {
		b.Fatal(err)
	}
	defer enc.Close()
	if _, _, err := enc.Read(); err != nil { // the device starts
		b.Fatal(err)
	}
	cpu := func() time.Duration {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	b.ResetTimer()
	c0, t0 := cpu(), time.Now()
	for range b.N {
		if _, _, err := enc.Read(); err != nil {
			b.Fatal(err)
		}
	}
	c1, t1 := cpu(), time.Now()
	b.ReportMetric(float64((c1-c0).Milliseconds())/t1.Sub(t0).Seconds(), "cpu-ms/s")
	if s, ok := opus.Descriptor.EncoderStats(enc.Controller()); ok && s.Frames > 0 {
		b.ReportMetric(float64(s.EncodeCPU.Microseconds())/float64(s.Frames), "opus-µs/frame")
	}
}
