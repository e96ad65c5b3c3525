// Package session runs one p2pcam call from start to end: it opens the
// source, builds the peer, exchanges blobs with the person at the other
// end, records what arrives, reports progress, and shuts everything down in
// order (source, peer, recording) however the call ends.
//
// It is what `p2pcam offer` and `p2pcam answer` run; the command line only
// turns flags into a Config.
package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/pkg/capture"
	"github.com/p2pcam/p2pcam/pkg/peer"
	"github.com/p2pcam/p2pcam/pkg/vp8"
	"github.com/p2pcam/p2pcam/signal"
)

// Role says which side of the exchange this session is.
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

// Config is everything a session needs. The zero value of each field is a
// usable default except Role, Source and Output, which the caller decides.
type Config struct {
	Role Role

	Source  capture.Source
	Width   int
	Height  int
	FPS     float64
	Bitrate int // bits per second
	CPUUsed int // libvpx speed, negative: realtime

	// Output is a path ending in .webm or .ivf, "-" for WebM on Out, or ""
	// for no recording.
	Output string

	ICEServers []webrtc.ICEServer
	Interfaces []string

	// BlobFormat is the format of the blob this side prints when it makes
	// the offer; an answer always goes back in its offer's format.
	BlobFormat signal.Format
	// RemoteBlob is the other side's blob, when given up front (as an
	// argument or read from a file by the caller); empty means read In.
	RemoteBlob string
	Clipboard  bool // offer the blob to the terminal's clipboard (OSC 52)
	QR         bool // also print the blob as a QR code

	Duration       time.Duration // stream this long after connecting; 0 = until stopped
	ConnectTimeout time.Duration // default 30s
	PasteTimeout   time.Duration // default 5m
	GatherTimeout  time.Duration // default 2.5s

	// Stats names a file for JSON lines of figures every second ("-" for
	// the Err stream); empty for none.
	Stats string
	// Measure decodes the received video and measures glass-to-glass
	// latency, lost and frozen frames and PSNR against p2pcam's synthetic
	// pattern (the other side must send --source test).
	Measure bool
}

// IO is the session's view of the terminal. In and Out carry blobs (and
// video with Output "-"); Err carries everything meant for a person.
type IO struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// InTerminal is In as a terminal, when it is one: blobs are then read
	// without the terminal's line-length limit and bad pastes re-prompt.
	InTerminal *os.File
	// OutTerminal says Out is a terminal (the clipboard escape goes there).
	OutTerminal bool
	// ErrTerminal says Err is a terminal: a live status line is kept there.
	ErrTerminal bool
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
// it VP8 at any useful size is mush, and a link that cannot carry it cannot
// carry a call.
const minBitrate = 150_000

// errSourceStopped means the source ended the call; the source's own
// error, when it has one, says more.
var errSourceStopped = errors.New("the video source stopped")

// Errors a caller can turn into advice.
var (
	// ErrConnectTimeout means no connection was made in time.
	ErrConnectTimeout = errors.New("no connection")
	// ErrPasteTimeout means the other side's blob did not arrive in time.
	ErrPasteTimeout = errors.New("no blob from the other side")
	// ErrSourceFailed means the camera or file stopped delivering frames
	// during the call.
	ErrSourceFailed = errors.New("video source failed")
	// ErrAnswerNotUsed means the answer blob was probably never pasted
	// into the offering side.
	ErrAnswerNotUsed = errors.New("the answer blob was probably not pasted into `p2pcam offer` in time")
)

func (c *Config) defaults() {
	if c.Width == 0 {
		c.Width = 640
	}
	if c.Height == 0 {
		c.Height = 480
	}
	if c.FPS == 0 {
		c.FPS = 30
	}
	if c.Bitrate == 0 {
		c.Bitrate = 1_500_000
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = 30 * time.Second
	}
	if c.PasteTimeout == 0 {
		c.PasteTimeout = 5 * time.Minute
	}
	if c.GatherTimeout == 0 {
		c.GatherTimeout = 2500 * time.Millisecond
	}
}

