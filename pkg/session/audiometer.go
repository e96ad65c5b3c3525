package session

import (
	"math"
	"sync"

	"github.com/p2pcam/p2pcam/pkg/codec"
)

// audioMeter decodes the received sound for --stats: its level, and how
// much of it a player would have had to make up for lost packets, from
// the redundancy of the packet after a loss (recovered, Opus's in-band
// FEC, when that packet carries some: Descriptor.HasFEC) or from nothing
// (concealed). It sees the frames the recorder takes
// (record.Track.OnFrame), in order, each with its RTP timestamp: a jump of
// the timestamp beyond the previous frame's samples is a loss.
type audioMeter struct {
	dec    codec.AudioDecoder
	clock  int64                  // RTP ticks per second
	hasFEC func(data []byte) bool // nil: the codec has no FEC

	mu        sync.Mutex
	have      bool
	next      uint32  // RTP timestamp expected next
	sumSq     float64 // since the last level read
	n         int     // samples in sumSq
	totalSq   float64 // over the call
	total     int     // samples in totalSq
	concealed int64   // samples made up from nothing
	recovered int64   // samples recovered from FEC
	errors    uint64  // packets that did not decode
}

// newAudioMeter returns a meter of d's sound, or nil when this build
// cannot decode it.
func newAudioMeter(d codec.Descriptor) *audioMeter {
	if d.NewAudioDecoder == nil {
		return nil
	}
	dec, err := d.NewAudioDecoder()
	if err != nil {
		return nil
	}
	return &audioMeter{dec: dec, clock: int64(d.ClockRate), hasFEC: d.HasFEC}
}

// maxGap is the longest loss made up for, in ms: longer holes are a
// pause or an outage, not something a player conceals.
const maxGap = 120

// frame takes one received frame; it has the signature of
// record.Track.OnFrame.
func (m *audioMeter) frame(data []byte, _ bool, ts uint32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.have {
		// Samples at 48 kHz, the decoder's rate, of the hole before ts.
		gap := int64(int32(ts-m.next)) * 48000 / m.clock // #nosec G115: wraps on purpose
		if gap > 0 && gap <= 48*maxGap {
			// The packet right before this one (20 ms) comes back
			// from this one's FEC data when it carries some (the
			// sender codes it only when it expects loss, and only
			// for speech, not silence); the rest is concealed.
			var fec int64
			if m.hasFEC != nil && m.hasFEC(data) {
				fec = min(gap, 960)
			}
			if gap > fec {
				if pcm, err := m.dec.DecodeLost(nil, int(gap-fec)); err == nil {
					m.concealed += int64(len(pcm))
				}
			}
			if fec > 0 {
				if pcm, err := m.dec.DecodeLost(data, int(fec)); err == nil {
					m.recovered += int64(len(pcm))
				}
			}
		}
	}
	pcm, err := m.dec.Decode(data)
	if err != nil {
		m.errors++
		return
	}
	m.have = true
	m.next = ts + uint32(int64(len(pcm))*m.clock/48000) // #nosec G115: a packet's samples
	sq := 0.0
	for _, s := range pcm {
		v := float64(s) / 32768
		sq += v * v
	}
	m.sumSq += sq
	m.n += len(pcm)
	m.totalSq += sq
	m.total += len(pcm)
}

// audioFigures are the meter's figures: loss made up, in ms, and the
// level since the previous read (over the call, for the final read).
type audioFigures struct {
	concealedMs, recoveredMs float64
	levelDB                  float64 // RMS in dBFS; -100 for silence or nothing
}

// read returns the figures, starting a new level measurement; with
// final, the level is the whole call's.
func (m *audioMeter) read(final bool) audioFigures {
	m.mu.Lock()
	defer m.mu.Unlock()
	f := audioFigures{
		concealedMs: float64(m.concealed) / 48,
		recoveredMs: float64(m.recovered) / 48,
		levelDB:     dBFS(m.sumSq, m.n),
	}
	if final {
		f.levelDB = dBFS(m.totalSq, m.total)
	}
	m.sumSq, m.n = 0, 0
	return f
}

// dBFS is the RMS level of n samples whose squares (full scale 1) add up
// to sumSq, to a tenth of a dB; -100 for silence or no samples.
func dBFS(sumSq float64, n int) float64 {
	if n == 0 || sumSq <= 0 {
		return -100
	}
	return max(-100, math.Round(10*math.Log10(sumSq/float64(n))*10)/10)
}

// close frees the decoder.
func (m *audioMeter) close() { _ = m.dec.Close() }
