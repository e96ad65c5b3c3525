// Package serve is p2pcam's one-sender, many-peers mode (offer --serve):
// it encodes one source once and lets any number of viewers watch it with
// no server anywhere. p2pcam itself answers WHEP requests (an HTTP POST of
// an SDP offer, answered with "201 Created" and the SDP answer, RFC 9725's
// exchange as the WHEP draft applies it to playing) and serves a small page
// that plays the stream in any browser.
//
// It sits beside session, below cli: cli builds one Config (the source and
// the same capture.Options a call would open) and serve uses capture and
// peer. The source is opened as a call opens it, through capture's
// context-aware path, in one place (sender.go): waiting for a named pipe's
// writer or a stream's first frame ends with Run's context, so Ctrl-C
// interrupts it; standard input ("-") is read from Source.In; a streamed
// source that reaches its end stops serving cleanly (SourceEnded), as it
// ends a call. The encoder starts with the first viewer that connects, so a
// pipe is not read before someone watches.
//
// The sound (Config.Audio), when there is some, travels beside the video
// as one more shared track, whole to every viewer: the temporal layers
// below thin the video alone, and each viewer's estimate keeps the
// sound's share (capture.AudioShare) on top of its video. The page plays
// it muted at first (browsers autoplay only muted media), with an unmute
// button.
//
// Every viewer gets its own PeerConnection (its own NACK history, keyframe
// requests and congestion control) on the one shared track, and each
// newcomer gets a keyframe. A slow viewer does not slow the others: the
// encoder makes temporal layers (7.5, 15 and 30 fps), its target is the
// upper median of the viewers' estimates, and each viewer is sent the
// layers its own estimate carries, down to 7.5 fps (layers.go,
// policy.go).
// Viewers that leave (DELETE, a hang-up) or vanish (ICE fails) are dropped
// without disturbing the others. With Config.Stats, a JSON line (Snapshot)
// every second gives the encoder's figures and each viewer's, and a final
// line ends the file however serving ends.
//
// Run owns everything it starts: when it returns, the HTTP server, the
// stats loop, every viewer's watch and the source's goroutines have
// ended. It stops in order: no new viewers, the source, then the viewers,
// then the final figures.
//
// Access needs a token: it is the first element of every path, so the page
// URL carries it. It is random for each run unless Config.Token keeps one
// (at least 128 bits, CheckToken). It is checked before anything else
// answers: without it every method and path gets the same 404 page ("this
// link is not valid"), so the routes stay unseen (http.go).
//
// The server is meant to survive being put on the open internet (http.go,
// offer.go, keyframe.go): headers must arrive within 5 s and a whole
// request, body included, within 10 s; an answer is written within 15 s;
// a keep-alive connection idle for 10 s is closed; headers are capped at
// 8 KiB and open connections at 64 (further ones wait in the kernel's
// queue for a slot). An offer must be application/sdp (parsed, not
// prefix-matched), at most 64 KiB, with at most 8 media sections and 40
// candidates. Viewers answered but not yet connected are capped apart
// from watching ones (MaxPending, MaxViewers), and one whose first
// connectivity check has not arrived 5 s after its answer is dropped; a
// DELETE ends its watch at once. Keyframe requests from all viewers
// together force at most one keyframe per 500 ms; one that comes within
// the gap is served at its end. Every answer carries nosniff,
// no-referrer, no-store and frame-ancestors 'none'; the page's
// Content-Security-Policy allows its one inline script and one inline
// style by their SHA-256 hashes, computed from the embedded page.
//
// The page says in words what happens (live; the camera stopped, waiting
// for it to come back; this link is not valid) and starts over by itself
// until the camera is back, so a kept token gives a link that survives
// restarts.
package serve

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/pkg/capture"
	"github.com/p2pcam/p2pcam/pkg/peer"
)

//go:embed page.html
var page []byte

