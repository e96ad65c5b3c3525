//go:build cgo

package peer

import (
	"context"
	"fmt"
	"image"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/p2pcam/p2pcam/pkg/pattern"
	"github.com/p2pcam/p2pcam/pkg/vp8"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/mediadevices/pkg/io/video"
	"github.com/pion/mediadevices/pkg/prop"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/transport/v5/vnet"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

// These tests run a real call between two peers in this process: a libvpx
// encoder paced at 30 fps feeds the sender, whose congestion controller
// sets the encoder's bitrate, and the link between the peers is pion's
// virtual network with a rate cap, random loss or neither. They take
// seconds of wall time each and assert generously: the machine is shared.

// link describes the impairments of the virtual path from sender to
// receiver. The reverse path (RTCP feedback) only has the delay.
type link struct {
	delay      time.Duration // one way, both directions
	rate       int           // bits/s into the receiver; 0 is unlimited
	queueBytes int64         // the rate limiter's queue; beyond it packets drop
	lossPct    int           // percent of RTP packets to the receiver dropped
}

// Addresses on the virtual network (RFC 5737 documentation range).
const (
	sndIP = "192.0.2.1"
	rcvIP = "192.0.2.2"
)

// dropLog is a vnet chunk filter that drops RTP packets on their way to the
// receiver and remembers which (SSRC, sequence number) it dropped and when.
// RTP headers are readable under SRTP; STUN, DTLS and RTCP pass untouched
// (RFC 7983 demultiplexing), so connecting stays deterministic.
type dropLog struct {
	pct int
	rng *rand.Rand

	mu      sync.Mutex
	dropped map[uint64]time.Time
	passed  int
}

func rtpKey(ssrc uint32, seq uint16) uint64 { return uint64(ssrc)<<16 | uint64(seq) }

func (d *dropLog) filter(c vnet.Chunk) bool {
	b := c.UserData()
	ua, ok := c.DestinationAddr().(*net.UDPAddr)
	if !ok || !ua.IP.Equal(net.ParseIP(rcvIP)) || len(b) < 12 || b[0]>>6 != 2 {
		return true
	}
	if pt := b[1] & 0x7f; pt >= 64 && pt <= 95 {
		return true // RTCP
	}
	ssrc := uint32(b[8])<<24 | uint32(b[9])<<16 | uint32(b[10])<<8 | uint32(b[11])
	seq := uint16(b[2])<<8 | uint16(b[3])
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.rng.IntN(100) >= d.pct {
		d.passed++
		return true
	}
	if _, again := d.dropped[rtpKey(ssrc, seq)]; !again {
		d.dropped[rtpKey(ssrc, seq)] = time.Now()
	}
	return false
}

// dropsBefore returns the keys of the packets first dropped before t.
func (d *dropLog) dropsBefore(t time.Time) []uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	var keys []uint64
	for k, at := range d.dropped {
		if at.Before(t) {
			keys = append(keys, k)
		}
	}
	return keys
}

// newLink builds the virtual network and returns each peer's side of it.
func newLink(t *testing.T, l link) (snd, rcv *vnet.Net, drops *dropLog) {
	t.Helper()
	quiet := slogFactory{slog.New(slog.DiscardHandler)}
	wan, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "192.0.2.0/24", MinDelay: l.delay, LoggerFactory: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if snd, err = vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{sndIP}}); err != nil {
		t.Fatal(err)
	}
	if rcv, err = vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{rcvIP}}); err != nil {
		t.Fatal(err)
	}
	if err := wan.AddNet(snd); err != nil {
		t.Fatal(err)
	}
	var rcvNIC vnet.NIC = rcv
	if l.rate > 0 {
		// A token bucket like tc's tbf: 4 KB burst, a bounded queue.
		q, err := vnet.NewQueue(rcv, vnet.NewTBFQueue(l.rate, 4000, l.queueBytes))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = q.Close() })
		rcvNIC = q
	}
	if err := wan.AddNet(rcvNIC); err != nil {
		t.Fatal(err)
	}
	drops = &dropLog{pct: l.lossPct, rng: rand.New(rand.NewPCG(1, 2)), dropped: map[uint64]time.Time{}}
	if l.lossPct > 0 {
		wan.AddChunkFilter(drops.filter)
	}
	if err := wan.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = wan.Stop() })
	return snd, rcv, drops
}

