// Package peer is the network half of p2pcam: one WebRTC PeerConnection
// that sends a list of local tracks (one transceiver each), receives the
// remote side's tracks of the kinds asked for, or both.
//
// It owns the media engine (the codecs its Config lists, each registered
// from its codec.Descriptor: peer names no codec itself), the interceptor
// chain (NACK, RTCP reports, TWCC, stats), ICE configuration, the
// offer/answer steps with candidate gathering folded into the
// description, connection state, and an orderly hang-up. Keyframe
// requests and feedback are told apart by SSRC, one track from another. It knows nothing of blobs, files or the command line:
// session wires it to those.
package peer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/stats"
	"github.com/pion/rtcp"
	"github.com/pion/sdp/v3"
	"github.com/pion/transport/v5"
	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/pkg/codec"
)

// Config describes one peer.
type Config struct {
	// ICEServers are the STUN and TURN servers to gather candidates from.
	// Empty means host candidates only.
	ICEServers []webrtc.ICEServer
	// Interfaces, when not empty, restricts gathering to these network
	// interfaces; naming "lo" also enables loopback candidates.
	Interfaces []string
	// Send lists the tracks to send, one transceiver each; empty sends
	// nothing.
	Send []SendTrack
	// Receive lists the kinds of track to receive (codec.Video,
	// codec.Audio). A send transceiver of a kind listed also receives; a
	// kind with no send track gets a receive-only transceiver.
	Receive []codec.Kind
	// Codecs are the codecs the media engine offers and accepts, each
	// from its descriptor (payload type, fmtp, RTCP feedback). Empty
	// means the codecs of the Send tracks.
	Codecs []codec.Descriptor
	// GatherTimeout bounds candidate gathering (default 2.5s): whatever was
	// gathered by then goes into the description.
	GatherTimeout time.Duration
	// ICEFailedTimeout is how long ICE keeps checking before it gives up
	// (pion's default is 25s). The answering side sets it long enough to
	// cover the time a person takes to paste the answer back.
	ICEFailedTimeout time.Duration
	// Congestion, when set and sending, runs congestion control over all
	// the Send tracks together: its OnTarget gets the whole target, for
	// the sender to share out.
	Congestion *Congestion
	// Interceptors are added to the chain after p2pcam's own.
	Interceptors []interceptor.Factory
	// Logger receives progress at debug level and pion's own warnings.
	Logger *slog.Logger

	// network, when set, replaces the host's sockets: tests put the peers
	// on pion's virtual network (vnet) to impair the link between them.
	network transport.Net
}

// SendTrack is one track to send.
type SendTrack struct {
	// Track is what is sent.
	Track webrtc.TrackLocal
	// Codec is the track's codec.
	Codec codec.Descriptor
	// OnKeyFrameRequest, if set, is called when the remote side asks this
	// track for a keyframe (PLI or FIR naming its SSRC). It runs on
	// pion's RTCP path and must not block.
	OnKeyFrameRequest func()
	// CaptureLag, if set, says how long after its capture the frame the
	// track sent last was handed over to be sent (capture.Track's
	// CaptureLag); the track's sender reports are corrected by it, so
	// they pair RTP time with capture time as a receiver putting tracks
	// in sync assumes, not with send time. It is called whenever a
	// report goes out and must not block.
	CaptureLag func() time.Duration
}

// RemoteTrack is a track the remote side sends.
type RemoteTrack struct {
	// Track reads the track's RTP.
	Track *webrtc.TrackRemote
	// Codec is the descriptor of the track's codec, from Config.Codecs;
	// zero when Err is set.
	Codec codec.Descriptor
	// Err is a *codec.UnsupportedError when the track's codec has no
	// descriptor among Config.Codecs; nil otherwise.
	Err error
}

// SSRC is the track's RTP synchronization source.
func (t RemoteTrack) SSRC() uint32 { return uint32(t.Track.SSRC()) }

// Kind is the track's kind (codec.Video or codec.Audio).
func (t RemoteTrack) Kind() codec.Kind { return t.Track.Kind() }

