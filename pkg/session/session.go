// Package session runs one p2pcam call from start to end: it opens the
// sources through capture's Sender (the send pipeline every mode shares),
// builds the peer with a list of tracks each way (the video source and
// the sound out, and whatever the other side sends in), lets a Signaler carry the
// two session descriptions between the sides, records what arrives,
// reports figures, and shuts everything down in order (source, peer,
// recording) however the call ends.
//
// Codecs come from the caller as descriptors (package codecs is the
// table); the session names none. It records every track the other
// side says it sends (peer's Incoming) into one file: WebM holds them
// all, IVF the video alone. A call offers sound only when it sends some,
// so a call without sound describes itself as it always did.
//
// Events reach Config.Events from one goroutine, one at a time and in
// order (emitter.go); Run returns once the last has been handled.
//
// A session knows nothing of how the descriptions travel (a person pasting
// blobs, an HTTP request to a media server) and speaks no words to a
// person: it returns typed errors and reports Events, and the caller turns
// both into messages. What happens once the descriptions have met is the
// same for every way of signaling.
package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/pkg/capture"
	"github.com/p2pcam/p2pcam/pkg/codec"
	"github.com/p2pcam/p2pcam/pkg/codecs"
	"github.com/p2pcam/p2pcam/pkg/peer"
	"github.com/p2pcam/p2pcam/signal"
)

// OfferSignaler carries an offering side's description to the other side
// and brings back the answer.
type OfferSignaler interface {
	// ExchangeOffer delivers offer (with every candidate gathered) and
	// returns the other side's answer. It returns ctx.Err() when ctx ends
	// first.
	ExchangeOffer(ctx context.Context, offer webrtc.SessionDescription) (webrtc.SessionDescription, error)
}

// AnswerSignaler brings an answering side the other side's offer and
// carries the answer back.
type AnswerSignaler interface {
	// ExchangeAnswer obtains the offer, turns it into this side's answer
	// with makeAnswer (which gathers every candidate into it), delivers the
	// answer and returns. It returns makeAnswer's error unchanged, and
	// ctx.Err() when ctx ends first.
	ExchangeAnswer(ctx context.Context, makeAnswer func(context.Context, webrtc.SessionDescription) (webrtc.SessionDescription, error)) error
	// AnswerWindow is how long the other side may take, after
	// ExchangeAnswer returned, to apply the answer: the time a person has
	// to paste it, or 0 when a machine applies it at once. The session
	// waits this long on top of the connect timeout.
	AnswerWindow() time.Duration
}

// Role says which side of the offer/answer exchange a session takes.
type Role int

// Roles.
const (
	Offerer Role = iota
	Answerer
)

func (r Role) String() string {
	if r == Answerer {
		return "answer"
	}
	return "offer"
}

// Defaults for the zero fields of Config; the command line shows the same.
const (
	DefaultWidth          = 640
	DefaultHeight         = 480
	DefaultFPS            = 30
	DefaultBitrate        = 1_500_000
	DefaultConnectTimeout = 30 * time.Second
	// DefaultSilence is how long a connected call may hear nothing from
	// the other side before it ends: RFC 7675's consent freshness lets 30 s
	// of unanswered checks pass before a path is given up.
	DefaultSilence = 30 * time.Second
)

