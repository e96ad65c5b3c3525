//go:build cgo

package opus

import (
	"errors"
	"math"
	"testing"
)

func TestRoundTripKeepsFrequencyAndLevel(t *testing.T) {
	tests := []struct {
		name    string
		freq    float64
		amp     float64
		bitRate int
	}{
		{"1kHz half scale at 32k", 1000, 0.5, 32_000},
		{"1kHz quiet at 16k", 1000, 0.05, 16_000},
		{"440Hz at 12k", 440, 0.3, 12_000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			enc := newEncoder(t, Params{BitRate: tc.bitRate})
			dec := newDecoder(t)
			in := tone(tc.freq, tc.amp, 0, SampleRate) // 1 s
			var out []int16
			for _, p := range encodeAll(t, enc, in) {
				pcm, err := dec.Decode(p)
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if len(pcm) != FrameSamples {
					t.Fatalf("Decode gave %d samples, want %d", len(pcm), FrameSamples)
				}
				out = append(out, pcm...)
			}
			// Skip the first 200 ms: the lookahead and the encoder's
			// settling in.
			steady := out[SampleRate/5:]
			wantRMS := tc.amp / math.Sqrt2
			if got := rms(steady); math.Abs(db(got*got/(wantRMS*wantRMS))) > 1.5 {
				t.Errorf("level %.4f, want %.4f within 1.5 dB", got, wantRMS)
			}
			on := goertzel(steady, tc.freq)
			for _, off := range []float64{tc.freq * 0.7, tc.freq * 1.5, tc.freq * 2} {
				if p := goertzel(steady, off); db(on/p) < 30 {
					t.Errorf("tone %.0f Hz only %.1f dB above %.0f Hz", tc.freq, db(on/p), off)
				}
			}
		})
	}
}

// steppedTone changes frequency every frame, so that a lost frame cannot
// be guessed from the one before it.
func steppedTone(frames int) []int16 {
	var pcm []int16
	for k := range frames {
		freq := 300 + 170*float64(k%5)
		pcm = append(pcm, tone(freq, 0.4, k*FrameSamples, FrameSamples)...)
	}
	return pcm
}

func TestFECRecoversALostPacketBetterThanConcealment(t *testing.T) {
	enc := newEncoder(t, Params{BitRate: 32_000, PacketLoss: 20})
	pkts := encodeAll(t, enc, steppedTone(100))

	// Reference: every packet decoded.
	ref := newDecoder(t)
	var want [][]int16
	for _, p := range pkts {
		pcm, err := ref.Decode(p)
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		want = append(want, pcm)
	}

	// errorPower decodes with packet lost missing, standing in for it with
	// stand, and returns the error power over the lost frame.
	errorPower := func(lost int, stand func(d *Decoder, next []byte) ([]int16, error)) float64 {
		d := newDecoder(t)
		var got []int16
		for i, p := range pkts[:lost+2] {
			if i == lost {
				continue
			}
			if i == lost+1 {
				pcm, err := stand(d, p)
				if err != nil {
					t.Fatalf("lost packet %d: %v", lost, err)
				}
				got = pcm
			}
			if _, err := d.Decode(p); err != nil {
				t.Fatalf("Decode: %v", err)
			}
		}
		var sum float64
		for i, v := range got {
			e := float64(v-want[lost][i]) / 32768
			sum += e * e
		}
		return sum / float64(len(got))
	}

	var fecErr, plcErr float64
	for lost := 20; lost < 95; lost += 7 {
		fecErr += errorPower(lost, func(d *Decoder, next []byte) ([]int16, error) { return d.DecodeFEC(next, FrameSamples) })
		plcErr += errorPower(lost, func(d *Decoder, _ []byte) ([]int16, error) { return d.Conceal(FrameSamples) })
	}
	t.Logf("error power over lost frames: FEC %.2e, PLC %.2e (FEC %.1f dB better)", fecErr, plcErr, db(plcErr/fecErr))
	if db(plcErr/fecErr) < 6 {
		t.Errorf("FEC error %.2e not 6 dB below PLC error %.2e", fecErr, plcErr)
	}
}