// Peer is one PeerConnection. Its methods are safe for concurrent use;
// Close must be called once the peer is no longer needed.
type Peer struct {
	pc    *webrtc.PeerConnection
	cfg   Config
	log   *slog.Logger
	watch *watcher
	est   estimator
	roam  *roamer // follows address changes (roam.go)

	statsMu sync.Mutex
	stats   stats.Getter

	states    chan webrtc.PeerConnectionState
	statesMu  sync.Mutex // serializes sends on states; see pushState
	tracks    chan RemoteTrack
	connected chan struct{}
	failed    chan struct{}
	closed    chan struct{} // closed when Close begins
	connOnce  sync.Once
	failOnce  sync.Once

	mu        sync.Mutex
	remoteSSR []uint32
	// soundRefused is the remote's sound codec when its sound section
	// matched none of this peer's codecs (checkMedia); "" otherwise.
	soundRefused string
	senders      []*webrtc.RTPSender
	keyFrames    map[uint32]func() // keyframe request callbacks by local SSRC
	lags         captureLags       // corrects the local tracks' sender reports
	// closing is set, under mu, when Close begins. Goroutines are added
	// to wg only under mu while closing is false, so no wg.Add can race
	// with Close's wg.Wait. readEnded reads it without the lock.
	closing   atomic.Bool
	closeOnce sync.Once
	closeErr  error
	wg        sync.WaitGroup
}

// Errors reported by WaitConnected.
var (
	// ErrICEFailed means no candidate pair worked: the peers have no
	// network path between them with the candidates they exchanged.
	ErrICEFailed = errors.New("no network path to the other side (ICE failed)")
	// ErrHangUp means the remote side ended the call.
	ErrHangUp = errors.New("the other side hung up")
	// ErrClosed means this side closed the peer.
	ErrClosed = errors.New("peer closed")
)

// New builds a PeerConnection from cfg. It does not touch the network
// until an offer or answer is made.
func New(cfg Config) (*Peer, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.GatherTimeout <= 0 {
		cfg.GatherTimeout = DefaultGatherTimeout
	}
	if len(cfg.Codecs) == 0 {
		for _, st := range cfg.Send {
			if !slices.ContainsFunc(cfg.Codecs, func(d codec.Descriptor) bool { return d.Is(st.Codec.MimeType) }) {
				cfg.Codecs = append(cfg.Codecs, st.Codec)
			}
		}
	}
	p := &Peer{
		cfg:       cfg,
		log:       cfg.Logger,
		states:    make(chan webrtc.PeerConnectionState, 16),
		tracks:    make(chan RemoteTrack, maxRemoteTracks),
		connected: make(chan struct{}),
		failed:    make(chan struct{}),
		closed:    make(chan struct{}),
		keyFrames: make(map[uint32]func()),
	}
	p.watch = newWatcher(p.keyFrame)
	m, err := newMediaEngine(cfg.Codecs)
	if err != nil {
		return nil, err
	}
	var congestion interceptor.Factory
	if cfg.Congestion != nil && len(cfg.Send) > 0 {
		if congestion, err = congestionInterceptor(cfg.Congestion, &p.est, slogFactory{cfg.Logger}); err != nil {
			return nil, err
		}
	}
	reg, err := interceptors(m, slogFactory{cfg.Logger}, p.setStats, p.watch, congestion, &p.lags, cfg.Interceptors...)
	if err != nil {
		return nil, err
	}
	se := webrtc.SettingEngine{LoggerFactory: slogFactory{cfg.Logger}}
	if len(cfg.Interfaces) > 0 {
		names := slices.Clone(cfg.Interfaces)
		se.SetInterfaceFilter(func(n string) bool { return slices.Contains(names, n) })
		se.SetIncludeLoopbackCandidate(slices.Contains(names, "lo"))
	}
	// An unreachable STUN or TURN server must not hold the blob back.
	se.SetSTUNGatherTimeout(cfg.GatherTimeout)
	// Non-host pairs are accepted quickly: the paste already cost seconds.
	se.SetSrflxAcceptanceMinWait(100 * time.Millisecond)
	se.SetPrflxAcceptanceMinWait(200 * time.Millisecond)
	se.SetRelayAcceptanceMinWait(500 * time.Millisecond)
	if cfg.network != nil {
		se.SetNet(cfg.network)
	}
	if err := p.roaming(&se); err != nil {
		return nil, err
	}
	if cfg.ICEFailedTimeout > 0 {
		se.SetICETimeouts(5*time.Second, cfg.ICEFailedTimeout, 2*time.Second)
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{ICEServers: cfg.ICEServers})
	if err != nil {
		return nil, fmt.Errorf("create peer connection: %w", err)
	}
	p.pc = pc
	if err := p.addTransceivers(); err != nil {
		_ = pc.Close()
		return nil, err
	}
	pc.OnConnectionStateChange(p.onState)
	pc.OnTrack(p.onTrack)
	p.watchPairs()
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			p.log.Debug("gathered candidate", "type", c.Typ.String(), "protocol", c.Protocol.String(), "address", c.Address, "port", c.Port)
		}
	})
	return p, nil
}