// Config is everything a session needs. The zero value of each field is a
// usable default except the signaler, Source and Output, which the caller
// decides.
type Config struct {
	// Exactly one of Offer and Answer is set: it is how this side meets
	// the other, and says which side of the exchange it takes.
	Offer  OfferSignaler
	Answer AnswerSignaler

	Source capture.Source
	// Audio is the sound to send beside the video (the zero value sends
	// none), encoded with the first audio codec of Codecs. AudioAuto
	// sends the default microphone when there is one and no sound,
	// silently, when there is not.
	Audio capture.AudioSource
	// AudioNoFEC turns the sound's in-band FEC off (a test knob, for
	// measuring what FEC buys under loss).
	AudioNoFEC bool
	Width      int
	Height     int
	FPS        float64
	Bitrate    int // bits per second: the ceiling congestion control works under
	// Speed is the video encoder's speed/quality knob (the codec's own
	// scale, codec.EncoderParams); 0 is the codec's default.
	Speed int
	// CameraFormat, when set, is the only pixel format a camera is opened
	// in (capture.Options.CameraFormat).
	CameraFormat string

	// Codecs are the codecs this side offers and accepts, preferred first
	// within each kind; the first video codec encodes the Source. Empty
	// means every codec p2pcam has (codecs.All).
	Codecs []codec.Descriptor

	// Output is a path ending in .webm or .ivf, "-" for WebM on OutputTo,
	// or "" for no recording. The file is created before anything else,
	// so that a place it cannot be written fails the call at once; an
	// existing file is an error (ErrOutputExists) unless Overwrite.
	Output    string
	OutputTo  io.Writer
	Overwrite bool

	ICEServers []webrtc.ICEServer
	Interfaces []string

	Duration       time.Duration // stream this long after connecting; 0 = until stopped
	ConnectTimeout time.Duration // after the descriptions met; default DefaultConnectTimeout
	// Silence ends a connected call when no packet has come from the other
	// side for this long (default DefaultSilence): the same rule on both
	// sides and for every way of signaling.
	Silence       time.Duration
	GatherTimeout time.Duration // 0: the peer's default

	// Stats, when not nil, receives JSON lines of figures every second and
	// a final line; the caller opens and closes it.
	Stats io.Writer
	// Measure decodes the received video and measures glass-to-glass
	// latency, lost and frozen frames and PSNR against p2pcam's synthetic
	// pattern (the other side must send it).
	Measure bool

	// View, when not nil, opens a viewer once the call is up, which is
	// then shown every frame received as it arrives (with or without an
	// Output), and, when it is a Speaker, handed the first audio track's
	// packets. A viewer that ends by itself ends the call: closed by the
	// person (EndViewerClosed) or failed (ErrViewer).
	View func(call ViewCall) (Viewer, error)

	// Events, when not nil, receives what happens as it happens: from one
	// goroutine, one event at a time, in order; all of them before Run
	// returns.
	Events func(Event)
}

// ViewCall says which call a viewer shows, for its title.
type ViewCall struct {
	Role  Role
	Pair  peer.Pair
	Known bool   // Pair is known
	Code  string // the verification code, "" when none could be derived
}

// Viewer shows received video to a person (package view's Window).
type Viewer interface {
	// Frame shows one frame of received video; it is called on the
	// receiving goroutine for every frame recorded, must not block, and
	// does not keep data.
	Frame(data []byte, keyFrame bool)
	// Done is closed when the viewer has ended.
	Done() <-chan struct{}
	// Err says why the viewer failed once Done is closed; nil when the
	// person closed it.
	Err() error
	// Close ends the viewer and waits for it; it may be called twice.
	Close() error
}

// Speaker is a Viewer that also plays the call's sound (package view's
// Window). When the viewer is one, it is handed every packet of the
// first remote audio track as it arrives, in arrival order: the packet's
// payload in codec c, with its RTP timestamp. Audio is called on that
// track's receiving goroutine, must not block, and does not keep packet.
type Speaker interface {
	Audio(c codec.Descriptor, packet []byte, rtpTimestamp uint32)
}

// Syncer is a Viewer that shows each picture with its sound by the
// sender's clock (package view's Window). When the viewer is one, each
// video frame comes to FrameAt, with its RTP timestamp, instead of Frame,
// and the latest RTCP sender report of the video and of the heard audio
// track comes to SenderReport as each arrives: RTP timestamp rtpTime of
// the stream's clock (clockRate ticks a second) was ntp on the sender's
// wall clock. Both are called on receiving goroutines and must not block.
type Syncer interface {
	FrameAt(data []byte, keyFrame bool, rtpTimestamp uint32)
	SenderReport(kind codec.Kind, ntp time.Time, rtpTime, clockRate uint32)
}

// Role returns the side of the exchange the configuration takes.
func (c *Config) Role() Role {
	if c.Answer != nil {
		return Answerer
	}
	return Offerer
}

// Result summarizes a finished session.
type Result struct {
	Connected   bool
	Pair        string
	FramesSent  uint64
	FramesRecv  uint64
	Output      string
	FirstFrame  time.Duration // from connecting to the first frame written
	Interrupted bool
}

// minBitrate is the floor congestion control keeps the video above: below
// it video at any useful size is mush, and a link that cannot carry it cannot
// carry a call.
const minBitrate = 150_000

