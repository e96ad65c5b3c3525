package session

import (
	"encoding/json"
	"io"
	"math"
	"time"

	"github.com/pion/interceptor/pkg/stats"

	"github.com/p2pcam/p2pcam/pkg/capture"
	"github.com/p2pcam/p2pcam/pkg/codec"
	"github.com/p2pcam/p2pcam/pkg/peer"
)

// Snapshot is one line of --stats output: the call's figures over the last
// second (rates) or since it connected (counters). The JSON names are a
// contract with scripts; add fields, never rename them.
type Snapshot struct {
	T           float64 `json:"t"` // seconds since connecting
	Role        string  `json:"role"`
	State       string  `json:"state"`
	Pair        string  `json:"pair"`
	RTTMs       float64 `json:"rtt_ms"`
	SendBps     int64   `json:"send_bps"`
	RecvBps     int64   `json:"recv_bps"`
	FPSSent     float64 `json:"fps_sent"`
	FPSRecv     float64 `json:"fps_recv"`
	FramesSent  uint64  `json:"frames_sent"`
	FramesRecv  uint64  `json:"frames_recv"`
	PacketsLost int64   `json:"packets_lost"`
	NACK        uint64  `json:"nack"`
	PLI         uint64  `json:"pli"`
	TargetBps   int     `json:"target_bps"`
	EncodeMs    float64 `json:"encode_ms"`

	// CameraDropped counts the camera's frames skipped as corrupt or short.
	CameraDropped uint64 `json:"frames_dropped_camera,omitempty"`
	// PipeDropped counts the frames received but not written to a pipe
	// whose reader was behind.
	PipeDropped uint64 `json:"frames_dropped_pipe,omitempty"`

	// The sound. AudioPacketsSent counts the packets sent, one per 20 ms
	// frame. Of the sound received: AudioPacketsRecv and AudioPacketsLost
	// count its RTP packets (lost: never came, as its sequence numbers
	// tell), AudioFECMs is the lost sound recovered from the redundancy of
	// the packet after a loss (Opus's in-band FEC), AudioConcealedMs the
	// lost sound made up from nothing (holes over 120 ms, pauses or
	// outages, are neither), and AudioLevel is its RMS level in dBFS over
	// the line's second (the final line: over the call; -100: silence).
	AudioPacketsSent uint64  `json:"audio_packets_sent,omitempty"`
	AudioPacketsRecv uint64  `json:"audio_packets_recv,omitempty"`
	AudioPacketsLost uint64  `json:"audio_packets_lost,omitempty"`
	AudioFECMs       float64 `json:"audio_fec_ms,omitempty"`
	AudioConcealedMs float64 `json:"audio_concealed_ms,omitempty"`
	AudioLevel       float64 `json:"audio_level_dbfs,omitempty"`

	*Measured
	// Final marks the last line, whose rates are averages over the call.
	Final bool `json:"final,omitempty"`
	// Error, on the final line, is why the call failed.
	Error string `json:"error,omitempty"`
}

// Measured are the --measure figures: what the receiver saw of the
// synthetic source's stamped frames.
type Measured struct {
	LatencyP50  float64 `json:"latency_ms_p50"`
	LatencyP95  float64 `json:"latency_ms_p95"`
	LatencyMax  float64 `json:"latency_ms_max"`
	FrozenMs    float64 `json:"frozen_ms"`
	PSNR        float64 `json:"psnr_db"`
	FramesLost  uint64  `json:"frames_lost"`
	Unreadable  uint64  `json:"frames_unreadable"`
	DecodeError uint64  `json:"decode_errors"`
	// The sound, when the sender's is the test beep (--audio test): the
	// beeps found in it, their delay from capture to decode (p50 and max,
	// over the last 5 beeps, the whole call on the final line), and the
	// median offset of sound and picture at the decoders (positive: the
	// sound is late), once a second was placed by both.
	Beeps         uint64   `json:"audio_beeps,omitempty"`
	AudioDelayP50 float64  `json:"audio_delay_ms_p50,omitempty"`
	AudioDelayMax float64  `json:"audio_delay_ms_max,omitempty"`
	AVOffset      *float64 `json:"av_offset_ms,omitempty"`
}

// counters are the cumulative figures a snapshot's rates are derived from.
type counters struct {
	at                     time.Time
	bytesSent, bytesRecv   uint64
	framesSent, framesRecv uint64
	cameraDropped          uint64
	pipeDropped            uint64
	encFrames              uint64
	encCPU                 time.Duration
	nack, pli              uint64
	lost                   int64
}

// collector gathers figures from the parts of a call.
type collector struct {
	role      Role
	p         *peer.Peer
	snd       *capture.Sender
	rec       *receiver
	start     time.Time
	first     counters
	prev      counters
	measuring bool
	rtt       time.Duration // the last round trip measured
	pair      string        // the candidate pair the call ran on
	ended     time.Time     // when end was called
}

func newCollector(role Role, p *peer.Peer, snd *capture.Sender, rec *receiver, measuring bool) *collector {
	c := &collector{role: role, p: p, snd: snd, rec: rec, start: time.Now(), measuring: measuring}
	c.first = c.read(true)
	c.prev = c.first
	return c
}

// streamStats returns the stats interceptor's figures of each SSRC that
// has some.
func (c *collector) streamStats(ssrcs []uint32) []*stats.Stats {
	g := c.p.Stats()
	if g == nil {
		return nil
	}
	var out []*stats.Stats
	for _, ssrc := range ssrcs {
		if st := g.Get(ssrc); st != nil {
			out = append(out, st)
		}
	}
	return out
}