// stamper notes when each video frame (RTP timestamp) was first written by
// the track, before anything below it in the chain: the start of the frame's
// trip for the latency figure.
type stamper struct {
	mu sync.Mutex
	at map[uint32]time.Time
}

func (s *stamper) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &stampInterceptor{s: s}, nil
}

func (s *stamper) sentAt(ts uint32) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.at[ts]
	return at, ok
}

type stampInterceptor struct {
	interceptor.NoOp
	s *stamper
}

func (i *stampInterceptor) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		if h.SSRC == info.SSRC {
			i.s.mu.Lock()
			if _, ok := i.s.at[h.Timestamp]; !ok {
				i.s.at[h.Timestamp] = time.Now()
			}
			i.s.mu.Unlock()
		}
		return w.Write(h, payload, a)
	})
}

// frames returns n 640x360 pictures of the test pattern with fixed noise
// on top, so the encoder finds detail to spend up to a few Mbit/s on, as a
// camera's sensor noise makes it. They are played in a loop.
func frames(n int) []*image.YCbCr {
	rng := rand.New(rand.NewPCG(3, 4))
	out := make([]*image.YCbCr, n)
	for i := range out {
		img := image.NewYCbCr(image.Rect(0, 0, 640, 360), image.YCbCrSubsampleRatio420)
		pattern.Paint(img, i, time.Unix(0, 0))
		for j := range img.Y {
			img.Y[j] = byte(min(255, max(0, int(img.Y[j])+rng.IntN(13)-6)))
		}
		out[i] = img
	}
	return out
}

// sendVideo encodes frames at 30 fps into track until ctx ends and returns
// the encoder's controller. The encoder is closed and the pump finished
// when the test ends.
func sendVideo(t *testing.T, ctx context.Context, track *webrtc.TrackLocalStaticSample, initial, lo, hi int) vp8.Controller {
	t.Helper()
	pics := frames(16)
	tick := time.NewTicker(time.Second / 30)
	n := 0
	src := video.ReaderFunc(func() (image.Image, func(), error) {
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-tick.C:
		}
		n++
		return pics[n%len(pics)], func() {}, nil
	})
	params := vp8.NewParams()
	params.BitRate, params.MinBitRate, params.MaxBitRate = initial, lo, hi
	enc, err := params.BuildVideoEncoder(src, prop.Media{Video: prop.Video{Width: 640, Height: 360, FrameRate: 30}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			b, release, err := enc.Read()
			if err != nil {
				return
			}
			_ = track.WriteSample(media.Sample{Data: b, Duration: time.Second / 30})
			release()
		}
	}()
	t.Cleanup(func() {
		tick.Stop()
		_ = enc.Close()
		<-done
	})
	c, ok := enc.Controller().(vp8.Controller)
	if !ok {
		t.Fatal("the vp8 encoder's controller has no Stats")
	}
	return c
}

// sink reads the remote track and keeps what the tests judge: which
// packets arrived, and when each complete frame arrived after it was sent.
type sink struct {
	mu      sync.Mutex
	got     map[uint64]bool
	frames  map[uint32]bool
	arrival []frameArrival
}

type frameArrival struct {
	at      time.Time
	latency time.Duration // -1 when the send time is unknown
}

func receiveVideo(t *testing.T, ctx context.Context, rcv *Peer, st *stamper) *sink {
	t.Helper()
	s := &sink{got: map[uint64]bool{}, frames: map[uint32]bool{}}
	var remote *webrtc.TrackRemote
	select {
	case rt := <-rcv.Tracks():
		remote = rt.Track
	case <-ctx.Done():
		t.Fatal("no remote track")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			p, _, err := remote.ReadRTP()
			if err != nil {
				return
			}
			now := time.Now()
			s.mu.Lock()
			s.got[rtpKey(p.SSRC, p.SequenceNumber)] = true
			if p.Marker && !s.frames[p.Timestamp] {
				s.frames[p.Timestamp] = true
				lat := time.Duration(-1)
				if at, ok := st.sentAt(p.Timestamp); ok {
					lat = now.Sub(at)
				}
				s.arrival = append(s.arrival, frameArrival{now, lat})
			}
			s.mu.Unlock()
		}
	}()
	// Closing the peer ends the reads; the pair's cleanup closes it first.
	t.Cleanup(func() { rcv.Close(); <-done })
	return s
}