// maxRemoteTracks is how many remote tracks Tracks holds for a reader
// that has not taken them yet: far more than a call negotiates.
const maxRemoteTracks = 16

// addTransceivers adds one transceiver per track to send (also receiving
// when its kind is one to receive), then a receive-only one for each kind
// to receive that no track sends.
func (p *Peer) addTransceivers() error {
	receiving := slices.Clone(p.cfg.Receive)
	for _, st := range p.cfg.Send {
		dir := webrtc.RTPTransceiverDirectionSendonly
		if i := slices.Index(receiving, st.Codec.Kind); i >= 0 {
			dir = webrtc.RTPTransceiverDirectionSendrecv
			receiving = slices.Delete(receiving, i, i+1)
		}
		tr, err := p.pc.AddTransceiverFromTrack(st.Track, webrtc.RTPTransceiverInit{Direction: dir})
		if err != nil {
			return fmt.Errorf("add %s track: %w", st.Codec.Kind, err)
		}
		sender := tr.Sender()
		p.senders = append(p.senders, sender)
		for _, enc := range sender.GetParameters().Encodings {
			ssrc := uint32(enc.SSRC)
			if st.CaptureLag != nil {
				p.lags.add(ssrc, st.Codec.ClockRate, st.CaptureLag)
			}
			if st.OnKeyFrameRequest != nil {
				p.mu.Lock()
				p.keyFrames[ssrc] = st.OnKeyFrameRequest
				p.mu.Unlock()
			}
		}
		// Read the sender's RTCP so reports, NACKs and keyframe requests
		// are processed; the reads end when the peer closes.
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			buf := make([]byte, 1500)
			for {
				if _, _, err := sender.Read(buf); err != nil {
					p.readEnded()
					return
				}
			}
		}()
	}
	for _, kind := range receiving {
		if _, err := p.pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			return fmt.Errorf("add %s transceiver: %w", kind, err)
		}
	}
	if len(p.cfg.Send) == 0 && len(p.cfg.Receive) == 0 {
		// Nothing either way: an inactive video line keeps the
		// description well formed.
		if _, err := p.pc.AddTransceiverFromKind(codec.Video, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionInactive}); err != nil {
			return fmt.Errorf("add video transceiver: %w", err)
		}
	}
	return nil
}

// keyFrame routes a keyframe request to the track whose SSRC it names;
// a request naming none of them (some senders put 0 in a FIR's media
// SSRC) goes to every track.
func (p *Peer) keyFrame(ssrc uint32) {
	p.mu.Lock()
	f, ok := p.keyFrames[ssrc]
	var all []func()
	if !ok {
		for _, g := range p.keyFrames {
			all = append(all, g)
		}
	}
	p.mu.Unlock()
	if ok {
		f()
		return
	}
	for _, g := range all {
		g()
	}
}

func (p *Peer) setStats(g stats.Getter) {
	p.statsMu.Lock()
	p.stats = g
	p.statsMu.Unlock()
}

// onState hands pion's state changes to the states channel without ever
// blocking pion's goroutine.
func (p *Peer) onState(s webrtc.PeerConnectionState) {
	p.pushState(s)
	switch s {
	case webrtc.PeerConnectionStateConnected:
		p.connOnce.Do(func() { close(p.connected) })
	case webrtc.PeerConnectionStateFailed:
		p.failOnce.Do(func() { close(p.failed) })
	case webrtc.PeerConnectionStateClosed:
		// Not closed by this side: the other side closed its DTLS
		// transport (it hung up). With no remote track yet, no RTCP
		// read loop is there to notice (readEnded).
		p.readEnded()
	}
}

