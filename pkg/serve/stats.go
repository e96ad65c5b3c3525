package serve

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/pion/webrtc/v4"
)

// Snapshot is one line of --stats output while serving: the encoder's
// figures and each viewer's. Rates are over the last second, counters
// since serving began (a viewer's since it joined). The JSON names are a
// contract with scripts, and mean what the same names mean in a call's
// lines; add fields, never rename them.
type Snapshot struct {
	T     float64 `json:"t"`     // seconds since serving began
	Role  string  `json:"role"`  // always "serve"
	State string  `json:"state"` // "serving", "stopped" (final), "not serving" (failed to start)

	// Viewers are those with a peer built, connected or not yet.
	Viewers []ViewerSnapshot `json:"viewers"`
	// ViewersSeen counts every viewer that connected since serving began.
	ViewersSeen int `json:"viewers_seen"`

	FramesSent uint64  `json:"frames_sent"` // frames the encoder handed to the track
	FPSSent    float64 `json:"fps_sent"`
	SendBps    int64   `json:"send_bps"`   // all viewers together
	TargetBps  int     `json:"target_bps"` // the encoder's target: the viewers' upper median
	EncodeMs   float64 `json:"encode_ms"`  // CPU per frame encoded

	// Final marks the last line, whose rates are averages over the
	// serving.
	Final bool `json:"final,omitempty"`
	// Error, on the final line, is why serving failed.
	Error string `json:"error,omitempty"`
}

// ViewerSnapshot is one viewer's figures in a Snapshot.
type ViewerSnapshot struct {
	ID          string  `json:"id"`
	State       string  `json:"state"` // the PeerConnection's state
	Pair        string  `json:"pair"`  // the candidate pair's kind, once connected
	FramesSent  uint64  `json:"frames_sent"`
	BytesSent   uint64  `json:"bytes_sent"` // RTP payload and headers
	SendBps     int64   `json:"send_bps"`
	RTTMs       float64 `json:"rtt_ms"`
	PacketsLost int64   `json:"packets_lost"` // as the viewer reports it
	NACK        uint64  `json:"nack"`
	PLI         uint64  `json:"pli"`
	TargetBps   int     `json:"target_bps"` // its congestion controller's target
	// Layer is the highest temporal layer it is sent (0: the lowest
	// frame rate; 0 too when the video has no layers), and FPSSent the
	// frames it was sent over the last second.
	Layer   int     `json:"layer"`
	FPSSent float64 `json:"fps_sent"`
	// The sound sent to it: AudioPacketsSent counts the packets (one per
	// 20 ms frame), AudioPacketsLost those its receiver reports say
	// never arrived, and AudioLossPct the share of them lost in its
	// latest report (RFC 3550 §6.4.1 fraction lost), percent. Absent
	// without sound.
	AudioPacketsSent uint64  `json:"audio_packets_sent,omitempty"`
	AudioPacketsLost int64   `json:"audio_packets_lost,omitempty"`
	AudioLossPct     float64 `json:"audio_loss_pct,omitempty"`
}

// collector turns the server's counters into Snapshots. It is used by one
// goroutine at a time: the stats loop, then Run once the loop is joined.
type collector struct {
	s     *server
	start time.Time
	prev  time.Time
	// The previous read: frames and bytes per viewer, for rates.
	frames    uint64
	bytes     map[string]uint64
	vframes   map[string]uint64
	encFrames uint64
	encCPU    time.Duration
	last      []ViewerSnapshot // the viewers' figures at the last live read
	lastSent  int64            // all bytes sent by viewers no longer there
	ended     time.Time        // when end was called
	endEnc    *Snapshot        // the encoder's figures over the whole serving, at end
}

func newCollector(s *server) *collector {
	now := time.Now()
	c := &collector{s: s, start: now, prev: now, bytes: map[string]uint64{}, vframes: map[string]uint64{}}
	if es, ok := s.src.encoderStats(); ok {
		c.encFrames, c.encCPU = es.Frames+es.Dropped, es.EncodeCPU
	}
	return c
}

