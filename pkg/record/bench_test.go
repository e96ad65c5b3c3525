package record

import (
	"io"
	"math/rand/v2"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

// synthetic720p returns a 2-second GOP at 30 fps with 720p-like sizes: a
// 60 KB keyframe with a valid header followed by 6 KB delta frames. The
// bytes are random; the recorder only reads the keyframe header.
func synthetic720p() [][]byte {
	rng := rand.New(rand.NewPCG(3, 4))
	frames := make([][]byte, 60)
	for i := range frames {
		n := 6 << 10
		if i == 0 {
			n = 60 << 10
		}
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		if i == 0 {
			copy(b, []byte{0x10, 0, 0, 0x9d, 0x01, 0x2a, 0x00, 0x05, 0xd0, 0x02})
		} else {
			b[0] |= 0x01
		}
		frames[i] = b
	}
	return frames
}

// BenchmarkWriteRTP measures WriteRTP per packet (1200-byte MTU) through
// to a discarding writer; the GOP repeats with running sequence numbers
// and timestamps.
func BenchmarkWriteRTP(b *testing.B) {
	frames := synthetic720p()
	pz := rtp.NewPacketizer(1200, 96, 1, &codecs.VP8Payloader{EnablePictureID: true}, rtp.NewFixedSequencer(0), 90000)
	type pkt struct {
		p     *rtp.Packet
		frame int
	}
	var gop []pkt
	for f, frame := range frames {
		for _, p := range pz.Packetize(frame, 3000) {
			gop = append(gop, pkt{p, f})
		}
	}
	for _, format := range []Format{FormatWebM, FormatIVF} {
		b.Run(format.String(), func(b *testing.B) {
			r, err := New(io.Discard, Options{Format: format, Tracks: vp8Tracks(Track{})})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			var bytes int64
			for i := 0; b.Loop(); i++ {
				round, k := i/len(gop), i%len(gop)
				p := gop[k].p
				p.SequenceNumber = uint16(i)
				p.Timestamp = uint32((round*len(frames) + gop[k].frame) * 3000)
				bytes += int64(len(p.Payload))
				if err := r.WriteRTP(0, p); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
			b.SetBytes(bytes / int64(b.N))
			if err := r.Close(); err != nil {
				b.Fatal(err)
			}
			if r.Stats().FramesWritten == 0 {
				b.Fatal("no frames written")
			}
		})
	}
}

// BenchmarkFrameRelease measures what the assembler adds to a frame's
// latency: the time of the WriteRTP call carrying a 720p delta frame's
// last packet, which writes the frame and calls OnFrame before it
// returns. The frame's other packets are fed outside the timer.
func BenchmarkFrameRelease(b *testing.B) {
	frames := synthetic720p()
	pz := rtp.NewPacketizer(1200, 96, 1, &codecs.VP8Payloader{EnablePictureID: true}, rtp.NewFixedSequencer(0), 90000)
	key := pz.Packetize(frames[0], 3000)
	delta := pz.Packetize(frames[1], 3000)
	for _, format := range []Format{FormatWebM, FormatIVF} {
		b.Run(format.String(), func(b *testing.B) {
			written := 0
			r, err := New(io.Discard, Options{Format: format, Tracks: vp8Tracks(Track{OnFrame: func([]byte, bool, uint32) { written++ }})})
			if err != nil {
				b.Fatal(err)
			}
			seq := uint16(0)
			write := func(p *rtp.Packet, ts uint32) {
				p.SequenceNumber, p.Timestamp = seq, ts
				seq++
				if err := r.WriteRTP(0, p); err != nil {
					b.Fatal(err)
				}
			}
			for _, p := range key {
				write(p, 0)
			}
			b.ReportAllocs()
			for i := 1; b.Loop(); i++ {
				ts := uint32(i) * 3000 // #nosec G115: wraps harmlessly
				b.StopTimer()
				for _, p := range delta[:len(delta)-1] {
					write(p, ts)
				}
				b.StartTimer()
				write(delta[len(delta)-1], ts)
			}
			if written != b.N+1 {
				b.Fatalf("%d frames written; want %d", written, b.N+1)
			}
			if err := r.Close(); err != nil {
				b.Fatal(err)
			}
		})
	}
}