// pushState puts s on the states channel without blocking: when the
// buffer is full it drops the oldest state to make room, so the newest is
// always there for a slow reader. Senders take statesMu, so once a state
// has been dropped nobody else can fill the freed slot; the reader only
// ever makes more room.
func (p *Peer) pushState(s webrtc.PeerConnectionState) {
	p.statesMu.Lock()
	defer p.statesMu.Unlock()
	for {
		select {
		case p.states <- s:
			return
		default:
		}
		select {
		case <-p.states:
		default:
		}
	}
}

// onTrack notes a remote track, starts reading its receiver's RTCP and
// hands the track to Tracks. Once Close has begun it does nothing: Close
// may already be waiting for the peer's goroutines.
func (p *Peer) onTrack(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
	p.mu.Lock()
	if p.closing.Load() {
		p.mu.Unlock()
		p.log.Debug("ignoring a remote track that arrived while closing", "ssrc", t.SSRC())
		return
	}
	p.remoteSSR = append(p.remoteSSR, uint32(t.SSRC()))
	rt := RemoteTrack{Track: t}
	i := slices.IndexFunc(p.cfg.Codecs, func(d codec.Descriptor) bool { return d.Is(t.Codec().MimeType) })
	if i >= 0 {
		rt.Codec = p.cfg.Codecs[i]
	} else {
		rt.Err = &codec.UnsupportedError{Kind: t.Kind(), MimeType: t.Codec().MimeType}
	}
	// The receiver's RTCP must be read for reports, NACKs and the watcher
	// to work; the reads end when the peer closes.
	p.wg.Add(1)
	p.mu.Unlock()
	go func() {
		defer p.wg.Done()
		buf := make([]byte, 1500)
		for {
			if _, _, err := r.Read(buf); err != nil {
				p.readEnded()
				return
			}
		}
	}()
	select {
	case p.tracks <- rt:
	default:
		p.log.Warn("ignoring a remote track past the most a call holds", "ssrc", t.SSRC(), "most", maxRemoteTracks)
	}
}

// readEnded notes that an RTCP read loop ended. Unless this side is
// closing, the remote side closed its DTLS transport: it hung up, possibly
// before its BYE could be read.
func (p *Peer) readEnded() {
	if !p.closing.Load() {
		p.watch.hangUp("")
	}
}

// States delivers connection state changes as they happen. It buffers a
// few; when a slow reader lets the buffer fill, the oldest buffered state
// is dropped for the new one, so slow readers miss intermediate states,
// never the latest. The channel is never closed.
func (p *Peer) States() <-chan webrtc.PeerConnectionState { return p.states }

// Tracks delivers every remote track when its first packet arrives, with
// its codec's descriptor, or with Err set (a *codec.UnsupportedError) when
// its codec has none. It holds up to 16 tracks not yet taken; the channel
// is never closed.
func (p *Peer) Tracks() <-chan RemoteTrack { return p.tracks }

// HungUp is closed when the remote side hangs up: it sent an RTCP BYE or
// closed its end of the secure transport. HangUpReason then says why.
func (p *Peer) HungUp() <-chan struct{} { return p.watch.bye }

// HangUpReason returns the reason the remote side's BYE gave (RFC 3550
// §6.6: "reason for leaving"), once HungUp is closed: "" when it gave none
// or closed its transport before a BYE was read, and before HungUp.
func (p *Peer) HangUpReason() string {
	select {
	case <-p.watch.bye:
		return p.watch.reason
	default:
		return ""
	}
}

// Failed is closed when the connection fails: ICE found no path or the
// path was lost for good.
func (p *Peer) Failed() <-chan struct{} { return p.failed }

// Closed is closed when Close (or CloseWith) begins: whatever waits on the
// peer should stop waiting.
func (p *Peer) Closed() <-chan struct{} { return p.closed }

