// Package serve lets many viewers watch one camera with no server
// anywhere: p2pcam itself answers WHEP requests (an HTTP POST of an SDP
// offer, answered with "201 Created" and the SDP answer, RFC 9725's
// exchange as the WHEP draft applies it to playing) and serves a small page
// that plays the stream in any browser.
//
// The camera is encoded once. Every viewer gets its own PeerConnection
// (its own NACK history, keyframe requests and congestion control) on the
// same track; the encoder's target follows the slowest viewer. Viewers
// that leave (DELETE, a hang-up) or vanish (ICE fails) are dropped without
// disturbing the others.
//
// Access needs a random token: it is the first element of every path, so
// the page URL carries it and anyone on the network without it gets 404.
package serve

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/pkg/capture"
	"github.com/p2pcam/p2pcam/pkg/codec"
	"github.com/p2pcam/p2pcam/pkg/codecs"
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
	// Token is the secret in every URL; empty draws a random one.
	Token string

	Source  capture.Source
	Width   int
	Height  int
	FPS     float64
	Bitrate int // the encoder's ceiling, bits per second
	CPUUsed int

	ICEServers []webrtc.ICEServer
	Interfaces []string
	// MaxViewers bounds how many watch at once (default 16): each costs a
	// PeerConnection and its share of the uplink.
	MaxViewers int
	// Duration ends serving after this long (0: until ctx ends).
	Duration time.Duration

	// Events, when not nil, receives what happens as it happens.
	Events func(Event)
	Logger *slog.Logger
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
	maxOffer      = 64 << 10
	connectWithin = 15 * time.Second // a viewer's ICE has this long to connect
	minBitrate    = 150_000
)

// Run encodes the source once and serves it to every viewer until ctx ends
// or Duration passes; then it hangs up on every viewer, stops the source
// and returns nil. It returns early with the error when the source fails.
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
	if cfg.Token == "" {
		cfg.Token = NewToken()
	}
	video, _ := codecs.Default(codec.Video)
	track, err := capture.Open(cfg.Source, capture.Options{
		Width: cfg.Width, Height: cfg.Height, FPS: cfg.FPS, Bitrate: cfg.Bitrate, Speed: cfg.CPUUsed, Codec: video,
	})
	if err != nil {
		return fmt.Errorf("open source %s: %w", cfg.Source, err)
	}
	defer track.Close()
	s := &server{cfg: cfg, track: track, viewers: map[string]*viewer{}}
	if s.bitrate = cfg.Bitrate; s.bitrate <= 0 {
		s.bitrate = 1_500_000
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if cfg.Duration > 0 {
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	s.ctx = ctx

	hs := &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(cfg.Listener) }()
	base := "http://" + cfg.Listener.Addr().String() + "/" + cfg.Token + "/"
	cfg.Events(Listening{Page: base, WHEP: base + "whep"})

	select {
	case <-ctx.Done():
	case <-track.Done():
		// A streamed source (a pipe) that reaches its end ends the
		// serving cleanly, as it ends a call.
		switch err = track.Err(); {
		case errors.Is(err, capture.ErrSourceEnded):
			err = nil
			cfg.Events(SourceEnded{})
		case err == nil:
			err = fmt.Errorf("video source failed: %w", errors.New("the video source stopped"))
		default:
			err = fmt.Errorf("video source failed: %w", err)
		}
	case serr := <-served:
		err = fmt.Errorf("serve: %w", serr)
	}
	// Stop taking viewers, then hang up on those there are.
	sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
	_ = hs.Shutdown(sctx)
	scancel()
	s.mu.Lock()
	s.closed = true
	vs := make([]*viewer, 0, len(s.viewers))
	for _, v := range s.viewers {
		vs = append(vs, v)
	}
	s.mu.Unlock()
	for _, v := range vs {
		s.drop(v, "serving stopped")
	}
	// The viewers' goroutines wait on s.ctx too: end it, or a source
	// that stops first would leave Run waiting on them for ever.
	cancel()
	s.wg.Wait()
	return err
}

// NewToken returns a random token of 128 bits, lowercase base32.
func NewToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

type server struct {
	cfg   Config
	ctx   context.Context
	track *capture.Track

	startOnce sync.Once
	wg        sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	viewers map[string]*viewer // viewers with their peer built
	joining int                // viewers whose peer is being built
	bitrate int
}

// viewer is one watching PeerConnection.
type viewer struct {
	id     string
	p      *peer.Peer
	target int // its congestion controller's latest target, bits/s
	once   sync.Once
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{token}/{$}", s.authorized(s.servePage))
	mux.HandleFunc("POST /{token}/whep", s.authorized(s.serveOffer))
	mux.HandleFunc("OPTIONS /{token}/whep", s.authorized(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Accept-Post", "application/sdp")
		w.WriteHeader(http.StatusNoContent)
	}))
	mux.HandleFunc("DELETE /{token}/whep/{id}", s.authorized(s.serveDelete))
	return mux
}

// authorized lets a request through only with the token in its path.
func (s *server) authorized(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.PathValue("token")), []byte(s.cfg.Token)) != 1 {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	}
}

func (s *server) servePage(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	_, _ = w.Write(page)
}

// serveOffer answers a WHEP offer with a new viewer.
func (s *server) serveOffer(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/sdp") {
		http.Error(w, "the offer must be application/sdp", http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxOffer+1))
	if err != nil || len(body) > maxOffer {
		http.Error(w, "unreadable or oversized offer", http.StatusBadRequest)
		return
	}
	v, answer, err := s.join(r.Context(), string(body))
	switch {
	case errors.Is(err, errFull):
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
	errClosed = errors.New("no longer serving")
)

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
	case len(s.viewers)+s.joining >= s.cfg.MaxViewers:
		s.mu.Unlock()
		return nil, none, errFull
	}
	s.joining++
	s.wg.Add(1)
	s.mu.Unlock()

	v := &viewer{id: NewToken()[:12], target: s.bitrate}
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
		Send:             []peer.SendTrack{{Track: s.track, Codec: s.track.Codec(), OnKeyFrameRequest: s.track.ForceKeyFrame}},
		ICEFailedTimeout: connectWithin,
		Congestion: &peer.Congestion{
			Initial: s.bitrate, Min: min(minBitrate, s.bitrate), Max: s.bitrate,
			OnTarget: func(bps int) { s.setTarget(v, bps) },
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

// watch follows a viewer from its answer to its end.
func (s *server) watch(v *viewer) {
	defer s.wg.Done()
	cctx, cancel := context.WithTimeout(s.ctx, connectWithin)
	err := v.p.WaitConnected(cctx)
	cancel()
	if err != nil {
		s.drop(v, "it never connected")
		return
	}
	// The encoder starts with the first viewer; each newcomer needs a
	// keyframe to start from.
	started := false
	s.startOnce.Do(func() { started = s.track.Start() == nil })
	if !started {
		s.track.ForceKeyFrame()
	}
	pair, _ := v.p.SelectedPair()
	s.mu.Lock()
	n := len(s.viewers)
	s.mu.Unlock()
	s.cfg.Events(ViewerJoined{ID: v.id, Pair: pair, Viewers: n})
	select {
	case <-v.p.HungUp():
		s.drop(v, "it hung up")
	case <-v.p.Failed():
		s.drop(v, "it stopped answering")
	case <-s.ctx.Done():
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

// retarget sets the encoder's target to the slowest viewer's.
func (s *server) retarget() {
	s.mu.Lock()
	target := s.bitrate
	for _, v := range s.viewers {
		target = min(target, v.target)
	}
	s.mu.Unlock()
	s.track.SetBitRate(target)
}