// since returns the frames that arrived at or after t and their latencies
// in increasing order.
func (s *sink) since(t time.Time) (n int, lat []time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.arrival {
		if !a.at.Before(t) {
			n++
			if a.latency >= 0 {
				lat = append(lat, a.latency)
			}
		}
	}
	slices.Sort(lat)
	return n, lat
}

func (s *sink) received(k uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got[k]
}

// call is a running call over an impaired link.
type call struct {
	snd, rcv *Peer
	enc      vp8.Controller
	sink     *sink
	drops    *dropLog
	start    time.Time
}

// startCall connects a sender with congestion control in [lo, hi] starting
// at initial to a receiver over l and starts the video.
func startCall(t *testing.T, ctx context.Context, l link, initial, lo, hi int) *call {
	t.Helper()
	sndNet, rcvNet, drops := newLink(t, l)
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "p2pcam")
	if err != nil {
		t.Fatal(err)
	}
	c := &call{drops: drops}
	var encMu sync.Mutex
	var enc vp8.Controller
	st := &stamper{at: map[uint32]time.Time{}}
	c.snd, err = New(Config{
		Send: []SendTrack{{Track: track, Codec: vp8.Descriptor}},
		Congestion: &Congestion{Initial: initial, Min: lo, Max: hi, OnTarget: func(bps int) {
			encMu.Lock()
			defer encMu.Unlock()
			if enc != nil {
				_ = enc.SetBitRate(bps)
			}
		}},
		Interceptors: []interceptor.Factory{st},
		network:      sndNet,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.snd.Close() })
	c.rcv, err = New(Config{Receive: videoKinds(), Codecs: vp8Codecs(), network: rcvNet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.rcv.Close() })
	offer, err := c.snd.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	answer, err := c.rcv.Answer(ctx, offer)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.snd.Accept(answer); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*Peer{c.snd, c.rcv} {
		if err := p.WaitConnected(ctx); err != nil {
			t.Fatalf("WaitConnected: %v", err)
		}
	}
	e := sendVideo(t, ctx, track, initial, lo, hi)
	encMu.Lock()
	enc = e
	encMu.Unlock()
	c.enc = e
	c.sink = receiveVideo(t, ctx, c.rcv, st)
	c.start = time.Now()
	return c
}

// sample is the sender's view at one moment of the call.
type sample struct {
	at     time.Duration // since the video started
	target int           // congestion controller's target, bits/s
	bytes  uint64        // encoder output so far
}

// watch samples the target every 250 ms for d.
func (c *call) watch(t *testing.T, ctx context.Context, d time.Duration) []sample {
	t.Helper()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var out []sample
	for time.Since(c.start) < d {
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("call cut short: %v", ctx.Err())
		}
		out = append(out, sample{time.Since(c.start), c.snd.TargetBitrate(), c.enc.Stats().Bytes})
	}
	return out
}

func logTimeline(t *testing.T, s []sample) {
	t.Helper()
	var line []byte
	for i, x := range s {
		if i%4 == 3 {
			line = fmt.Appendf(line, "%v=%s ", x.at.Round(time.Second), kbps(x.target))
		}
	}
	t.Logf("target over time: %s", line)
}

func kbps(bps int) string { return fmt.Sprintf("%dk", bps/1000) }

func median(v []int) int {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	return v[len(v)/2]
}

func percentile(lat []time.Duration, p float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	return lat[min(len(lat)-1, int(float64(len(lat))*p))]
}