func TestSetBitRateChangesPacketSizes(t *testing.T) {
	enc := newEncoder(t, Params{BitRate: 64_000})
	in := noise(0.3, 7, 3*SampleRate)
	third := len(in) / 3
	mean := func(pkts [][]byte) float64 {
		var n int
		for _, p := range pkts[len(pkts)/2:] { // after settling
			n += len(p)
		}
		return float64(n) / float64(len(pkts)-len(pkts)/2)
	}
	var sizes []float64
	for i, bps := range []int{64_000, 12_000, 128_000} {
		if err := enc.SetBitRate(bps); err != nil {
			t.Fatalf("SetBitRate(%d): %v", bps, err)
		}
		got := mean(encodeAll(t, enc, in[i*third:(i+1)*third]))
		want := float64(bps) / 8 / 50
		t.Logf("%d bit/s: mean packet %.0f bytes, budget %.0f", bps, got, want)
		if got < 0.6*want || got > 1.4*want {
			t.Errorf("at %d bit/s packets average %.0f bytes, want %.0f±40%%", bps, got, want)
		}
		sizes = append(sizes, got)
		if s := enc.Stats(); s.BitRate != bps {
			t.Errorf("Stats().BitRate = %d, want %d", s.BitRate, bps)
		}
	}
	if !(sizes[1] < sizes[0] && sizes[0] < sizes[2]) {
		t.Errorf("packet sizes %v do not follow the bitrates", sizes)
	}
}

func TestStatsCountFramesBytesAndCPU(t *testing.T) {
	enc := newEncoder(t, NewParams())
	pkts := encodeAll(t, enc, tone(1000, 0.5, 0, 10*FrameSamples))
	var bytes uint64
	for _, p := range pkts {
		bytes += uint64(len(p))
	}
	s := enc.Stats()
	if s.Frames != 10 || s.Bytes != bytes {
		t.Errorf("Stats = %+v, want 10 frames and %d bytes", s, bytes)
	}
	if s.EncodeCPU <= 0 || s.CPUPerFrame() <= 0 || s.CPUPerFrame() > FrameDuration {
		t.Errorf("CPU %v (%v per frame) is not plausible", s.EncodeCPU, s.CPUPerFrame())
	}
	if s.BitRate != DefaultBitRate || s.PacketLoss != 0 {
		t.Errorf("Stats = %+v, want the defaults", s)
	}
	if err := enc.SetPacketLoss(15); err != nil {
		t.Fatal(err)
	}
	if s := enc.Stats(); s.PacketLoss != 15 {
		t.Errorf("PacketLoss = %d after SetPacketLoss(15)", s.PacketLoss)
	}

	dec := newDecoder(t)
	for _, p := range pkts[:3] {
		if _, err := dec.Decode(p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := dec.Conceal(FrameSamples); err != nil {
		t.Fatal(err)
	}
	if _, err := dec.DecodeFEC(pkts[4], FrameSamples); err != nil {
		t.Fatal(err)
	}
	// pkts were coded expecting no loss: pkts[4] has no FEC data, so
	// DecodeFEC conceals too.
	if got, want := dec.Stats(), (DecoderStats{Packets: 3, Concealed: 2, ConcealedSamples: 2 * FrameSamples}); got != want {
		t.Errorf("decoder Stats = %+v, want %+v", got, want)
	}
}

func TestLookaheadIsPreSkip(t *testing.T) {
	enc := newEncoder(t, NewParams())
	got, err := enc.Lookahead()
	if err != nil {
		t.Fatal(err)
	}
	if got != PreSkip {
		t.Errorf("Lookahead() = %d, PreSkip = %d: update PreSkip", got, PreSkip)
	}
}

func TestBadInputGivesErrors(t *testing.T) {
	enc := newEncoder(t, NewParams())
	dec := newDecoder(t)
	valid, err := enc.Encode(make([]int16, FrameSamples))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"encode nil", func() error { _, err := enc.Encode(nil); return err }, ErrBadInput},
		{"encode short frame", func() error { _, err := enc.Encode(make([]int16, FrameSamples-1)); return err }, ErrBadInput},
		{"encode long frame", func() error { _, err := enc.Encode(make([]int16, 2*FrameSamples)); return err }, ErrBadInput},
		{"decode nil", func() error { _, err := dec.Decode(nil); return err }, ErrBadInput},
		{"decode code 3 without count", func() error { _, err := dec.Decode([]byte{0x03}); return err }, ErrBadInput},
		{"decode code 3 with 0 frames", func() error { _, err := dec.Decode([]byte{0x03, 0x00}); return err }, ErrBadInput},
		{"decode code 3 over 120 ms", func() error { _, err := dec.Decode([]byte{0x1b, 0x03}); return err }, ErrBadInput},
		{"decode code 2 with bad length", func() error { _, err := dec.Decode([]byte{0x7a, 0xff}); return err }, ErrBadInput},
		{"FEC from nil", func() error { _, err := dec.DecodeFEC(nil, FrameSamples); return err }, ErrBadInput},
		{"FEC of 0 samples", func() error { _, err := dec.DecodeFEC(valid, 0); return err }, ErrBadInput},
		{"FEC of odd samples", func() error { _, err := dec.DecodeFEC(valid, 961); return err }, ErrBadInput},
		{"conceal 121 ms", func() error { _, err := dec.Conceal(MaxPacketSamples + 120); return err }, ErrBadInput},
		{"conceal negative", func() error { _, err := dec.Conceal(-960); return err }, ErrBadInput},
		{"bitrate 0", func() error { return enc.SetBitRate(0) }, ErrInvalidParams},
		{"loss 101", func() error { return enc.SetPacketLoss(101) }, ErrInvalidParams},
		{"loss -1", func() error { return enc.SetPacketLoss(-1) }, ErrInvalidParams},
		{"complexity 11", func() error { _, err := NewEncoder(Params{Complexity: 11}); return err }, ErrInvalidParams},
		{"negative bitrate", func() error { _, err := NewEncoder(Params{BitRate: -1}); return err }, ErrInvalidParams},
		{"loss 200", func() error { _, err := NewEncoder(Params{PacketLoss: 200}); return err }, ErrInvalidParams},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, tc.want) {
				t.Errorf("error %v, want one wrapping %v", err, tc.want)
			}
		})
	}
}