// Config is what a server needs. Zero values are usable defaults except
// Source.
type Config struct {
	// Listener is where WHEP requests and the page are served; Run closes
	// it when it returns.
	Listener net.Listener
	// Token is the secret in every URL; empty draws a random one, and a
	// given one must pass CheckToken.
	Token string

	// Source is what to send; a File source "-" reads Source.In.
	Source capture.Source
	// Capture shapes the video and its encoder, as for a call: size, rate,
	// bitrate ceiling (default 1.5 Mbit/s, which no viewer's congestion
	// controller goes above), speed, camera format.
	Capture capture.Options
	// Audio is the sound to send beside the video (AudioNone, the zero
	// value: none; AudioAuto: the default microphone when there is one),
	// and AudioOptions name its codec (default: the table's default
	// audio codec). Every viewer gets the whole sound: the temporal
	// layers thin the video alone.
	Audio        capture.AudioSource
	AudioOptions capture.AudioOptions

	ICEServers []webrtc.ICEServer
	Interfaces []string
	// MaxViewers bounds how many watch at once (default 16): each costs a
	// PeerConnection and its share of the uplink.
	MaxViewers int
	// MaxPending bounds the viewers answered but not yet connected
	// (default 8), apart from MaxViewers: offers that never connect
	// cannot take the places of viewers who watch.
	MaxPending int
	// Duration ends serving after this long (0: until ctx ends).
	Duration time.Duration

	// Stats, when not nil, receives a JSON line of figures (a Snapshot)
	// every second while serving and a final line however Run ends; the
	// caller opens and closes it.
	Stats io.Writer
	// Events, when not nil, receives what happens as it happens.
	Events func(Event)
	Logger *slog.Logger

	// limits bound HTTP clients (http.go); zero fields are defaults.
	limits limits
	// checkWithin and connectWithin bound a viewer's way in (zero:
	// defaults); tests shorten them.
	checkWithin, connectWithin time.Duration
	// capLayer, when set, gives the highest temporal layer the nth
	// viewer answered (from 0) may get (tests).
	capLayer func(nth int) int
}

// Event is something the server reports: Listening, ViewerJoined,
// ViewerLeft, SourceEnded.
type Event interface{ event() }

// Listening: the server is ready; Page is the viewer page's URL and WHEP
// the endpoint's, both with the token.
type Listening struct{ Page, WHEP string }

// ViewerJoined: a viewer connected, over Pair; Viewers counts them now.
type ViewerJoined struct {
	ID      string
	Pair    peer.Pair
	Viewers int
}

// ViewerLeft: a viewer is gone, for Reason; Viewers counts who is left.
type ViewerLeft struct {
	ID      string
	Reason  string
	Viewers int
}

// SourceEnded: a streamed source (a pipe) reached its end, so serving
// stops and the viewers are hung up on.
type SourceEnded struct{}

func (Listening) event()    {}
func (SourceEnded) event()  {}
func (ViewerJoined) event() {}
func (ViewerLeft) event()   {}

// Errors of Run.
var (
	// ErrNoListener means Config.Listener is nil.
	ErrNoListener = errors.New("serve: no listener")
)

const (
	maxOffer = 64 << 10
	// maxSections and maxCandidates bound an offer: a viewer needs one
	// video section and a handful of candidates, and every remote
	// candidate costs connectivity checks sent where the offer says.
	maxSections   = 8
	maxCandidates = 40
	// checkWithin: a viewer whose first connectivity check (RFC 8445
	// §7.3) has not arrived this long after its answer is dropped; one
	// that checks has connectWithin to connect.
	checkWithin   = 5 * time.Second
	connectWithin = 15 * time.Second
	minBitrate    = 150_000
	// defaultBitrate is the encoder's ceiling when Config.Capture sets
	// none: a call's default.
	defaultBitrate = 1_500_000
)

// Run encodes the source once and serves it to every viewer until ctx ends
// or Duration passes; then it hangs up on every viewer, stops the source
// and returns nil. A streamed source (a pipe, standard input) that reaches
// its end stops serving the same way, after SourceEnded. Run returns early
// with the error when the source cannot be opened (ctx's error, wrapped,
// when ctx ends while it waits for a pipe's writer or first frame) or
// fails. Every goroutine Run starts has ended when it returns.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Listener == nil {
		return ErrNoListener
	}
	defer cfg.Listener.Close()
	if cfg.Events == nil {
		cfg.Events = func(Event) {}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxViewers <= 0 {
		cfg.MaxViewers = 16
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = 8
	}
	if cfg.checkWithin <= 0 {
		cfg.checkWithin = checkWithin
	}
	if cfg.connectWithin <= 0 {
		cfg.connectWithin = connectWithin
	}
	cfg.limits = cfg.limits.orDefault()
	if cfg.Token == "" {
		cfg.Token = NewToken()
	} else if err := CheckToken(cfg.Token); err != nil {
		return err
	}
	if cfg.Capture.Bitrate <= 0 {
		cfg.Capture.Bitrate = defaultBitrate
	}
	src, err := openSender(ctx, cfg.Source, cfg.Capture, cfg.Audio, cfg.AudioOptions)
	if err != nil {
		if cfg.Stats != nil {
			final := Snapshot{Role: "serve", State: "not serving", Viewers: []ViewerSnapshot{}, Final: true, Error: err.Error()}
			if werr := writeJSON(cfg.Stats, final); werr != nil {
				err = errors.Join(err, werr)
			}
		}
		return err
	}
	defer src.close()
	s := &server{cfg: cfg, src: src, policy: pagePolicy(page), bitrate: cfg.Capture.Bitrate, viewers: map[string]*viewer{}}
	return s.run(ctx)
}