// Offer creates an offer, gathers candidates until gathering completes or
// the gather timeout passes, and returns the offer with every candidate
// gathered so far in it.
func (p *Peer) Offer(ctx context.Context) (webrtc.SessionDescription, error) {
	offer, err := p.pc.CreateOffer(nil)
	if err != nil {
		return webrtc.SessionDescription{}, fmt.Errorf("create offer: %w", err)
	}
	return p.gather(ctx, offer)
}

// Answer applies the remote offer, creates the answer, gathers candidates
// as Offer does and returns the answer with them.
func (p *Peer) Answer(ctx context.Context, offer webrtc.SessionDescription) (webrtc.SessionDescription, error) {
	if err := p.pc.SetRemoteDescription(offer); err != nil {
		return webrtc.SessionDescription{}, fmt.Errorf("apply offer: %w", err)
	}
	if err := p.checkMedia(); err != nil {
		return webrtc.SessionDescription{}, err
	}
	answer, err := p.pc.CreateAnswer(nil)
	if err != nil {
		return webrtc.SessionDescription{}, fmt.Errorf("create answer: %w", err)
	}
	return p.gather(ctx, answer)
}

// Accept applies the remote answer to an offer made by Offer.
func (p *Peer) Accept(answer webrtc.SessionDescription) error {
	if err := p.pc.SetRemoteDescription(answer); err != nil {
		return fmt.Errorf("apply answer: %w", err)
	}
	return p.checkMedia()
}

// DefaultGatherTimeout bounds candidate gathering when Config leaves it
// zero: long enough for a STUN server across the world to answer, short
// enough that an unreachable one does not hold the description back.
const DefaultGatherTimeout = 2500 * time.Millisecond

// ErrNoCommonCodec means the remote side cannot send or receive any of
// the codecs this side has (Config.Codecs) for a kind of track wanted.
var ErrNoCommonCodec = errors.New("no codec in common with the other side")

// checkMedia verifies that every negotiated transceiver of a kind this
// peer sends or receives carries one of its codecs in the directions it
// wants, and that at least one was negotiated. Sound may find no codec
// (the other side has no sound, or Opus at a clock rate other than RFC
// 7587's 48 kHz): the call goes on without it, and SoundRefused says
// what the other side had.
func (p *Peer) checkMedia() error {
	matched := 0
	for _, tr := range p.pc.GetTransceivers() {
		kind := tr.Kind()
		sends := slices.ContainsFunc(p.cfg.Send, func(st SendTrack) bool { return st.Codec.Kind == kind })
		receives := slices.Contains(p.cfg.Receive, kind)
		if !sends && !receives {
			continue
		}
		// A transceiver the remote description left unmatched has no
		// mid; with none matched, the other side offered nothing wanted.
		if tr.Mid() == "" {
			continue
		}
		matched++
		noSend := sends && tr.Sender() != nil && len(tr.Sender().GetParameters().Codecs) == 0
		noRecv := receives && tr.Receiver() != nil && len(tr.Receiver().GetParameters().Codecs) == 0
		switch {
		case (noSend || noRecv) && kind == webrtc.RTPCodecTypeAudio:
			// Sound refused (a stream without sound, a codec p2pcam
			// cannot take): the call goes on without it.
			matched--
			p.mu.Lock()
			p.soundRefused = p.remoteCodec(tr.Mid())
			p.mu.Unlock()
		case noSend || noRecv:
			return fmt.Errorf("%w (%s)", ErrNoCommonCodec, kind)
		}
	}
	if matched == 0 {
		return ErrNoCommonCodec
	}
	return nil
}

// SoundRefused returns the codec of the other side's sound (its rtpmap,
// e.g. "opus/16000/1") and true when the call goes on without sound
// because that codec matched none of this peer's: the other side offered
// sound p2pcam cannot take. A section the other side rejected itself (a
// stream without sound) gives false.
func (p *Peer) SoundRefused() (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.soundRefused, p.soundRefused != ""
}