func TestClosedCodecsSayClosed(t *testing.T) {
	enc := newEncoder(t, NewParams())
	dec := newDecoder(t)
	pkt, err := enc.Encode(make([]int16, FrameSamples))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // Close is idempotent
		if err := enc.Close(); err != nil {
			t.Fatal(err)
		}
		if err := dec.Close(); err != nil {
			t.Fatal(err)
		}
	}
	calls := map[string]error{}
	_, calls["Encode"] = enc.Encode(make([]int16, FrameSamples))
	calls["SetBitRate"] = enc.SetBitRate(20_000)
	calls["SetPacketLoss"] = enc.SetPacketLoss(5)
	_, calls["Lookahead"] = enc.Lookahead()
	_, calls["Decode"] = dec.Decode(pkt)
	_, calls["DecodeFEC"] = dec.DecodeFEC(pkt, FrameSamples)
	_, calls["Conceal"] = dec.Conceal(FrameSamples)
	for name, err := range calls {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}

func TestBitRateIsClamped(t *testing.T) {
	enc := newEncoder(t, Params{BitRate: 1000})
	if got := enc.Stats().BitRate; got != MinBitRate {
		t.Errorf("BitRate 1000 became %d, want %d", got, MinBitRate)
	}
	if err := enc.SetBitRate(10_000_000); err != nil {
		t.Fatal(err)
	}
	if got := enc.Stats().BitRate; got != MaxBitRate {
		t.Errorf("SetBitRate(10M) gave %d, want %d", got, MaxBitRate)
	}
}

func TestFECFromACELTPacketCountsAsConcealed(t *testing.T) {
	enc := newEncoder(t, NewParams())
	pkt, err := enc.Encode(tone(1000, 0.5, 0, FrameSamples))
	if err != nil {
		t.Fatal(err)
	}
	dec := newDecoder(t)
	if _, err := dec.Decode(pkt); err != nil {
		t.Fatal(err)
	}
	// A CELT-only packet (TOC config 31, fullband 20 ms): libopus reads
	// only its TOC when asked for FEC, and conceals.
	celt := []byte{31 << 3, 0xff, 0xfe, 0x00}
	if pcm, err := dec.DecodeFEC(celt, FrameSamples); err != nil || len(pcm) != FrameSamples {
		t.Fatalf("DecodeFEC: %d samples, %v", len(pcm), err)
	}
	if s := dec.Stats(); s.Recovered != 0 || s.Concealed != 1 || s.ConcealedSamples != FrameSamples {
		t.Errorf("Stats %+v, want one concealed packet", s)
	}
}