// run serves until ctx ends, Duration passes, the source ends or fails,
// or the HTTP server fails; then it stops in order: no new viewers, the
// source, the viewers, and last the final figures.
func (s *server) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if s.cfg.Duration > 0 {
		var cancelTimeout context.CancelFunc
		ctx, cancelTimeout = context.WithTimeout(ctx, s.cfg.Duration)
		defer cancelTimeout()
	}
	s.ctx = ctx

	hs := httpServer(ctx, s.gate(s.routes()), s.cfg.limits, s.cfg.Logger)
	ln := newCapListener(s.cfg.Listener, s.cfg.limits.conns)
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	base := "http://" + s.cfg.Listener.Addr().String() + "/" + s.cfg.Token + "/"
	s.cfg.Events(Listening{Page: base, WHEP: base + "whep"})

	col := newCollector(s)
	statsDone := make(chan error, 1)
	go func() { statsDone <- s.report(ctx, col) }()
	layersDone := make(chan struct{})
	go func() {
		defer close(layersDone)
		s.paceLayers(ctx)
	}()

	var err error
	serving := true
	select {
	case <-ctx.Done():
	case <-s.src.done():
		var ended bool
		if ended, err = s.src.ended(); ended {
			s.cfg.Events(SourceEnded{})
		}
	case serr := <-served:
		err, serving = fmt.Errorf("serve: %w", serr), false
	}

	// Stop taking viewers, and end what waits on ctx: the stats loop,
	// answers being gathered, the viewers' watches.
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	cancel()
	<-layersDone
	serr := <-statsDone
	if s.cfg.Stats != nil {
		col.end()
	}
	sctx, scancel := context.WithTimeout(context.Background(), time.Second)
	if hs.Shutdown(sctx) != nil {
		_ = hs.Close()
	}
	scancel()
	if serving {
		<-served
	}
	// Stop the source, then hang up on the viewers there are.
	_ = s.src.close()
	s.mu.Lock()
	vs := make([]*viewer, 0, len(s.viewers))
	for _, v := range s.viewers {
		vs = append(vs, v)
	}
	s.mu.Unlock()
	for _, v := range vs {
		s.drop(v, "serving stopped")
	}
	s.wg.Wait()
	if err == nil {
		err = serr
	}
	if s.cfg.Stats != nil {
		if werr := writeJSON(s.cfg.Stats, col.final(err)); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

// report takes a Snapshot every second until ctx ends, and writes it to
// Stats when there is one. Taking it also sets the sound's FEC from the
// viewers' receiver reports, so it runs without Stats too.
func (s *server) report(ctx context.Context, col *collector) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			sn := col.snapshot()
			if s.cfg.Stats == nil {
				continue
			}
			if err := writeJSON(s.cfg.Stats, sn); err != nil {
				return err
			}
		}
	}
}

// NewToken returns a random token of 128 bits, lowercase base32.
func NewToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

type server struct {
	cfg    Config
	ctx    context.Context
	src    *sender
	policy string // the page's Content-Security-Policy

	startOnce sync.Once
	wg        sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	viewers map[string]*viewer // viewers with their peer built
	joining int                // viewers whose peer is being built
	seen    int                // viewers that connected, ever
	made    int                // viewers answered, ever
	bitrate int
}

// viewer is one watching PeerConnection. Its fields after p are guarded
// by the server's mu.
type viewer struct {
	id     string
	joined time.Time
	once   sync.Once
	p      *peer.Peer
	thin   *thinTrack   // its binding of the layered video; nil without layers
	layer  atomic.Int32 // the highest temporal layer it is sent
	cap    int          // the highest layer it may be sent (tests)

	target    int       // its congestion controller's latest target, bits/s
	connected bool      // connected, and within MaxViewers
	watching  bool      // connected, and sent frames since
	frames0   uint64    // the frames sent before it was connected
	upSince   time.Time // since when its estimate carries more layers (stepLayer)
}