// Run runs one session until it ends: the context is cancelled (Ctrl-C),
// the duration passes, the other side hangs up, or something fails. A
// cancelled context after connecting is a normal end, not an error.
func Run(ctx context.Context, cfg Config, stdio IO, log *slog.Logger) (Result, error) {
	cfg.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &session{cfg: cfg, io: stdio, log: log, say: newSayer(stdio.Err, stdio.ErrTerminal)}
	return s.run(ctx)
}

type session struct {
	cfg Config
	io  IO
	log *slog.Logger
	say *sayer

	res Result
}

func (s *session) run(ctx context.Context) (Result, error) {
	// Open --stats first: a bad path should fail before any network.
	stats, err := s.openStats()
	if err != nil {
		return s.res, err
	}
	if c, ok := stats.(io.Closer); ok && stats != s.io.Err {
		defer c.Close()
	}
	var track *capture.Track
	if s.cfg.Source.Kind != capture.None {
		p := vp8.NewParams()
		p.BitRate = s.cfg.Bitrate
		if s.cfg.CPUUsed != 0 {
			p.CPUUsed = s.cfg.CPUUsed
		}
		t, err := capture.Open(s.cfg.Source, capture.Options{Width: s.cfg.Width, Height: s.cfg.Height, FPS: s.cfg.FPS, Encoder: p})
		if err != nil {
			return s.res, fmt.Errorf("open source %s: %w", s.cfg.Source, err)
		}
		track = t
		defer track.Close()
	}
	receive := s.cfg.Output != ""
	if track == nil && !receive {
		return s.res, errors.New("nothing to do: no source to send and no output to record (set --source or --output)")
	}
	pcfg := peer.Config{
		ICEServers:       s.cfg.ICEServers,
		Interfaces:       s.cfg.Interfaces,
		Receive:          receive,
		GatherTimeout:    s.cfg.GatherTimeout,
		ICEFailedTimeout: s.iceFailedTimeout(),
		Logger:           s.log,
	}
	if track != nil {
		pcfg.Send = track
		pcfg.OnKeyFrameRequest = track.ForceKeyFrame
		// Start at the ceiling and let congestion control back off.
		pcfg.Congestion = &peer.Congestion{
			Initial: s.cfg.Bitrate, Min: min(minBitrate, s.cfg.Bitrate), Max: s.cfg.Bitrate,
			OnTarget: track.SetBitRate,
		}
	}
	p, err := peer.New(pcfg)
	if err != nil {
		return s.res, err
	}
	defer p.Close()

	wait, err := s.negotiate(ctx, p)
	if err != nil {
		return s.res, err
	}
	if err := s.connect(ctx, p, wait); err != nil {
		return s.res, err
	}

	if track != nil {
		// Encoding starts now, so the first frame sent is a keyframe.
		if err := track.Start(); err != nil {
			return s.res, err
		}
	}
	rec := newReceiver(s, p)
	if receive {
		rec.start(ctx)
	}
	s.printVerificationCode(p)
	col := newCollector(s.cfg.Role, p, track, rec, s.cfg.Measure)
	var sourceDone <-chan struct{}
	if track != nil {
		sourceDone = track.Done()
	}
	err = s.stream(ctx, p, col, stats, sourceDone)

	// Shut down in order: stop the source, hang up, finalize the file;
	// then the final figures, which count the last frames flushed.
	col.end()
	s.say.setStatus("")
	if track != nil {
		track.Close()
		s.res.FramesSent = track.FramesSent()
		if terr := track.Err(); terr != nil && (err == nil || errors.Is(err, errSourceStopped)) {
			err = fmt.Errorf("%w: %w", ErrSourceFailed, terr)
		}
	}
	if cerr := p.Close(); cerr != nil {
		s.log.Debug("closing peer", "err", cerr)
	}
	if rerr := rec.close(); rerr != nil && err == nil {
		err = rerr
	}
	final := col.snapshot(true)
	if stats != nil {
		if werr := writeJSON(stats, final); werr != nil && err == nil {
			err = fmt.Errorf("write --stats: %w", werr)
		}
	}
	s.summary(final)
	return s.res, err
}