// remoteCodec is the first codec (its rtpmap without the payload type)
// of the remote description's media section mid, "" when that section
// is rejected (port 0) or names none.
func (p *Peer) remoteCodec(mid string) string {
	parsed := p.remoteSDP()
	if parsed == nil {
		return ""
	}
	for _, md := range parsed.MediaDescriptions {
		if m, _ := md.Attribute("mid"); m != mid || md.MediaName.Port.Value == 0 {
			continue
		}
		if v, ok := md.Attribute("rtpmap"); ok {
			if _, name, ok := strings.Cut(v, " "); ok {
				return name
			}
		}
	}
	return ""
}

// remoteSDP parses the remote description; nil before it is set, or
// when it does not parse. It parses a copy: Unmarshal caches its result
// in the description, which pion's own goroutines read.
func (p *Peer) remoteSDP() *sdp.SessionDescription {
	remote := p.pc.RemoteDescription()
	if remote == nil {
		return nil
	}
	parsed := &sdp.SessionDescription{}
	if err := parsed.UnmarshalString(remote.SDP); err != nil {
		return nil
	}
	return parsed
}

// Incoming lists the tracks the other side said it sends, as negotiated:
// for each media section of its description that sends (RFC 8866 §6.7:
// sendrecv, the default, or sendonly) of a kind this peer receives, the
// codec both agreed on; a codec with no descriptor comes as one with only
// Kind and MimeType set. It is empty before the descriptions are applied.
// The tracks themselves arrive on Tracks when their first packet does.
func (p *Peer) Incoming() []codec.Descriptor {
	parsed := p.remoteSDP()
	if parsed == nil {
		return nil
	}
	sends := map[string]bool{} // by mid
	for _, md := range parsed.MediaDescriptions {
		mid, _ := md.Attribute("mid")
		if md.MediaName.Port.Value == 0 {
			continue
		}
		_, inactive := md.Attribute("inactive")
		_, recvonly := md.Attribute("recvonly")
		sends[mid] = !inactive && !recvonly
	}
	var in []codec.Descriptor
	for _, tr := range p.pc.GetTransceivers() {
		kind := tr.Kind()
		if !sends[tr.Mid()] || tr.Mid() == "" || !slices.Contains(p.cfg.Receive, kind) || tr.Receiver() == nil {
			continue
		}
		cs := tr.Receiver().GetParameters().Codecs
		if len(cs) == 0 {
			continue
		}
		mime := cs[0].MimeType
		if i := slices.IndexFunc(p.cfg.Codecs, func(d codec.Descriptor) bool { return d.Is(mime) }); i >= 0 {
			in = append(in, p.cfg.Codecs[i])
		} else {
			in = append(in, codec.Descriptor{Kind: kind, MimeType: mime})
		}
	}
	return in
}

func (p *Peer) gather(ctx context.Context, sd webrtc.SessionDescription) (webrtc.SessionDescription, error) {
	done := webrtc.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(sd); err != nil {
		return webrtc.SessionDescription{}, fmt.Errorf("apply local description: %w", err)
	}
	t := time.NewTimer(p.cfg.GatherTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		p.log.Debug("gathering deadline passed; sending what was gathered")
	case <-ctx.Done():
		return webrtc.SessionDescription{}, ctx.Err()
	}
	return *p.pc.LocalDescription(), nil
}

// Pair describes the selected ICE candidate pair.
type Pair struct {
	Local, Remote webrtc.ICECandidate
}

// Kind names the pair the way people talk about it: "host/udp",
// "srflx/udp", "relay/udp" (the more remote of the two local/remote types).
func (pr Pair) Kind() string {
	typ := pr.Local.Typ
	if rank(pr.Remote.Typ) > rank(typ) {
		typ = pr.Remote.Typ
	}
	return typ.String() + "/" + pr.Local.Protocol.String()
}

func rank(t webrtc.ICECandidateType) int {
	switch t {
	case webrtc.ICECandidateTypeHost:
		return 0
	case webrtc.ICECandidateTypePrflx:
		return 1
	case webrtc.ICECandidateTypeSrflx:
		return 2
	default:
		return 3
	}
}

// String formats the pair for a status line, addresses as HOST:PORT with
// IPv6 hosts in brackets ([fd00::2]:40574).
func (pr Pair) String() string {
	return fmt.Sprintf("%s %s <-> %s", pr.Kind(), hostPort(pr.Local), hostPort(pr.Remote))
}