// viewers reads each viewer's figures now, and has the sound's encoder
// code as much in-band FEC as the viewer losing the most sound reports.
func (c *collector) viewers() []ViewerSnapshot {
	worst := 0.0 // the highest fraction of sound lost a viewer reports
	c.s.mu.Lock()
	vs := make([]*viewer, 0, len(c.s.viewers))
	for _, v := range c.s.viewers {
		vs = append(vs, v)
	}
	c.s.mu.Unlock()
	slices.SortFunc(vs, func(a, b *viewer) int { return a.joined.Compare(b.joined) })
	frames := c.s.src.framesSent()
	out := make([]ViewerSnapshot, 0, len(vs))
	for _, v := range vs {
		c.s.mu.Lock()
		vf := ViewerSnapshot{ID: v.id, TargetBps: v.target, Layer: int(v.layer.Load())}
		switch {
		case v.watching && v.thin != nil:
			vf.FramesSent = v.thin.frames()
		case v.watching:
			vf.FramesSent = frames - v.frames0
		}
		c.s.mu.Unlock()
		vf.State = v.p.State().String()
		if pr, ok := v.p.SelectedPair(); ok {
			vf.Pair = pr.Kind()
		}
		vf.RTTMs = round1(float64(v.p.RoundTrip().Microseconds()) / 1000)
		fb := v.p.Feedback()
		vf.NACK, vf.PLI = fb.NACKs, fb.PLIs+fb.FIRs
		if g := v.p.Stats(); g != nil {
			for _, ssrc := range v.p.SenderSSRCs() {
				if st := g.Get(ssrc); st != nil {
					vf.BytesSent += st.OutboundRTPStreamStats.BytesSent + st.OutboundRTPStreamStats.HeaderBytesSent
					vf.PacketsLost += max(st.RemoteInboundRTPStreamStats.PacketsLost, 0)
				}
			}
			for _, ssrc := range v.p.SenderSSRCsOf(webrtc.RTPCodecTypeAudio) {
				if st := g.Get(ssrc); st != nil {
					vf.AudioPacketsSent += st.OutboundRTPStreamStats.PacketsSent
					vf.AudioPacketsLost += max(st.RemoteInboundRTPStreamStats.PacketsLost, 0)
					f := st.RemoteInboundRTPStreamStats.FractionLost
					vf.AudioLossPct = round1(100 * f)
					worst = max(worst, f)
				}
			}
		}
		out = append(out, vf)
	}
	c.s.src.setPacketLoss(int(math.Round(100 * worst)))
	return out
}

// snapshot returns the figures now, with rates since the previous call.
func (c *collector) snapshot() Snapshot {
	now := time.Now()
	dt := now.Sub(c.prev).Seconds()
	if dt <= 0 {
		dt = 1
	}
	vs := c.viewers()
	sn := Snapshot{T: round1(now.Sub(c.start).Seconds()), Role: "serve", State: "serving", Viewers: vs}
	seen := map[string]bool{}
	for i := range vs {
		v := &vs[i]
		seen[v.ID] = true
		v.SendBps = int64(float64(v.BytesSent-min(c.bytes[v.ID], v.BytesSent)) * 8 / dt)
		sn.SendBps += v.SendBps
		c.bytes[v.ID] = v.BytesSent
		v.FPSSent = round1(float64(v.FramesSent-min(c.vframes[v.ID], v.FramesSent)) / dt)
		c.vframes[v.ID] = v.FramesSent
	}
	for id, b := range c.bytes {
		if !seen[id] {
			c.lastSent += int64(b)
			delete(c.bytes, id)
			delete(c.vframes, id)
		}
	}
	frames := c.s.src.framesSent()
	sn.FramesSent = frames
	sn.FPSSent = round1(float64(frames-c.frames) / dt)
	c.frames = frames
	c.encoder(&sn)
	c.s.mu.Lock()
	sn.ViewersSeen = c.s.seen
	c.s.mu.Unlock()
	c.prev, c.last = now, vs
	return sn
}

// encoder fills in the encoder's figures since the previous read.
func (c *collector) encoder(sn *Snapshot) {
	es, ok := c.s.src.encoderStats()
	if !ok {
		return
	}
	sn.TargetBps = es.TargetBitRate
	if n := es.Frames + es.Dropped - c.encFrames; n > 0 {
		sn.EncodeMs = round1(float64((es.EncodeCPU - c.encCPU).Microseconds()) / 1000 / float64(n))
	}
	c.encFrames, c.encCPU = es.Frames+es.Dropped, es.EncodeCPU
}

// end reads every figure one last time, as serving stops and before
// anything is closed.
func (c *collector) end() {
	c.snapshot()
	c.ended = c.prev
	enc := Snapshot{}
	if es, ok := c.s.src.encoderStats(); ok {
		enc.TargetBps = es.TargetBitRate
		if n := es.Frames + es.Dropped; n > 0 {
			enc.EncodeMs = round1(float64(es.EncodeCPU.Microseconds()) / 1000 / float64(n))
		}
	}
	c.endEnc = &enc
}

// final returns the last line, once everything is closed: the viewers as
// end read them, before they were hung up on, the frames sent to the last,
// and rates averaged over the whole serving.
func (c *collector) final(err error) Snapshot {
	at := c.ended
	if at.IsZero() {
		at = time.Now()
	}
	dt := max(at.Sub(c.start).Seconds(), 0.001)
	frames := c.s.src.framesSent()
	sn := Snapshot{T: round1(at.Sub(c.start).Seconds()), Role: "serve", State: "stopped", Viewers: c.last, FramesSent: frames, Final: true}
	if sn.Viewers == nil {
		sn.Viewers = []ViewerSnapshot{}
	}
	sent := c.lastSent
	for _, b := range c.bytes {
		sent += int64(b)
	}
	sn.SendBps = int64(float64(sent) * 8 / dt)
	sn.FPSSent = round1(float64(frames) / dt)
	if c.endEnc != nil {
		sn.TargetBps, sn.EncodeMs = c.endEnc.TargetBps, c.endEnc.EncodeMs
	}
	c.s.mu.Lock()
	sn.ViewersSeen = c.s.seen
	c.s.mu.Unlock()
	if err != nil {
		sn.Error = err.Error()
	}
	return sn
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// writeJSON writes s as one line of JSON.
func writeJSON(w io.Writer, s Snapshot) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode stats: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write stats: %w", err)
	}
	return nil
}