// TestCongestionControlFollowsTheLink checks GCC end to end on the sending
// side: under a rate cap the target settles below it while video keeps
// arriving; on a clean link it climbs from its start toward the ceiling.
func TestCongestionControlFollowsTheLink(t *testing.T) {
	if testing.Short() {
		t.Skip("runs calls of 15 s")
	}
	const ceiling = 2_500_000
	tests := []struct {
		name    string
		link    link
		initial int
		run     time.Duration
		check   func(t *testing.T, c *call, s []sample)
	}{
		{
			name:    "under a 1 Mbit/s cap the target settles below it",
			link:    link{delay: 20 * time.Millisecond, rate: 1_000_000, queueBytes: 50_000},
			initial: ceiling, // as the session starts: at the ceiling
			run:     16 * time.Second,
			check: func(t *testing.T, c *call, s []sample) {
				const limit = 1_000_000
				settled := -1
				for i, x := range s {
					if x.target < limit {
						settled = i
						break
					}
				}
				if settled < 0 || s[settled].at > 10*time.Second {
					t.Fatalf("the target never went under the %d bit/s cap within 10 s", limit)
				}
				var after []int
				for _, x := range s[settled:] {
					after = append(after, x.target)
				}
				m := median(after)
				t.Logf("settled under the cap after %v; median target since %d bit/s", s[settled].at.Round(100*time.Millisecond), m)
				if m >= limit {
					t.Errorf("median target after settling = %d bit/s; want under the %d cap", m, limit)
				}
				last, back := s[len(s)-1], s[max(0, len(s)-17)] // 4 s apart
				n, lat := c.sink.since(c.start.Add(back.at))
				t.Logf("last 4 s: encoder output %d bit/s, %d frames arrived (%.1f fps), latency p50 %v p95 %v",
					int(float64(last.bytes-back.bytes)*8/(last.at-back.at).Seconds()), n, float64(n)/4,
					percentile(lat, .5).Round(time.Millisecond), percentile(lat, .95).Round(time.Millisecond))
				if g := c.snd.Stats(); g != nil {
					if st := g.Get(c.snd.SenderSSRCs()[0]); st != nil {
						t.Logf("round trip: RTCP %v, ICE %v", st.RemoteInboundRTPStreamStats.RoundTripTime.Round(time.Millisecond),
							c.snd.RoundTrip().Round(time.Millisecond))
					}
				}
				if n < 30 {
					t.Errorf("only %d frames arrived in the last 4 s; the video must keep flowing", n)
				}
			},
		},
		{
			name:    "on a clean link the target climbs toward the ceiling",
			link:    link{delay: 20 * time.Millisecond},
			initial: 1_000_000,
			run:     15 * time.Second,
			check: func(t *testing.T, c *call, s []sample) {
				top := 0
				for _, x := range s {
					top = max(top, x.target)
				}
				t.Logf("highest target %d bit/s, final %d, encoder's %d", top, s[len(s)-1].target, c.enc.Stats().TargetBitRate)
				if top < 1_600_000 {
					t.Errorf("the target reached only %d bit/s from 1 Mbit/s on a clean link; want it climbing toward %d", top, ceiling)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), tc.run+30*time.Second)
			defer cancel()
			c := startCall(t, ctx, tc.link, tc.initial, 150_000, ceiling)
			s := c.watch(t, ctx, tc.run)
			logTimeline(t, s)
			if got := c.enc.Stats().TargetBitRate; got != c.snd.TargetBitrate() && got != 0 {
				t.Logf("encoder target %d, controller %d", got, c.snd.TargetBitrate())
			}
			tc.check(t, c, s)
		})
	}
}

// TestNACKRepairsLoss drops 5% of the video packets on their way to the
// receiver: the receiver must ask for them (NACK, RFC 4585 §6.2.1) and the
// sender's retransmissions must bring nearly all of them back.
func TestNACKRepairsLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a call of 8 s")
	}
	tests := []struct {
		name  string
		delay time.Duration // one way
	}{
		{"20 ms away", 20 * time.Millisecond},
		{"60 ms away", 60 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
			defer cancel()
			c := startCall(t, ctx, link{delay: tc.delay, lossPct: 5}, 1_000_000, 150_000, 1_000_000)
			const run = 8 * time.Second
			c.watch(t, ctx, run)
			// Packets dropped in the last second may still be on their way.
			cut := c.start.Add(run - time.Second)
			lost := c.drops.dropsBefore(cut)
			recovered := 0
			for _, k := range lost {
				if c.sink.received(k) {
					recovered++
				}
			}
			fb := c.rcv.Feedback()
			sfb := c.snd.Feedback()
			c.drops.mu.Lock()
			passed := c.drops.passed
			c.drops.mu.Unlock()
			n, lat := c.sink.since(c.start)
			t.Logf("dropped %d packets (passed %d), recovered %d; NACKed packets sent %d, received by the sender %d; %d frames, latency p50 %v p95 %v; keyframe requests %d",
				len(lost), passed, recovered, fb.NACKsSent, sfb.NACKs, n,
				percentile(lat, .5).Round(time.Millisecond), percentile(lat, .95).Round(time.Millisecond), fb.KeyFramesSent)
			if len(lost) < 20 {
				t.Fatalf("only %d packets dropped; the loss filter is not working", len(lost))
			}
			if fb.NACKsSent == 0 {
				t.Fatal("the receiver sent no NACKs")
			}
			if recovered < len(lost)*9/10 {
				t.Errorf("recovered %d of %d dropped packets; want at least 90%%", recovered, len(lost))
			}
		})
	}
}