// Errors a caller can turn into advice.
var (
	// ErrNoSignaler means the Config has neither an Offer nor an Answer
	// signaler, or both.
	ErrNoSignaler = errors.New("session: set exactly one of Config.Offer and Config.Answer")
	// ErrNothingToDo means there is no source to send and no output to
	// record.
	ErrNothingToDo = errors.New("nothing to do: no video to send and none to record")
	// ErrOutputExists means the output file exists and Overwrite is off.
	ErrOutputExists = errors.New("the output file exists")
	// ErrConnectTimeout means no connection was made in time.
	ErrConnectTimeout = errors.New("no connection")
	// ErrSourceFailed means the camera or file stopped delivering frames
	// during the call.
	ErrSourceFailed = errors.New("video source failed")
	// ErrSoundFailed means the sound source (a microphone) stopped during
	// a call that sent sound alone and received nothing, so that nothing
	// was left to do. A call with video, or one that also receives, goes
	// on without sound instead (SoundStopped).
	ErrSoundFailed = errors.New("sound source failed")
	// ErrConnectionLost means the connection failed after it was up: the
	// other side stopped answering.
	ErrConnectionLost = errors.New("connection lost: the other side stopped answering")
	// ErrRecording means writing the received video failed (a full disk,
	// a closed pipe); the call ends with it.
	ErrRecording = errors.New("recording failed")
	// ErrViewer means the viewer of the received video failed.
	ErrViewer = errors.New("the viewer failed")
	// ErrInterrupted means the context was cancelled before the call
	// connected.
	ErrInterrupted = errors.New("interrupted before connecting")
)

// SilenceError means a connected call ended because nothing came from the
// other side for For: its machine or its network is gone.
type SilenceError struct {
	For time.Duration
	// Gone is this machine's address the call used, when it went away
	// meanwhile: then the network changed here, not at the other side.
	Gone string
}

func (e *SilenceError) Error() string {
	if e.Gone != "" {
		return fmt.Sprintf("no packets from the other side for %s: this machine's address %s went away (its network changed here)", e.For.Round(time.Second), e.Gone)
	}
	return fmt.Sprintf("no packets from the other side for %s: its machine or network is gone", e.For.Round(time.Second))
}

// ConnectTimeoutError is ErrConnectTimeout with what was waited for.
type ConnectTimeoutError struct {
	Waited time.Duration // the whole wait, window included
	Window time.Duration // the part granted to the other side to apply this side's description
	Heard  bool          // the other side's connectivity checks arrived: it had applied this side's description
	Err    error         // the peer's own reason, when it gave one
}