func (s *server) routes() http.Handler {
	// gate has checked the token, the first element of every path.
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{token}/{$}", s.servePage)
	mux.HandleFunc("POST /{token}/whep", s.serveOffer)
	mux.HandleFunc("OPTIONS /{token}/whep", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Accept-Post", "application/sdp")
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("DELETE /{token}/whep/{id}", s.serveDelete)
	return mux
}

func (s *server) servePage(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", s.policy)
	_, _ = w.Write(page)
}

// serveOffer answers a WHEP offer with a new viewer.
func (s *server) serveOffer(w http.ResponseWriter, r *http.Request) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/sdp" {
		http.Error(w, "the offer must be application/sdp", http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxOffer+1))
	if err != nil || len(body) > maxOffer {
		http.Error(w, "unreadable or oversized offer", http.StatusBadRequest)
		return
	}
	if err := checkOffer(string(body)); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	v, answer, err := s.join(r.Context(), string(body))
	switch {
	case errors.Is(err, errFull), errors.Is(err, errBusy):
		w.Header().Set("Retry-After", "5")
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	case errors.Is(err, errClosed):
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	case err != nil:
		s.cfg.Logger.Debug("viewer offer refused", "err", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/sdp")
	w.Header().Set("Location", "/"+s.cfg.Token+"/whep/"+v.id)
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, answer.SDP)
}

func (s *server) serveDelete(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	v := s.viewers[r.PathValue("id")]
	s.mu.Unlock()
	if v == nil {
		http.NotFound(w, r)
		return
	}
	s.drop(v, "it hung up")
	w.WriteHeader(http.StatusOK)
}

var (
	errFull   = errors.New("too many viewers")
	errBusy   = errors.New("too many viewers connecting at once; try again in a few seconds")
	errClosed = errors.New("no longer serving")
)

// watchingLocked counts the viewers that connected; s.mu is held.
func (s *server) watchingLocked() int {
	n := 0
	for _, v := range s.viewers {
		if v.connected {
			n++
		}
	}
	return n
}

// join makes a viewer of a WHEP offer and returns its answer, with every
// candidate in it. The viewer enters the map only with its peer built, so
// that stopping never meets a half-made viewer; until then it holds a
// place in joining.
func (s *server) join(ctx context.Context, offerSDP string) (*viewer, webrtc.SessionDescription, error) {
	var none webrtc.SessionDescription
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return nil, none, errClosed
	case s.watchingLocked() >= s.cfg.MaxViewers:
		s.mu.Unlock()
		return nil, none, errFull
	case len(s.viewers)-s.watchingLocked()+s.joining >= s.cfg.MaxPending:
		s.mu.Unlock()
		return nil, none, errBusy
	}
	s.joining++
	s.wg.Add(1)
	s.mu.Unlock()

	v := &viewer{id: NewToken()[:12], joined: time.Now(), target: s.bitrate, cap: serveLayers - 1}
	if s.cfg.capLayer != nil {
		s.mu.Lock()
		v.cap = s.cfg.capLayer(s.made)
		s.made++
		s.mu.Unlock()
	}
	if s.src.layers != nil {
		v.layer.Store(int32(v.cap))
	}
	p, answer, err := s.answer(ctx, v, offerSDP)
	s.mu.Lock()
	s.joining--
	if err == nil && s.closed {
		_ = p.Close()
		err = errClosed
	}
	if err != nil {
		s.mu.Unlock()
		s.wg.Done()
		return nil, none, err
	}
	v.p = p
	s.viewers[v.id] = v
	s.mu.Unlock()
	go s.watch(v)
	return v, answer, nil
}

// answer builds v's peer on the shared track and answers the offer.
func (s *server) answer(ctx context.Context, v *viewer, offerSDP string) (*peer.Peer, webrtc.SessionDescription, error) {
	p, err := peer.New(peer.Config{
		ICEServers:       s.cfg.ICEServers,
		Interfaces:       s.cfg.Interfaces,
		Send:             s.src.tracks(v),
		ICEFailedTimeout: s.cfg.connectWithin,
		// The viewer's estimate carries the sound's share on top of the
		// video's; the policy counts the video alone.
		Congestion: &peer.Congestion{
			Initial: s.bitrate + s.src.audio, Min: min(minBitrate, s.bitrate) + s.src.audio, Max: s.bitrate + s.src.audio,
			OnTarget: func(bps int) { s.setTarget(v, max(bps-s.src.audio, 0)) },
		},
		Logger: s.cfg.Logger.With("viewer", v.id),
	})
	if err != nil {
		return nil, webrtc.SessionDescription{}, err
	}
	answer, err := p.Answer(ctx, webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offerSDP})
	if err != nil {
		_ = p.Close()
		return nil, webrtc.SessionDescription{}, err
	}
	return p, answer, nil
}