// fakeBWE is a bandwidth estimator whose target the test sets.
type fakeBWE struct {
	cc.BandwidthEstimator // not called
	mu                    sync.Mutex
	bps                   int
}

func (f *fakeBWE) GetTargetBitrate() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bps
}

// TestTargetDelivery checks what OnTarget sees of pion's announcements,
// which arrive each on a goroutine of its own and so in any order: the
// current target, once per change, and nothing after Close.
func TestTargetDelivery(t *testing.T) {
	tests := []struct {
		name    string
		targets []int // the estimator's target at each announcement
		stopAt  int   // announcements after this many come after Close; -1 never
		want    []int
	}{
		{"each change once", []int{1000, 2000, 3000}, -1, []int{1000, 2000, 3000}},
		{"repeats are dropped", []int{1000, 1000, 2000, 2000}, -1, []int{1000, 2000}},
		{"nothing after close", []int{1000, 2000, 3000}, 1, []int{1000}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var est estimator
			b := &fakeBWE{}
			est.set(b)
			var got []int
			for i, bps := range tc.targets {
				if i == tc.stopAt {
					est.stop()
				}
				b.mu.Lock()
				b.bps = bps
				b.mu.Unlock()
				est.deliver(b, func(v int) { got = append(got, v) })
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("OnTarget saw %v; want %v", got, tc.want)
			}
			if est.target() != tc.targets[len(tc.targets)-1] {
				t.Errorf("target() = %d; want the estimator's %d", est.target(), tc.targets[len(tc.targets)-1])
			}
		})
	}
}

// simLink is one stretch of a simulated path in virtual time: a FIFO
// drained at rate bits/s (0 is unlimited) that holds at most maxQueue of
// backlog, as tc's tbf with its latency setting, then a one-way delay;
// lossPct of the packets vanish at random before the queue, as nft's
// numgen rule drops them.
type simLink struct {
	until    time.Duration // this stretch lasts until then
	rate     int
	maxQueue time.Duration
	delay    time.Duration
	lossPct  int
}

// simSample is the estimator's target at one moment of a simulated call.
type simSample struct {
	at     time.Duration
	target int
}

// simPacket is one packet of a simulated call: when it was sent and how
// long it waited in the bottleneck's queue (-1 when dropped there or lost).
type simPacket struct {
	at     time.Duration
	queued time.Duration
}

type simResult struct {
	samples []simSample // every 100 ms
	packets []simPacket
}