func hostPort(c webrtc.ICECandidate) string {
	return net.JoinHostPort(c.Address, strconv.Itoa(int(c.Port)))
}

// SelectedPair returns the candidate pair ICE selected, once connected.
func (p *Peer) SelectedPair() (Pair, bool) {
	sctp := p.pc.SCTP()
	if sctp == nil || sctp.Transport() == nil || sctp.Transport().ICETransport() == nil {
		return Pair{}, false
	}
	cp, err := sctp.Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || cp == nil || cp.Local == nil || cp.Remote == nil {
		return Pair{}, false
	}
	return Pair{Local: *cp.Local, Remote: *cp.Remote}, true
}

// WaitConnected blocks until the connection is up, fails, the remote side
// hangs up, this side closes the peer (ErrClosed), or ctx ends.
func (p *Peer) WaitConnected(ctx context.Context) error {
	select {
	case <-p.connected:
		return nil
	case <-p.failed:
		return ErrICEFailed
	case <-p.watch.bye:
		return ErrHangUp
	case <-p.closed:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// LastHeard returns when a packet (RTP or RTCP) last arrived from the
// remote side: the zero time before the first.
func (p *Peer) LastHeard() time.Time {
	ns := p.watch.heard.Load()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// LocalAddressGone reports the address this side's selected pair sends
// from (a host candidate's, or the base of a server-reflexive one) when
// no interface of this machine has it any more: the network changed here,
// not at the other side. It returns "" while the address is there, or
// when it cannot tell (no pair yet, a relayed pair).
func (p *Peer) LocalAddressGone() string {
	pair, ok := p.SelectedPair()
	if !ok {
		return ""
	}
	base := pair.Local.Address
	switch pair.Local.Typ {
	case webrtc.ICECandidateTypeHost:
	case webrtc.ICECandidateTypeSrflx, webrtc.ICECandidateTypePrflx:
		base = pair.Local.RelatedAddress
	default:
		return ""
	}
	ip := net.ParseIP(base)
	if ip == nil {
		return ""
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return ""
		}
	}
	return base
}

// HeardChecks reports whether an ICE connectivity check (RFC 8445 §7.3)
// has arrived from the remote side on any candidate pair: proof that the
// remote side has applied this side's description and is trying to reach
// it, even while no pair works yet.
func (p *Peer) HeardChecks() bool {
	for _, st := range p.pc.GetStats() {
		if cp, ok := st.(webrtc.ICECandidatePairStats); ok && cp.RequestsReceived > 0 {
			return true
		}
	}
	return false
}

// RequestKeyFrame asks the remote sender for a keyframe with a PLI
// (RFC 4585 §6.3.1).
func (p *Peer) RequestKeyFrame(ssrc uint32) error {
	return p.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
}

// Counters are the RTCP feedback this peer has received (NACKed packets,
// PLIs, FIRs) and sent (NACKed packets, keyframe requests).
type Counters struct {
	NACKs, PLIs, FIRs        uint64
	NACKsSent, KeyFramesSent uint64
}

// FeedbackFor returns the RTCP feedback received and sent so far that
// names the media SSRC ssrc: a local track's for what the remote side
// asked of it, a remote track's for what this side asked.
func (p *Peer) FeedbackFor(ssrc uint32) Counters { return p.watch.countersFor(ssrc) }

// SenderReport is what the latest RTCP sender report (RFC 3550 §6.4.1)
// of a remote stream said: that RTP timestamp RTPTime of its clock was
// NTP on the sender's wall clock. Two streams' reports put both on the
// sender's one clock, which is how a receiver syncs them.
type SenderReport struct {
	NTP      time.Time // the sender's wall clock
	RTPTime  uint32    // the stream's RTP clock at NTP
	Received time.Time // when the report arrived, on this side's clock
	Count    uint64    // the stream's sender reports so far
}

// SenderReportFor returns the latest sender report received for the
// remote stream ssrc, and false before the first.
func (p *Peer) SenderReportFor(ssrc uint32) (SenderReport, bool) { return p.watch.reportFor(ssrc) }

// Feedback returns the RTCP feedback received and sent so far, over all
// tracks.
func (p *Peer) Feedback() Counters {
	return Counters{
		NACKs: p.watch.nacks.Load(), PLIs: p.watch.plis.Load(), FIRs: p.watch.firs.Load(),
		NACKsSent: p.watch.nacksSent.Load(), KeyFramesSent: p.watch.plisSent.Load(),
	}
}

// Stats returns the stats interceptor's getter, or nil before the
// connection is set up.
func (p *Peer) Stats() stats.Getter {
	p.statsMu.Lock()
	defer p.statsMu.Unlock()
	return p.stats
}

// SenderSSRCs returns the SSRCs of the local tracks, in the order of
// Config.Send; empty when not sending.
func (p *Peer) SenderSSRCs() []uint32 {
	return p.senderSSRCs(func(*webrtc.RTPSender) bool { return true })
}

// SenderSSRCsOf is SenderSSRCs of the tracks of one kind (audio or
// video) alone.
func (p *Peer) SenderSSRCsOf(kind webrtc.RTPCodecType) []uint32 {
	return p.senderSSRCs(func(s *webrtc.RTPSender) bool {
		t := s.Track()
		return t != nil && t.Kind() == kind
	})
}

// senderSSRCs returns the SSRCs of the local tracks whose senders keep
// takes, in the order of Config.Send.
func (p *Peer) senderSSRCs(keep func(*webrtc.RTPSender) bool) []uint32 {
	var out []uint32
	for _, s := range p.senders {
		if !keep(s) {
			continue
		}
		for _, enc := range s.GetParameters().Encodings {
			out = append(out, uint32(enc.SSRC))
		}
	}
	return out
}

// DefaultHangUpReason is the reason Close puts in its BYE.
const DefaultHangUpReason = "hang up"

// maxReason is the longest reason a BYE carries: RFC 3550 §6.6 gives it
// one length octet.
const maxReason = 255

// Close is CloseWith(DefaultHangUpReason).
func (p *Peer) Close() error { return p.CloseWith(DefaultHangUpReason) }

// CloseWith says goodbye to the remote side with reason (an RTCP BYE
// naming every stream of the call, so it reaches the remote sender and
// receiver alike, with reason cut to 255 bytes) and closes the connection,
// which closes DTLS with a close_notify alert, then waits for the peer's
// goroutines. The BYE is also sent, best effort, while ICE is
// disconnected or failed: the path may still carry it one way; it is not
// sent once the other side has hung up. Remote
// tracks that arrive once it has begun are ignored. It is idempotent:
// later calls (of Close too) return the first call's error.
func (p *Peer) CloseWith(reason string) error {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closing.Store(true)
		p.mu.Unlock()
		close(p.closed)
		switch p.pc.ConnectionState() {
		case webrtc.PeerConnectionStateConnected, webrtc.PeerConnectionStateDisconnected, webrtc.PeerConnectionStateFailed:
			select {
			case <-p.watch.bye:
				// The other side has hung up: nobody is left to tell.
			default:
				p.sayGoodbye(reason)
			}
		}
		p.est.stop()
		p.closeErr = p.pc.Close()
		p.wg.Wait()
	})
	return p.closeErr
}

// sayGoodbye sends the BYE for CloseWith.
func (p *Peer) sayGoodbye(reason string) {
	sources := p.SenderSSRCs()
	p.mu.Lock()
	sources = append(sources, p.remoteSSR...)
	p.mu.Unlock()
	if len(sources) == 0 {
		return
	}
	if len(reason) > maxReason {
		reason = reason[:maxReason]
	}
	bye := []rtcp.Packet{&rtcp.Goodbye{Sources: sources, Reason: reason}}
	// RTCP rides on UDP: say it twice.
	for range 2 {
		if err := p.pc.WriteRTCP(bye); err != nil {
			p.log.Debug("sending goodbye", "err", err)
		}
	}
	// The other side's pion closes its connection the moment DTLS's
	// close_notify arrives, dropping SRTCP it has not read yet: give the
	// BYE a head start so its reason is read first.
	time.Sleep(byeLead)
}

// byeLead is how long the BYE precedes the DTLS close.
const byeLead = 50 * time.Millisecond