// read takes the cumulative counters now. Without live, the peer (closed by
// then) is not asked: its counters keep the values of the last read.
func (c *collector) read(live bool) counters {
	k := c.prev
	k.at = time.Now()
	var out, in []*stats.Stats
	if live {
		out, in = c.streamStats(c.p.SenderSSRCs()), c.streamStats(c.p.RemoteSSRCs())
	}
	if live {
		// NACKed packets and keyframe requests, received and sent; the
		// stats interceptor misses what the NACK generator sends.
		fb := c.p.Feedback()
		k.nack = fb.NACKs + fb.NACKsSent
		k.pli = fb.PLIs + fb.FIRs + fb.KeyFramesSent
	}
	// Each direction's figures are summed over its tracks.
	if len(out) > 0 || len(in) > 0 {
		k.lost = 0
	}
	if len(out) > 0 {
		k.bytesSent = 0
	}
	lossFraction := 0.0 // the worst the other side reports
	for _, st := range out {
		o := st.OutboundRTPStreamStats
		k.bytesSent += o.BytesSent + o.HeaderBytesSent
		k.lost += max(st.RemoteInboundRTPStreamStats.PacketsLost, 0)
		lossFraction = max(lossFraction, st.RemoteInboundRTPStreamStats.FractionLost)
	}
	if len(in) > 0 {
		k.bytesRecv = 0
	}
	for _, st := range in {
		i := st.InboundRTPStreamStats
		k.bytesRecv += i.BytesReceived + i.HeaderBytesReceived
		k.lost += max(i.PacketsLost, 0)
	}
	if c.snd != nil && len(out) > 0 {
		// The sound's FEC follows the loss receiver reports tell.
		c.snd.SetPacketLoss(int(math.Round(100 * lossFraction)))
	}
	if c.snd != nil && c.snd.Video() != nil {
		k.framesSent = c.snd.FramesSent()
		k.cameraDropped = c.snd.Video().CameraDropped()
		if es, ok := c.encoderStats(); ok {
			k.encFrames = es.Frames + es.Dropped
			k.encCPU = es.EncodeCPU
		}
	}
	if c.rec != nil {
		st := c.rec.stats()
		k.framesRecv = st.FramesWritten
		k.pipeDropped = st.FramesBehind
	}
	return k
}

// encoderStats are the video encoder's figures.
func (c *collector) encoderStats() (codec.EncoderStats, bool) {
	if c.snd == nil || c.snd.Video() == nil {
		return codec.EncoderStats{}, false
	}
	return c.snd.Video().EncoderStats()
}

// end takes the peer's figures one last time, as the call ends and before
// anything is closed.
func (c *collector) end() {
	c.prev = c.read(true)
	c.ended = c.prev.at
}

// snapshot returns the figures since the previous snapshot or, when final,
// over the whole call (from connecting to end) with the counters as they
// stand after everything was closed and flushed.
func (c *collector) snapshot(final bool) Snapshot {
	now := c.read(!final)
	base := c.prev
	if final {
		base = c.first
		if !c.ended.IsZero() {
			now.at = c.ended
		}
	}
	c.prev = now
	dt := now.at.Sub(base.at).Seconds()
	if dt <= 0 {
		dt = 1
	}
	s := Snapshot{
		T:           math.Round(now.at.Sub(c.start).Seconds()*10) / 10,
		Role:        c.role.String(),
		State:       c.p.State().String(),
		SendBps:     int64(float64(now.bytesSent-base.bytesSent) * 8 / dt),
		RecvBps:     int64(float64(now.bytesRecv-base.bytesRecv) * 8 / dt),
		FPSSent:     round1(float64(now.framesSent-base.framesSent) / dt),
		FPSRecv:     round1(float64(now.framesRecv-base.framesRecv) / dt),
		FramesSent:  now.framesSent,
		FramesRecv:  now.framesRecv,
		NACK:        now.nack,
		PLI:         now.pli,
		PacketsLost: now.lost,
		Final:       final,
	}
	s.CameraDropped = now.cameraDropped
	s.PipeDropped = now.pipeDropped
	// After the call the peer is closed: report how it ran instead.
	if !final {
		if rtt := c.p.RoundTrip(); rtt > 0 {
			c.rtt = rtt
		}
		if pr, ok := c.p.SelectedPair(); ok {
			c.pair = pr.Kind()
		}
	}
	s.RTTMs = round1(float64(c.rtt.Microseconds()) / 1000)
	s.Pair = c.pair
	if es, ok := c.encoderStats(); ok {
		s.TargetBps = es.TargetBitRate
		if n := now.encFrames - base.encFrames; n > 0 {
			s.EncodeMs = round1(float64((now.encCPU - base.encCPU).Microseconds()) / 1000 / float64(n))
		}
	}
	if c.snd != nil && c.snd.Audio() != nil {
		s.AudioPacketsSent = c.snd.Audio().FramesSent()
	}
	if c.rec != nil {
		if st, f, ok := c.rec.audioStats(final); ok {
			s.AudioPacketsRecv, s.AudioPacketsLost = st.PacketsReceived, st.PacketsLost
			s.AudioFECMs, s.AudioConcealedMs = round1(f.recoveredMs), round1(f.concealedMs)
			s.AudioLevel = f.levelDB
		}
	}
	if c.measuring && c.rec != nil {
		s.Measured = c.rec.measured(final)
	}
	return s
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// writeJSON writes s as one line of JSON.
func writeJSON(w io.Writer, s Snapshot) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