// simulate runs the estimator newEstimator builds for c against a sender
// that produces exactly the target bitrate (30 frames a second, each cut
// into packets of at most 1200 bytes) over the links, one after the other,
// for d of virtual time; overshoot scales what the sender produces (libvpx
// sends more than its target at a few hundred kbit/s; 0 is 1) (testing/synctest: deterministic, no wall time).
// The receiver reports every packet's arrival in TWCC feedback (pion's
// own recorder) every 100 ms, which reaches the sender after the one-way
// delay.
func simulate(t *testing.T, c Congestion, links []simLink, d time.Duration, overshoot float64) simResult {
	t.Helper()
	if overshoot == 0 {
		overshoot = 1
	}
	var res simResult
	synctest.Test(t, func(t *testing.T) {
		quiet := slogFactory{slog.New(slog.DiscardHandler)}
		est, err := newEstimator(&c, quiet)
		if err != nil {
			t.Fatal(err)
		}
		defer est.Close()
		const twccID = 1
		info := &interceptor.StreamInfo{SSRC: 1, RTPHeaderExtensions: []interceptor.RTPHeaderExtension{
			{URI: "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01", ID: twccID}}}
		type inFlight struct {
			seq     uint16
			arrival time.Duration
		}
		var (
			start    = time.Now()
			rng      = rand.New(rand.NewPCG(5, 6))
			busy     time.Duration // when the bottleneck's queue is empty again
			pending  []inFlight
			link     = links[0]
			recorder = twcc.NewRecorder(2)
		)
		wire := interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, _ interceptor.Attributes) (int, error) {
			now := time.Since(start)
			ext := h.GetExtension(twccID)
			seq := uint16(ext[0])<<8 | uint16(ext[1])
			p := simPacket{at: now, queued: -1}
			defer func() { res.packets = append(res.packets, p) }()
			if rng.IntN(100) < link.lossPct {
				return len(payload), nil
			}
			if link.rate == 0 {
				pending = append(pending, inFlight{seq, now + link.delay})
				p.queued = 0
				return len(payload), nil
			}
			from := max(now, busy)
			if from-now > link.maxQueue {
				return len(payload), nil // tail drop
			}
			busy = from + time.Duration(float64((len(payload)+40)*8)/float64(link.rate)*float64(time.Second))
			pending = append(pending, inFlight{seq, busy + link.delay})
			p.queued = from - now
			return len(payload), nil
		})
		w := est.AddStream(info, wire)
		var twSeq, rtpSeq uint16
		frame := time.Second / 30
		nextFrame, nextFeedback, nextSample := time.Duration(0), 100*time.Millisecond, time.Duration(0)
		for now := time.Duration(0); now < d; now = time.Since(start) {
			for len(links) > 1 && now >= links[0].until {
				links = links[1:]
			}
			link = links[0]
			if now >= nextSample {
				res.samples = append(res.samples, simSample{now, est.GetTargetBitrate()})
				nextSample += 100 * time.Millisecond
			}
			if now >= nextFrame {
				nextFrame += frame
				size := max(200, int(overshoot*float64(est.GetTargetBitrate()/30/8)))
				for size > 0 {
					n := min(size, 1200)
					size -= n
					h := &rtp.Header{Version: 2, SSRC: 1, SequenceNumber: rtpSeq, Marker: size == 0, Timestamp: uint32(now / (time.Second / 90000))}
					if err := h.SetExtension(twccID, []byte{byte(twSeq >> 8), byte(twSeq)}); err != nil {
						t.Fatal(err)
					}
					rtpSeq++
					twSeq++
					if _, err := w.Write(h, make([]byte, n), interceptor.Attributes{}); err != nil {
						t.Fatal(err)
					}
				}
			}
			if now >= nextFeedback {
				nextFeedback += 100 * time.Millisecond
				// Built at the receiver one delay ago, arriving now.
				built := now - link.delay
				rest := pending[:0]
				for _, p := range pending {
					if p.arrival <= built {
						recorder.Record(1, p.seq, p.arrival.Microseconds())
					} else {
						rest = append(rest, p)
					}
				}
				pending = rest
				if pkts := recorder.BuildFeedbackPacket(); len(pkts) > 0 {
					if err := est.WriteRTCP(pkts, interceptor.Attributes{}); err != nil {
						t.Fatal(err)
					}
				}
			}
			time.Sleep(time.Millisecond)
		}
	})
	return res
}

// targets returns the targets sampled in [from, to).
func (r simResult) targets(from, to time.Duration) []int {
	var out []int
	for _, s := range r.samples {
		if s.at >= from && s.at < to {
			out = append(out, s.target)
		}
	}
	return out
}

// queued returns the queueing delays of the packets sent in [from, to)
// that got through the queue, in increasing order.
func (r simResult) queued(from, to time.Duration) []time.Duration {
	var out []time.Duration
	for _, p := range r.packets {
		if p.at >= from && p.at < to && p.queued >= 0 {
			out = append(out, p.queued)
		}
	}
	slices.Sort(out)
	return out
}