// watch follows a viewer from its answer to its end. A viewer that sends
// no connectivity check within checkWithin of its answer, or does not
// connect within connectWithin, is dropped; so is one whose peer closes
// (a DELETE) while it connects. A viewer dropped by a DELETE while it
// watches ends its watch at once.
func (s *server) watch(v *viewer) {
	defer s.wg.Done()
	if reason := s.waitConnected(v); reason != "" {
		if s.ctx.Err() == nil {
			s.drop(v, reason)
		}
		return
	}
	s.mu.Lock()
	if s.viewers[v.id] != v {
		// Dropped (a DELETE) as it connected: it has been reported gone.
		s.mu.Unlock()
		return
	}
	if s.watchingLocked() >= s.cfg.MaxViewers {
		s.mu.Unlock()
		s.drop(v, errFull.Error())
		return
	}
	v.connected = true
	s.mu.Unlock()
	// The encoder starts with the first viewer; each newcomer needs a
	// keyframe to start from.
	started := false
	s.startOnce.Do(func() { started = s.src.start() == nil })
	if !started {
		s.src.keyFrame()
	}
	pair, _ := v.p.SelectedPair()
	s.mu.Lock()
	v.watching, v.frames0 = true, s.src.framesSent()
	s.seen++
	n := len(s.viewers)
	s.mu.Unlock()
	s.cfg.Events(ViewerJoined{ID: v.id, Pair: pair, Viewers: n})
	select {
	case <-v.p.HungUp():
		s.drop(v, "it hung up")
	case <-v.p.Failed():
		s.drop(v, "it stopped answering")
	case <-v.p.Closed():
		// Dropped from here (a DELETE): the peer closed by this side
		// reports neither a hang-up nor a failure, and drop has run.
	case <-s.ctx.Done():
	}
}

// waitConnected waits for v to connect, and returns why it did not: ""
// when it did.
func (s *server) waitConnected(v *viewer) string {
	cctx, cancel := context.WithTimeout(s.ctx, s.cfg.connectWithin)
	defer cancel()
	waited := make(chan error, 1)
	go func() { waited <- v.p.WaitConnected(cctx) }()
	checkBy := time.NewTimer(s.cfg.checkWithin)
	defer checkBy.Stop()
	poll := time.NewTicker(100 * time.Millisecond)
	defer poll.Stop()
	checked := false
	for {
		select {
		case err := <-waited:
			if err != nil {
				return "it never connected"
			}
			return ""
		case <-poll.C:
			if !checked && v.p.HeardChecks() {
				checked = true
				poll.Stop()
			}
		case <-checkBy.C:
			if !checked && !v.p.HeardChecks() {
				cancel()
				<-waited
				return "it never tried to connect"
			}
		}
	}
}

// drop hangs up on v, once, and reports it gone.
func (s *server) drop(v *viewer, reason string) {
	v.once.Do(func() {
		_ = v.p.Close()
		n := s.forget(v)
		s.cfg.Events(ViewerLeft{ID: v.id, Reason: reason, Viewers: n})
	})
}

// forget removes v and sets the encoder to what the rest can take.
func (s *server) forget(v *viewer) int {
	s.mu.Lock()
	delete(s.viewers, v.id)
	n := len(s.viewers)
	s.mu.Unlock()
	s.retarget()
	return n
}

func (s *server) setTarget(v *viewer, bps int) {
	s.mu.Lock()
	v.target = bps
	s.mu.Unlock()
	s.retarget()
}

// paceLayers re-reads the viewers' estimates a few times per upHold until
// ctx ends, so that a viewer whose estimate no longer changes still climbs
// to the layers it carries.
func (s *server) paceLayers(ctx context.Context) {
	if s.src.layers == nil {
		return
	}
	t := time.NewTicker(upHold / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.retarget()
		}
	}
}

// retarget sets the encoder's target from the connected viewers'
// estimates and each viewer's layer from its own (policy.go).
func (s *server) retarget() {
	share := s.src.share()
	s.mu.Lock()
	var targets []int
	for _, v := range s.viewers {
		if v.connected {
			targets = append(targets, v.target)
		}
	}
	target := encoderTarget(targets, s.bitrate)
	if len(share) == 1 { // no layers to thin: everyone gets what the slowest can take
		target = slices.Min(append(targets, s.bitrate))
	}
	now := time.Now()
	for _, v := range s.viewers {
		l, since := nextLayer(now, int(v.layer.Load()), v.cap, v.target, target, share, v.upSince)
		v.layer.Store(int32(l))
		v.upSince = since
	}
	s.mu.Unlock()
	s.src.setBitRate(target)
}