func (e *ConnectTimeoutError) Error() string {
	s := fmt.Sprintf("%s within %s", ErrConnectTimeout, e.Waited.Round(time.Second))
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is makes errors.Is(err, ErrConnectTimeout) hold.
func (e *ConnectTimeoutError) Is(target error) bool { return target == ErrConnectTimeout }

// SenderConfig is what the call sends, as the sender pipeline takes it:
// the source, shaped by Width, Height, FPS, Bitrate, Speed and
// CameraFormat, encoded with the first video codec of Codecs that has an
// encoder, and the sound (Audio) encoded with the first audio codec of
// Codecs that has one. Every mode that sends (a call, WHIP, --serve) opens
// its sources with it, so that they cannot drift apart. Unset fields take
// the same defaults Run gives them.
func (c Config) SenderConfig() (capture.SenderConfig, error) {
	c.defaults()
	sc := capture.SenderConfig{Video: c.Source, Audio: c.Audio}
	if c.Source.Kind != capture.None {
		i := slices.IndexFunc(c.Codecs, func(d codec.Descriptor) bool { return d.Kind == codec.Video && d.NewVideoEncoder != nil })
		if i < 0 {
			return capture.SenderConfig{}, fmt.Errorf("open source %s: %w: no video codec among Config.Codecs", c.Source, capture.ErrNoEncoder)
		}
		sc.VideoOptions = capture.Options{
			Width: c.Width, Height: c.Height, FPS: c.FPS,
			Bitrate: c.Bitrate, Speed: c.Speed, CameraFormat: c.CameraFormat,
			Codec: c.Codecs[i],
		}
	}
	if c.Audio.Kind != capture.AudioNone {
		i := slices.IndexFunc(c.Codecs, func(d codec.Descriptor) bool { return d.Kind == codec.Audio && d.NewAudioEncoder != nil })
		switch {
		case i >= 0:
			sc.AudioOptions = capture.AudioOptions{Codec: c.Codecs[i], NoFEC: c.AudioNoFEC}
		case c.Audio.Kind == capture.AudioAuto:
			sc.Audio = capture.AudioSource{}
		default:
			return capture.SenderConfig{}, fmt.Errorf("open sound source %s: %w: no audio codec among Config.Codecs", c.Audio, capture.ErrNoAudioEncoder)
		}
	}
	return sc, nil
}

// Unwrap returns the peer's reason.
func (e *ConnectTimeoutError) Unwrap() error { return e.Err }

func (c *Config) defaults() {
	if c.Width == 0 {
		c.Width = DefaultWidth
	}
	if c.Height == 0 {
		c.Height = DefaultHeight
	}
	if c.FPS == 0 && c.Source.Kind != capture.File { // a file plays at its own rate
		c.FPS = DefaultFPS
	}
	if c.Bitrate == 0 {
		c.Bitrate = DefaultBitrate
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.Silence == 0 {
		c.Silence = DefaultSilence
	}
	if c.Events == nil {
		c.Events = func(Event) {}
	}
	if len(c.Codecs) == 0 {
		c.Codecs = codecs.All()
	}
}

// Run runs one session until it ends: the context is cancelled (Ctrl-C),
// the duration passes, the other side hangs up, or something fails. A
// cancelled context after connecting is a normal end, not an error; before
// connecting it is ErrInterrupted (or the context's error, from the
// signaler).
func Run(ctx context.Context, cfg Config, log *slog.Logger) (Result, error) {
	if (cfg.Offer == nil) == (cfg.Answer == nil) {
		return Result{}, ErrNoSignaler
	}
	cfg.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	events := newEmitter(cfg.Events)
	defer events.close()
	s := &session{cfg: cfg, log: log, emit: events.emit}
	res, err := s.run(ctx)
	// The stats always end with a final line, also for a call that never
	// connected: with the reason.
	if cfg.Stats != nil && !s.finalWritten {
		final := Snapshot{Role: cfg.Role().String(), State: "not connected", Final: true}
		if err != nil {
			final.Error = err.Error()
		}
		if werr := writeJSON(cfg.Stats, final); werr != nil && err == nil {
			err = fmt.Errorf("write stats: %w", werr)
		}
	}
	return res, err
}

type session struct {
	cfg  Config
	log  *slog.Logger
	emit func(Event)

	res          Result
	ended        EndReason // why stream ended without an error
	outFile      *os.File  // the output file, until the receiver takes it
	viewer       Viewer    // the viewer, once open
	finalWritten bool      // the final stats line is out
}

func (s *session) run(ctx context.Context) (Result, error) {
	if err := s.createOutput(); err != nil {
		return s.res, err
	}
	defer s.dropUnusedOutput()
	var snd *capture.Sender
	if s.cfg.Source.Kind != capture.None || s.cfg.Audio.Kind != capture.AudioNone {
		sc, err := s.cfg.SenderConfig()
		if err != nil {
			return s.res, err
		}
		snd, err = capture.OpenSender(ctx, sc)
		switch {
		case err != nil && s.cfg.Source.Kind == capture.None && sc.Audio.Kind != capture.AudioMic && errors.Is(err, capture.ErrNothingToSend):
			// --audio auto found no microphone, and there is no video.
			snd = nil
		case err != nil:
			return s.res, err
		default:
			if name, mode, ok := snd.CameraMode(); ok {
				s.emit(CameraOpened{Name: name, Mode: mode})
			}
			if m, ok := snd.Microphone(); ok {
				s.emit(MicrophoneOpened{Mic: m})
			}
			if why := snd.AudioSkipped(); why != nil {
				s.log.Debug("sending no sound", "audio", s.cfg.Audio.String(), "why", why)
			}
			defer snd.Close()
		}
	}
	receive := s.cfg.Output != "" || s.cfg.View != nil
	if snd == nil && !receive {
		return s.res, ErrNothingToDo
	}
	window := time.Duration(0)
	if s.cfg.Answer != nil {
		window = s.cfg.Answer.AnswerWindow()
	}
	pcfg := peer.Config{
		ICEServers:    s.cfg.ICEServers,
		Interfaces:    s.cfg.Interfaces,
		Codecs:        s.cfg.Codecs,
		GatherTimeout: s.cfg.GatherTimeout,
		// Keep checking while the other side applies the answer: pion
		// would give up after 30 s.
		ICEFailedTimeout: window + s.cfg.ConnectTimeout,
		Logger:           s.log,
	}
	if receive {
		// Video, and sound when this side sends some (its section then
		// goes both ways), sends nothing (a player, as with WHEP: it
		// takes whatever the other side has), or answers (an answer can
		// only take up the sections the offer has). An offering side
		// that sends video without sound asks for none, so that a call
		// without sound describes itself as before.
		pcfg.Receive = []codec.Kind{codec.Video}
		hasAudio := slices.ContainsFunc(s.cfg.Codecs, func(d codec.Descriptor) bool { return d.Kind == codec.Audio })
		if hasAudio && (snd == nil || snd.Audio() != nil || s.cfg.Answer != nil) {
			pcfg.Receive = append(pcfg.Receive, codec.Audio)
		}
	}
	if snd != nil {
		for _, t := range snd.Tracks() {
			pcfg.Send = append(pcfg.Send, peer.SendTrack{Track: t, Codec: t.Codec(), OnKeyFrameRequest: t.ForceKeyFrame, CaptureLag: t.CaptureLag})
		}
		// Start at the ceiling and let congestion control back off; the
		// sender shares the target among its tracks, sound first (on top
		// of the video's ceiling).
		ceiling := s.cfg.Bitrate
		if snd.Audio() != nil {
			ceiling += capture.AudioShare
		}
		pcfg.Congestion = &peer.Congestion{
			Initial: ceiling, Min: min(minBitrate, s.cfg.Bitrate), Max: ceiling,
			OnTarget: snd.SetBitRate,
		}
	}
	p, err := peer.New(pcfg)
	if err != nil {
		return s.res, err
	}
	defer p.Close()

	if err := s.negotiate(ctx, p); err != nil {
		return s.res, s.beforeConnect(ctx, err)
	}
	if c, ok := p.SoundRefused(); ok {
		s.emit(SoundRefused{Codec: c})
	}
	if err := s.connect(ctx, p, window); err != nil {
		return s.res, s.beforeConnect(ctx, err)
	}

	if snd != nil {
		// Encoding starts now, so the first frame sent is a keyframe.
		if err := snd.Start(); err != nil {
			return s.res, err
		}
	}
	code := s.verificationCode(p)
	if s.cfg.View != nil {
		pair, known := p.SelectedPair()
		v, err := s.cfg.View(ViewCall{Role: s.cfg.Role(), Pair: pair, Known: known, Code: code})
		if err != nil {
			return s.res, fmt.Errorf("%w: %w", ErrViewer, err)
		}
		s.viewer = v
		defer v.Close()
	}
	rec := newReceiver(receiverDeps{
		peer: p, log: s.log, emit: s.emit,
		output: s.cfg.Output, outputTo: s.cfg.OutputTo, takeFile: s.takeOutput,
		measure: s.cfg.Measure, viewer: s.viewer,
		meterAudio: s.cfg.Stats != nil,
	})
	if receive {
		rec.start(ctx)
	}
	col := newCollector(s.cfg.Role(), p, snd, rec, s.cfg.Measure)
	err = s.stream(ctx, p, col, rec, snd, receive)

	// Shut down in order: stop the source, hang up, finalize the file;
	// then the final figures, which count the last frames flushed.
	col.end()
	if snd != nil {
		snd.Close()
		s.res.FramesSent = snd.FramesSent()
		terr := snd.Err()
		switch {
		case terr == nil || errors.Is(terr, capture.ErrSourceEnded) || (err != nil && !errors.Is(err, errSourceStopped)):
		case snd.Video() == nil && errors.Is(err, errSourceStopped):
			// The sound was all this side sent, and nothing came in.
			err = fmt.Errorf("%w: %w", ErrSoundFailed, terr)
		case snd.Video() == nil:
			// The sound stopped and the call went on receiving: it
			// said so then (SoundStopped).
		default:
			err = fmt.Errorf("%w: %w", ErrSourceFailed, terr)
		}
	}
	// Tell the other side why, so that it ends at once and can say so.
	bye := s.why(err)
	s.log.Debug("hanging up", "reason", bye.String())
	if cerr := p.CloseWith(bye.String()); cerr != nil {
		s.log.Debug("closing peer", "err", cerr)
	}
	if rerr := rec.close(); rerr != nil && err == nil && !(s.ended == EndOutputClosed && errors.Is(rerr, syscall.EPIPE)) {
		err = rerr
	}
	got := rec.result()
	s.res.Output, s.res.FirstFrame, s.res.FramesRecv = got.output, got.firstFrame, got.framesRecv
	if s.viewer != nil {
		if verr := s.viewer.Close(); verr != nil && err == nil {
			err = fmt.Errorf("%w: %w", ErrViewer, verr)
		}
	}
	final := col.snapshot(true)
	if err != nil {
		final.Error = err.Error()
	}
	if s.cfg.Stats != nil {
		s.finalWritten = true
		if werr := writeJSON(s.cfg.Stats, final); werr != nil && err == nil {
			err = fmt.Errorf("write stats: %w", werr)
		}
	}
	s.emit(Summary{Final: final, Result: s.res})
	return s.res, err
}

// createOutput creates the output file up front.
func (s *session) createOutput() error {
	if s.cfg.Output == "" || s.cfg.Output == "-" {
		return nil
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if s.cfg.Overwrite {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(s.cfg.Output, flags, 0o644)
	switch {
	case errors.Is(err, os.ErrExist):
		return fmt.Errorf("%w: %s", ErrOutputExists, s.cfg.Output)
	case err != nil:
		return fmt.Errorf("%w: %w", ErrRecording, err)
	}
	s.outFile = f
	return nil
}

// takeOutput hands the output file to the receiver, which closes it from
// then on; nil when there is none.
func (s *session) takeOutput() *os.File {
	f := s.outFile
	s.outFile = nil
	return f
}

// videoCodec is the codec the video source is encoded with: the first
// video codec of Config.Codecs.
// dropUnusedOutput removes the output file when the call ended before
// anything was recorded into it.
func (s *session) dropUnusedOutput() {
	if s.outFile == nil {
		return
	}
	name := s.outFile.Name()
	s.outFile.Close()
	if fi, err := os.Stat(name); err == nil && fi.Size() == 0 {
		_ = os.Remove(name)
	}
}

// errSourceStopped means the source ended the call; the source's own
// error, when it has one, says more.
var errSourceStopped = errors.New("the video source stopped")

// beforeConnect turns the caller's cancellation before the call connected
// into ErrInterrupted.
func (s *session) beforeConnect(ctx context.Context, err error) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		s.res.Interrupted = true
		return fmt.Errorf("%w: %w", ErrInterrupted, err)
	}
	return err
}

// negotiate lets the signaler carry this side's half of the exchange.
func (s *session) negotiate(ctx context.Context, p *peer.Peer) error {
	if s.cfg.Answer != nil {
		return s.cfg.Answer.ExchangeAnswer(ctx, p.Answer)
	}
	offer, err := p.Offer(ctx)
	if err != nil {
		return err
	}
	answer, err := s.cfg.Offer.ExchangeOffer(ctx, offer)
	if err != nil {
		return err
	}
	return p.Accept(answer)
}

// connect waits for the connection: the connect timeout plus the window
// the other side has to apply this side's description. The window closes
// early once the other side's connectivity checks arrive: it has applied
// the description, so from then on the connect timeout alone is left.
func (s *session) connect(ctx context.Context, p *peer.Peer, window time.Duration) error {
	start := time.Now()
	wait := window + s.cfg.ConnectTimeout
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timer := time.AfterFunc(wait, func() { cancel(errConnectWait) })
	defer timer.Stop()
	s.emit(Connecting{Deadline: start.Add(wait), Window: window})
	var heard atomic.Bool
	var waited atomic.Int64 // the whole wait, shortened once the checks come
	waited.Store(int64(wait))
	if window > 0 {
		var wg sync.WaitGroup
		wg.Go(func() {
			// Once its checks arrive, the other side has applied this
			// side's description: the connect timeout from then is all
			// that is left, when that is sooner.
			if !awaitChecks(cctx, p) {
				return
			}
			heard.Store(true)
			applied := time.Now().Add(s.cfg.ConnectTimeout)
			if applied.Before(start.Add(wait)) && timer.Stop() {
				waited.Store(int64(applied.Sub(start)))
				timer.Reset(time.Until(applied))
				s.emit(Applied{Deadline: applied})
			}
		})
		// The watch reads the peer's stats: it must be over before the
		// peer can be closed.
		defer func() { cancel(nil); wg.Wait() }()
	}
	stop := s.reportStates(cctx, p)
	err := p.WaitConnected(cctx)
	stop()
	timeout := func(err error) *ConnectTimeoutError {
		return &ConnectTimeoutError{Waited: time.Duration(waited.Load()), Window: window, Heard: heard.Load(), Err: err}
	}
	switch {
	case err == nil:
	case errors.Is(err, peer.ErrHangUp):
		// The other side connected and hung up (its viewer would not
		// open, say) before this side saw the connected state: its BYE
		// came over the call, so the call was made. The stream loop
		// ends it at once, as any hang-up, with the file finalized.
	case ctx.Err() == nil && errors.Is(context.Cause(cctx), errConnectWait):
		return timeout(nil)
	case errors.Is(err, peer.ErrICEFailed):
		return timeout(err)
	default:
		return err
	}
	s.res.Connected = true
	pair, ok := p.SelectedPair()
	if ok {
		s.res.Pair = pair.Kind()
	}
	s.emit(Connected{Pair: pair, Known: ok})
	return nil
}

// errConnectWait is the cause of a connect wait that ran out.
var errConnectWait = errors.New("the connect wait ran out")

// awaitChecks polls until a connectivity check from the other side has
// arrived (true) or ctx ends (false).
func awaitChecks(ctx context.Context, p *peer.Peer) bool {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for !p.HeardChecks() {
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
	return true
}

// reportStates reports connection state changes until stop is called.
func (s *session) reportStates(ctx context.Context, p *peer.Peer) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case st := <-p.States():
				if st != webrtc.PeerConnectionStateConnected {
					s.emit(StateChanged{State: st})
				}
			case <-done:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() { close(done); <-finished }
}

// stream runs the call until it ends, reporting figures every second.
func (s *session) stream(ctx context.Context, p *peer.Peer, col *collector, rec *receiver, snd *capture.Sender, receive bool) error {
	var sourceDone, soundDone <-chan struct{}
	if snd != nil {
		sourceDone = snd.Done()
		if snd.Audio() != nil && (snd.Video() != nil || receive) {
			// The sound stopping leaves the video going, sent or
			// received: say so, once.
			soundDone = snd.Audio().Done()
		}
		if snd.Video() == nil && receive {
			// The sender is the sound alone: its end is soundDone's.
			sourceDone = nil
		}
	}
	var timeout <-chan time.Time
	if s.cfg.Duration > 0 {
		t := time.NewTimer(s.cfg.Duration)
		defer t.Stop()
		timeout = t.C
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	// Silence counts from connecting until the first packet arrives, and
	// is checked ten times per tolerance (at most once a second).
	connected := time.Now()
	lastHeard := func() time.Time {
		if h := p.LastHeard(); h.After(connected) {
			return h
		}
		return connected
	}
	var lost time.Time // when the path was lost, zero while it is up
	var viewerDone <-chan struct{}
	if s.viewer != nil {
		viewerDone = s.viewer.Done()
	}
	check := time.NewTicker(min(time.Second, max(s.cfg.Silence/10, 100*time.Millisecond)))
	defer check.Stop()
	for {
		select {
		case now := <-check.C:
			if now.Sub(lastHeard()) >= s.cfg.Silence {
				return &SilenceError{For: s.cfg.Silence, Gone: p.LocalAddressGone()}
			}
		case <-tick.C:
			snap := col.snapshot(false)
			s.emit(Figures{Snapshot: snap})
			if s.cfg.Stats != nil {
				if err := writeJSON(s.cfg.Stats, snap); err != nil {
					return fmt.Errorf("write stats: %w", err)
				}
			}
		case <-ctx.Done():
			s.res.Interrupted = true
			s.end(Ending{Reason: EndInterrupted})
			return nil
		case <-timeout:
			s.end(Ending{Reason: EndDuration})
			return nil
		case <-p.HungUp():
			s.log.Debug("the other side hung up", "reason", p.HangUpReason())
			s.end(Ending{Reason: EndHungUp, Remote: parseHangUp(p.HangUpReason())})
			return nil
		case <-soundDone:
			soundDone = nil
			if err := snd.AudioErr(); err != nil {
				s.emit(SoundStopped{Err: err})
			}
		case <-sourceDone:
			if errors.Is(snd.Err(), capture.ErrSourceEnded) {
				// A stream's writer finished: the video is over.
				s.end(Ending{Reason: EndSourceEnded})
				return nil
			}
			// The camera went away (unplugged, or taken by another
			// program): hang up rather than send nothing forever.
			return errSourceStopped
		case <-rec.failed:
			err := rec.failure()
			// A player that closes the pipe it reads is a person ending
			// the call, not a failure.
			if s.cfg.Output == "-" && errors.Is(err, syscall.EPIPE) {
				s.end(Ending{Reason: EndOutputClosed})
				return nil
			}
			return err
		case <-viewerDone:
			if err := s.viewer.Err(); err != nil {
				return fmt.Errorf("%w: %w", ErrViewer, err)
			}
			s.end(Ending{Reason: EndViewerClosed})
			return nil
		case <-p.Failed():
			return ErrConnectionLost
		case pr := <-p.Moves():
			s.emit(Moved{Pair: pr})
		case st := <-p.States():
			switch {
			case st == webrtc.PeerConnectionStateDisconnected && lost.IsZero():
				// ICE saw nothing for its disconnected timeout: the
				// silence rule decides how long to wait.
				lost = time.Now()
				s.emit(Lost{Since: lost, Deadline: lastHeard().Add(s.cfg.Silence), Gone: p.LocalAddressGone()})
			case st == webrtc.PeerConnectionStateConnected && !lost.IsZero():
				s.emit(Back{After: time.Since(lost)})
				lost = time.Time{}
			case st != webrtc.PeerConnectionStateConnected && st != webrtc.PeerConnectionStateDisconnected:
				s.emit(StateChanged{State: st})
			}
		}
	}
}

// end notes and reports why stream ends without an error.
func (s *session) end(e Ending) {
	s.ended = e.Reason
	s.emit(e)
}

// why is what this side tells the other when the call ends with err (nil:
// the reason stream noted).
func (s *session) why(err error) HangUp {
	var (
		se    *SilenceError
		errno syscall.Errno
	)
	switch {
	case err == nil:
		switch s.ended {
		case EndInterrupted:
			return HangUp{Why: WhyInterrupted}
		case EndDuration:
			return HangUp{Why: WhyDuration}
		case EndOutputClosed:
			return HangUp{Why: WhyOutputClosed}
		case EndSourceEnded:
			return HangUp{Why: WhySourceEnded}
		case EndViewerClosed:
			return HangUp{Why: WhyViewerClosed}
		}
		return HangUp{Why: WhyHangUp}
	case errors.As(err, &se):
		return HangUp{Why: WhySilence}
	case errors.Is(err, ErrConnectionLost):
		return HangUp{Why: WhyLost}
	case errors.Is(err, ErrRecording):
		// The system's reason ("no space left on device") says what the
		// other side needs to know; paths stay on this side.
		h := HangUp{Why: WhyRecording}
		switch {
		case errors.As(err, &errno):
			h.Detail = errno.Error()
		case errors.Is(err, io.ErrShortWrite):
			h.Detail = io.ErrShortWrite.Error()
		}
		return h
	case errors.Is(err, ErrSoundFailed):
		return HangUp{Why: WhySound}
	case errors.Is(err, ErrSourceFailed), errors.Is(err, errSourceStopped):
		return HangUp{Why: WhySource}
	case errors.Is(err, ErrViewer):
		return HangUp{Why: WhyViewer}
	}
	return HangUp{Why: WhyError}
}

// verificationCode reports the code both sides derive from the two DTLS
// fingerprints, for the people to compare, and returns it ("" if none).
func (s *session) verificationCode(p *peer.Peer) string {
	local, remote := p.Descriptions()
	code, err := signal.VerificationCode(local, remote)
	if err != nil {
		s.log.Debug("no verification code", "err", err)
		return ""
	}
	s.emit(Verification{Code: code})
	return code
}