// iceFailedTimeout keeps the answering side's ICE agent checking while the
// person at the other end pastes the answer: pion would give up after 30s.
func (s *session) iceFailedTimeout() time.Duration {
	if s.cfg.Role == Answerer {
		return s.cfg.PasteTimeout + s.cfg.ConnectTimeout
	}
	return s.cfg.ConnectTimeout
}

// connect waits up to wait for the connection and reports how it was made.
func (s *session) connect(ctx context.Context, p *peer.Peer, wait time.Duration) error {
	cctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	stop := s.reportStates(cctx, p)
	what := "to connect"
	if s.cfg.Role == Answerer {
		what = "for the other side to paste the answer and connect"
	}
	stopCount := s.say.countdown(time.Now().Add(wait), what)
	err := p.WaitConnected(cctx)
	stopCount()
	stop()
	switch {
	case err == nil:
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil && s.cfg.Role == Answerer:
		return fmt.Errorf("%w within %s: %w", ErrConnectTimeout, wait.Round(time.Second), ErrAnswerNotUsed)
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		return fmt.Errorf("%w within %s", ErrConnectTimeout, wait.Round(time.Second))
	case errors.Is(err, peer.ErrICEFailed):
		return fmt.Errorf("%w: %w", ErrConnectTimeout, err)
	default:
		return err
	}
	s.res.Connected = true
	if pair, ok := p.SelectedPair(); ok {
		s.res.Pair = pair.Kind()
		s.say.line("connected over %s", pair)
	} else {
		s.say.line("connected")
	}
	return nil
}

// reportStates prints connection state changes until stop is called.
func (s *session) reportStates(ctx context.Context, p *peer.Peer) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case st := <-p.States():
				if st != webrtc.PeerConnectionStateConnected {
					s.say.line("connection: %s", st)
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

// stream runs the call until it ends, reporting figures every second, and
// says why it ended.
func (s *session) stream(ctx context.Context, p *peer.Peer, col *collector, stats io.Writer, sourceDone <-chan struct{}) error {
	var timeout <-chan time.Time
	if s.cfg.Duration > 0 {
		t := time.NewTimer(s.cfg.Duration)
		defer t.Stop()
		timeout = t.C
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			snap := col.snapshot(false)
			s.say.setStatus(statusLine(snap))
			if stats != nil {
				if err := writeJSON(stats, snap); err != nil {
					return fmt.Errorf("write --stats: %w", err)
				}
			}
		case <-ctx.Done():
			s.res.Interrupted = true
			s.say.line("stopping")
			return nil
		case <-timeout:
			s.say.line("%s passed; hanging up", s.cfg.Duration)
			return nil
		case <-p.HungUp():
			s.say.line("the other side hung up")
			return nil
		case <-sourceDone:
			// The camera went away (unplugged, or taken by another
			// program): hang up rather than send nothing forever.
			return errSourceStopped
		case <-p.Failed():
			return errors.New("connection lost: the other side stopped answering")
		case st := <-p.States():
			if st != webrtc.PeerConnectionStateConnected {
				s.say.line("connection: %s", st)
			}
		}
	}
}

// openStats opens the --stats destination.
func (s *session) openStats() (io.Writer, error) {
	switch s.cfg.Stats {
	case "":
		return nil, nil
	case "-":
		return s.io.Err, nil
	}
	f, err := os.Create(s.cfg.Stats)
	if err != nil {
		return nil, fmt.Errorf("open --stats file: %w", err)
	}
	return f, nil
}

// printVerificationCode prints the code both sides derive from the two
// DTLS fingerprints, for the people to compare.
func (s *session) printVerificationCode(p *peer.Peer) {
	local, remote := p.Descriptions()
	code, err := signal.VerificationCode(local, remote)
	if err != nil {
		s.log.Debug("no verification code", "err", err)
		return
	}
	s.say.line("verification code: %s", code)
	s.say.line("  compare it with the other side by phone or chat: if the codes differ, someone altered the blobs; hang up.")
}

func (s *session) summary(final Snapshot) {
	for _, l := range summaryLines(final) {
		s.say.line("%s", l)
	}
	if s.res.Output != "" && s.res.Output != "-" {
		s.say.line("saved %d frames to %s", s.res.FramesRecv, s.res.Output)
	}
}