func (r simResult) timeline() string {
	var b []byte
	for _, s := range r.samples {
		if s.at%time.Second < 100*time.Millisecond {
			b = fmt.Appendf(b, "%v=%s ", s.at.Round(time.Second), kbps(s.target))
		}
	}
	return string(b)
}

// TestEstimatorOnSimulatedLinks feeds the congestion controller the
// feedback of simulated links in virtual time, so each run is the same:
// it must respect the floor under heavy loss, come back to the ceiling
// soon after loss ends, and settle under a bottleneck's rate with the
// bottleneck's queue empty most of the time instead of standing full.
func TestEstimatorOnSimulatedLinks(t *testing.T) {
	const (
		floor   = 150_000
		ceiling = 2_500_000
		delay   = 20 * time.Millisecond
	)
	capped := func(rate int) func(t *testing.T, r simResult) {
		return func(t *testing.T, r simResult) {
			settled := r.targets(10*time.Second, 30*time.Second)
			if m := median(settled); m >= rate {
				t.Errorf("median target after 10 s = %d bit/s; want under the %d bit/s bottleneck", m, rate)
			}
			q := r.queued(10*time.Second, 30*time.Second)
			p50, p95 := percentile(q, .5), percentile(q, .95)
			t.Logf("queueing delay after 10 s: p50 %v p95 %v", p50, p95)
			if p95 > 60*time.Millisecond {
				t.Errorf("p95 queueing delay after 10 s = %v; want a queue that drains (under 60 ms)", p95)
			}
		}
	}
	tests := []struct {
		name      string
		initial   int
		overshoot float64
		links     []simLink
		run       time.Duration
		check     func(t *testing.T, r simResult)
	}{
		{
			name:    "15% loss keeps the target at the floor or above",
			initial: ceiling,
			links:   []simLink{{delay: delay, lossPct: 15}},
			run:     20 * time.Second,
			check: func(t *testing.T, r simResult) {
				if low := slices.Min(r.targets(0, time.Hour)); low < floor {
					t.Errorf("the target fell to %d bit/s under 15%% loss; the floor is %d", low, floor)
				}
			},
		},
		{
			name:    "after loss ends the target is back at the ceiling within 5 s",
			initial: ceiling,
			links:   []simLink{{until: 5 * time.Second, delay: delay}, {until: 15 * time.Second, delay: delay, lossPct: 15}, {delay: delay}},
			run:     30 * time.Second,
			check: func(t *testing.T, r simResult) {
				if low := slices.Min(r.targets(5*time.Second, 15*time.Second)); low > ceiling/2 {
					t.Fatalf("the target stayed at %d bit/s or above under 15%% loss; the test needs loss that bites", low)
				}
				back := time.Duration(-1)
				for _, s := range r.samples {
					if s.at >= 15*time.Second && s.target >= ceiling*9/10 {
						back = s.at - 15*time.Second
						break
					}
				}
				t.Logf("back at 90%% of the ceiling %v after the loss ended", back)
				if back < 0 || back > 5*time.Second {
					t.Errorf("the target took %v to return to the ceiling after the loss ended; want at most 5 s", back)
				}
			},
		},
		{
			name:    "under a 300 kbit/s bottleneck the target settles below it",
			initial: ceiling,
			links:   []simLink{{rate: 300_000, maxQueue: 400 * time.Millisecond, delay: delay}},
			run:     30 * time.Second,
			check:   capped(300_000),
		},
		{
			name:      "under a 300 kbit/s bottleneck an encoder 20% over its target still settles below it",
			initial:   ceiling,
			overshoot: 1.2,
			links:     []simLink{{rate: 300_000, maxQueue: 400 * time.Millisecond, delay: delay}},
			run:       30 * time.Second,
			check:     capped(300_000 * 10 / 12),
		},
		{
			name:    "under a 1 Mbit/s bottleneck the target settles below it",
			initial: ceiling,
			links:   []simLink{{rate: 1_000_000, maxQueue: 400 * time.Millisecond, delay: delay}},
			run:     30 * time.Second,
			check:   capped(1_000_000),
		},
		{
			name:    "on a clean link the target climbs to the ceiling",
			initial: 500_000,
			links:   []simLink{{delay: delay}},
			run:     30 * time.Second,
			check: func(t *testing.T, r simResult) {
				if top := slices.Max(r.targets(0, time.Hour)); top < ceiling*9/10 {
					t.Errorf("the target reached only %d bit/s on a clean link; want the %d ceiling", top, ceiling)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := simulate(t, Congestion{Initial: tc.initial, Min: floor, Max: ceiling}, tc.links, tc.run, tc.overshoot)
			t.Logf("target: %s", r.timeline())
			tc.check(t, r)
		})
	}
}

// TestFeedbackMatchesSentPackets checks how the controller reads TWCC
// feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1):
// both kinds of status chunk, arrival times from the reference time and
// the deltas, packets it never sent left out, and a packet reported as
// arrived twice counted once.
func TestFeedbackMatchesSentPackets(t *testing.T) {
	c := newController(1_000_000, 150_000, 2_500_000, slogFactory{slog.New(slog.DiscardHandler)}.NewLogger("congestion"))
	info := &interceptor.StreamInfo{SSRC: 1, RTPHeaderExtensions: []interceptor.RTPHeaderExtension{
		{URI: "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01", ID: 3}}}
	w := c.AddStream(info, interceptor.RTPWriterFunc(func(_ *rtp.Header, p []byte, _ interceptor.Attributes) (int, error) { return len(p), nil }))
	for seq := uint16(100); seq < 105; seq++ {
		h := &rtp.Header{Version: 2, SSRC: 1}
		if err := h.SetExtension(3, []byte{byte(seq >> 8), byte(seq)}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(h, make([]byte, 1000+int(seq)), nil); err != nil {
			t.Fatal(err)
		}
	}
	fb := func() *rtcp.TransportLayerCC {
		// 99 (never sent), 100, 101 arrived; 102 lost; 103 arrived; 104 lost.
		return &rtcp.TransportLayerCC{
			BaseSequenceNumber: 99, PacketStatusCount: 6, ReferenceTime: 10,
			PacketChunks: []rtcp.PacketStatusChunk{
				&rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketReceivedSmallDelta, RunLength: 3},
				&rtcp.StatusVectorChunk{SymbolSize: rtcp.TypeTCCSymbolSizeTwoBit, SymbolList: []uint16{
					rtcp.TypeTCCPacketNotReceived, rtcp.TypeTCCPacketReceivedLargeDelta, rtcp.TypeTCCPacketNotReceived,
					rtcp.TypeTCCPacketNotReceived, rtcp.TypeTCCPacketNotReceived, rtcp.TypeTCCPacketNotReceived, rtcp.TypeTCCPacketNotReceived}},
			},
			RecvDeltas: []*rtcp.RecvDelta{
				{Type: rtcp.TypeTCCPacketReceivedSmallDelta, Delta: 1000},
				{Type: rtcp.TypeTCCPacketReceivedSmallDelta, Delta: 2000},
				{Type: rtcp.TypeTCCPacketReceivedSmallDelta, Delta: 250},
				{Type: rtcp.TypeTCCPacketReceivedLargeDelta, Delta: -500},
			},
		}
	}
	type got struct {
		seq     uint16
		size    int
		arrived bool
		at      time.Duration
	}
	var first []got
	c.mu.Lock()
	for _, a := range c.acks(fb()) {
		first = append(first, got{a.sent.seq, a.sent.size, a.arrived, a.at})
	}
	again := c.acks(fb())
	c.mu.Unlock()
	ref := 640 * time.Millisecond // 10 × 64 ms
	want := []got{
		{100, 1100, true, ref + 3000*time.Microsecond},
		{101, 1101, true, ref + 3250*time.Microsecond},
		{102, 1102, false, 0},
		{103, 1103, true, ref + 2750*time.Microsecond},
		{104, 1104, false, 0},
	}
	if !slices.Equal(first, want) {
		t.Errorf("acks of the feedback:\n got %v\nwant %v", first, want)
	}
	var lost []uint16
	for _, a := range again {
		if a.arrived {
			t.Errorf("packet %d counted as arrived twice", a.sent.seq)
		}
		lost = append(lost, a.sent.seq)
	}
	if !slices.Equal(lost, []uint16{102, 104}) {
		t.Errorf("the same feedback again reports %v; want only the packets still missing, [102 104]", lost)
	}
}
