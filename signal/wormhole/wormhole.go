// Package wormhole carries the two session descriptions of a call through
// a rendezvous server, behind a short code a person can read out over the
// phone ("7-guitarist-revenge"), the way magic-wormhole does it.
//
// In the pipeline it is one of the ways the descriptions travel, beside
// copy-paste (package signal) and WHIP: an Offer is a
// session.OfferSignaler and an Answer a session.AnswerSignaler.
//
// The server is magic-wormhole's mailbox server, unmodified (Debian's
// python3-magic-wormhole-mailbox-server, or the public one at
// DefaultServer), spoken to over a WebSocket in its JSON protocol under
// p2pcam's own application ID (AppID). The offering side allocates a
// nameplate (a small number), claims it, opens its mailbox and makes a
// code of the nameplate and random words of the PGP word list. The
// answering side claims the nameplate of the code it was given and opens
// the same mailbox. Through the mailbox the two run a PAKE (CPace, bound
// to AppID and the nameplate) keyed by the whole code, and each sends a
// confirmation sealed under a key derived from the PAKE's: a side that
// typed another code cannot open it (ErrWrongCode). Then the offer, the
// answer and a last "done" travel sealed (ChaCha20-Poly1305 under a key
// per side and per phase), as compact blobs. The server relays only the
// PAKE's messages and ciphertext: it learns neither the code nor the
// descriptions, and an attacker, the server included, gets one guess at
// the code per exchange, as the sides give up after the first failure.
//
// Each side ends its exchange itself: it releases the nameplate and closes
// the mailbox with a mood ("happy", "lonely" when nobody came, "scary"
// after a wrong code, "errory"), also when its context is cancelled, and
// tells the other side in clear when it gives up, so that both say why.
package wormhole

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/pkg/iostreams"
	"github.com/p2pcam/p2pcam/signal"
)

// AppID is the application ID p2pcam binds to on the server: nameplates
// and mailboxes are p2pcam's own, apart from magic-wormhole's file
// transfers on the same server.
const AppID = "github.com/p2pcam/p2pcam/sdp-v1"

// DefaultServer is the public mailbox server the magic-wormhole project
// runs.
const DefaultServer = "ws://relay.magic-wormhole.io:4000/v1"

// DefaultTimeout is how long a side waits for the other by default: the
// paste window of copy-paste (package paste), as a person needs the same
// time to read out a code as to carry a blob.
const DefaultTimeout = 5 * time.Minute

// Config is what both sides of an exchange need. The zero value uses the
// public server, two words, the paste window and CPace.
type Config struct {
	// Server is the mailbox server's WebSocket URL; "" is DefaultServer.
	Server string
	// Words is how many words a new code has (offering side), between
	// MinWords and MaxWords; 0 is DefaultWords.
	Words int
	// Timeout is how long a side waits for the other: from the code's
	// allocation to the answer (offering side), from the start of the
	// exchange to its end (answering side). 0 is DefaultTimeout.
	Timeout time.Duration
	// PAKE is the key exchange; nil is CPace.
	PAKE PAKE
	// Console, when not nil, shows a countdown while a side waits for the
	// other and says when the other side arrives.
	Console *iostreams.Console
	// Log receives the protocol's steps at debug level; nil discards them.
	Log *slog.Logger
}

func (c *Config) server() string {
	if c.Server != "" {
		return c.Server
	}
	return DefaultServer
}

func (c *Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

func (c *Config) pake() PAKE {
	if c.PAKE != nil {
		return c.PAKE
	}
	return CPace{}
}

func (c *Config) log() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// countdown shows a countdown to deadline on the console, if any.
func (c *Config) countdown(deadline time.Time, what string) (stop func()) {
	if c.Console == nil {
		return func() {}
	}
	return c.Console.Countdown(deadline, what)
}

func (c *Config) say(format string, args ...any) {
	if c.Console != nil {
		c.Console.Linef(format, args...)
	}
}

// Offer is the offering side of an exchange by code: Allocate makes the
// code, ExchangeOffer sends the offer and brings back the answer. It
// implements session.OfferSignaler.
type Offer struct {
	cfg      Config
	code     Code
	c        *client
	finish   func([]byte) ([]byte, error)
	deadline time.Time
	done     bool
}

// Allocate connects to the server, has it allocate a nameplate, and makes
// a code of it that is ready to be told to the other side once Allocate
// returns: the first PAKE message is already in the mailbox. The other
// side has Config.Timeout from now to use the code.
//
// Errors are *ServerError (the server unreachable, refusing, asking for a
// proof of work), ctx.Err(), or an error for Words out of range. Close
// releases what Allocate took when ExchangeOffer is not called.
func Allocate(ctx context.Context, cfg Config) (*Offer, error) {
	n := cfg.Words
	if n == 0 {
		n = DefaultWords
	}
	if n < MinWords || n > MaxWords {
		return nil, fmt.Errorf("a code has %d to %d words, not %d", MinWords, MaxWords, n)
	}
	deadline := time.Now().Add(cfg.timeout())
	c, err := dial(ctx, cfg.server(), cfg.log())
	if err != nil {
		return nil, err
	}
	o := &Offer{cfg: cfg, c: c, deadline: deadline}
	if err := o.allocate(ctx, n); err != nil {
		c.goodbye(true, "errory")
		return nil, err
	}
	return o, nil
}

func (o *Offer) allocate(ctx context.Context, words int) error {
	c := o.c
	if err := c.send(ctx, map[string]any{"type": "allocate"}); err != nil {
		return err
	}
	m, err := c.await(ctx, "allocated")
	if err != nil {
		return err
	}
	if !digits(m.Nameplate) || len(m.Nameplate) > maxNameplate {
		return c.fail(ErrProtocol, "", fmt.Errorf("allocated nameplate %q is not a number", m.Nameplate))
	}
	if err := c.claim(ctx, m.Nameplate); err != nil {
		return err
	}
	if o.code, err = newCode(m.Nameplate, words); err != nil {
		return err
	}
	msg, finish, err := o.cfg.pake().Start(o.code.String(), binding(AppID, o.code.Nameplate))
	if err != nil {
		return err
	}
	o.finish = finish
	return c.add(ctx, phasePAKE, msg)
}

// Code is the code to tell the other side.
func (o *Offer) Code() Code { return o.code }

// Deadline is when the other side's time to use the code runs out.
func (o *Offer) Deadline() time.Time { return o.deadline }

// Sent is the number of bytes this side sent the server so far
// (WebSocket payloads).
func (o *Offer) Sent() int64 { return o.c.sent.Load() }

// Received is the number of bytes this side received from the server so
// far (WebSocket payloads).
func (o *Offer) Received() int64 { return o.c.received.Load() }

// ExchangeOffer waits for the other side to use the code, proves both
// hold the same one, sends the offer sealed and returns the answer; then
// it closes the mailbox. It returns ErrWrongCode as soon as the codes
// differ (on either side), ErrTampered, ErrPeerGone, ErrTimeout (wrapped)
// when the answer is not back by Deadline, a *ServerError, or ctx.Err()
// when ctx ends first. It may be called once.
func (o *Offer) ExchangeOffer(ctx context.Context, offer webrtc.SessionDescription) (webrtc.SessionDescription, error) {
	if o.done {
		return webrtc.SessionDescription{}, errors.New("the code was used already")
	}
	o.done = true
	blob, err := signal.Encode(offer, signal.FormatCompact)
	if err != nil {
		o.c.goodbye(true, "errory")
		return webrtc.SessionDescription{}, fmt.Errorf("encode offer: %w", err)
	}
	wctx, cancel := context.WithDeadline(ctx, o.deadline)
	defer cancel()
	answer, mood, err := o.exchange(wctx, blob)
	if err != nil {
		err = o.timedOut(ctx, err)
	}
	o.c.goodbye(true, mood)
	return answer, err
}

// timedOut turns the window's end into ErrTimeout.
func (o *Offer) timedOut(ctx context.Context, err error) error {
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return fmt.Errorf("%w: nobody answered with code %s within %s", ErrTimeout, o.code, o.cfg.timeout())
	}
	return err
}

func (o *Offer) exchange(ctx context.Context, blob string) (answer webrtc.SessionDescription, mood string, err error) {
	c := o.c
	o.cfg.say("waiting up to %s for the other side to use the code", iostreams.Clock(time.Until(o.deadline)))
	stop := o.cfg.countdown(o.deadline, "for the other side to use the code")
	m, err := c.phase(ctx, phasePAKE)
	stop()
	if err != nil {
		return answer, o.giveUp(ctx, err, "lonely"), err
	}
	if m.Phase == phaseError {
		return answer, "errory", peerError(m)
	}
	key, err := o.finish(m.body())
	if err != nil {
		// A reply that is not a group element: the other side is not a
		// p2pcam with this code.
		_ = c.add(ctx, phaseError, []byte(reasonWrongCode))
		return answer, "scary", ErrWrongCode
	}
	o.cfg.say("the other side is here; checking that both hold the same code")
	b := box{key: key}
	s := session{c: c, box: b, me: cpaceA, them: cpaceB}
	if err := s.confirm(ctx); err != nil {
		return answer, s.mood(ctx, err), err
	}
	if err := s.put(ctx, phaseOffer, []byte(blob)); err != nil {
		return answer, s.mood(ctx, err), err
	}
	plain, err := s.get(ctx, phaseAnswer)
	if err != nil {
		return answer, s.mood(ctx, err), err
	}
	answer, _, err = signal.DecodeAs(string(plain), webrtc.SDPTypeAnswer)
	if err != nil {
		_ = c.add(ctx, phaseError, []byte(reasonStopped))
		return answer, "errory", fmt.Errorf("the other side's answer: %w", err)
	}
	if err := s.put(ctx, phaseDone, nil); err != nil {
		return answer, s.mood(ctx, err), err
	}
	return answer, "happy", nil
}

// giveUp tells the other side this one stopped, when ctx was cancelled,
// and says the mood to close with.
func (o *Offer) giveUp(ctx context.Context, err error, mood string) string {
	if errors.Is(err, context.Canceled) {
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
		defer cancel()
		_ = o.c.add(tctx, phaseError, []byte(reasonStopped))
	}
	var se *ServerError
	if errors.As(err, &se) {
		return "errory"
	}
	return mood
}

// Close ends the exchange if ExchangeOffer did not (the other side told
// this one stopped, the nameplate released, the mailbox closed as
// "lonely"), and waits for the connection's
// goroutine. It must not be called while ExchangeOffer runs; it may be
// called more than once.
func (o *Offer) Close() error {
	if !o.done {
		// The call failed before its offer was ready: tell a side that
		// already used the code, rather than let it wait out its time.
		o.done = true
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		_ = o.c.add(ctx, phaseError, []byte(reasonStopped))
		cancel()
	}
	o.c.goodbye(true, "lonely")
	return nil
}

// Answer is the answering side of an exchange by code. It implements
// session.AnswerSignaler.
type Answer struct {
	cfg  Config
	code Code
	c    *client
	used bool

	sent, received int64
}

// NewAnswer prepares the answering side for code, which it parses
// (*CodeError when it is not a code); nothing is sent before
// ExchangeAnswer.
func NewAnswer(cfg Config, code string) (*Answer, error) {
	cd, err := ParseCode(code)
	if err != nil {
		return nil, err
	}
	return &Answer{cfg: cfg, code: cd}, nil
}

// Code is the code this side uses.
func (a *Answer) Code() Code { return a.code }

// Sent is the number of bytes this side sent the server (WebSocket
// payloads), once ExchangeAnswer returned.
func (a *Answer) Sent() int64 { return a.sent }

// Received is the number of bytes this side received from the server
// (WebSocket payloads), once ExchangeAnswer returned.
func (a *Answer) Received() int64 { return a.received }

// AnswerWindow is 0: the offering side has the answer when ExchangeAnswer
// returns.
func (a *Answer) AnswerWindow() time.Duration { return 0 }

// ExchangeAnswer meets the offering side behind the code, proves both hold
// the same one, receives the offer, makes the answer with makeAnswer and
// sends it sealed, waits until the other side has it, and closes the
// mailbox. It returns ErrNoSuchCode when nobody waits behind the code,
// ErrCrowded when two sides already hold it, ErrWrongCode, ErrTampered,
// ErrPeerGone, ErrTimeout (wrapped) after Config.Timeout, a *ServerError,
// makeAnswer's error unchanged, or ctx.Err() when ctx ends first. It may be
// called once.
func (a *Answer) ExchangeAnswer(ctx context.Context, makeAnswer func(context.Context, webrtc.SessionDescription) (webrtc.SessionDescription, error)) error {
	if a.used {
		return errors.New("the code was used already")
	}
	a.used = true
	wctx, cancel := context.WithTimeout(ctx, a.cfg.timeout())
	defer cancel()
	deadline, _ := wctx.Deadline()
	stop := a.cfg.countdown(deadline, "to meet the other side")
	defer stop()
	c, err := dial(wctx, a.cfg.server(), a.cfg.log())
	if err != nil {
		return a.timedOut(ctx, err)
	}
	a.c = c
	mood, err := a.exchange(wctx, makeAnswer)
	var ma errMakeAnswer
	switch {
	case errors.As(err, &ma):
		err = ma.err
	case err != nil:
		err = a.timedOut(ctx, err)
	}
	c.goodbye(true, mood)
	a.sent, a.received = c.sent.Load(), c.received.Load()
	return err
}

func (a *Answer) timedOut(ctx context.Context, err error) error {
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return fmt.Errorf("%w: the exchange with code %s did not end within %s", ErrTimeout, a.code, a.cfg.timeout())
	}
	return err
}

// errMakeAnswer marks makeAnswer's error, which ExchangeAnswer returns
// unchanged.
type errMakeAnswer struct{ err error }

func (e errMakeAnswer) Error() string { return e.err.Error() }

func (a *Answer) exchange(ctx context.Context, makeAnswer func(context.Context, webrtc.SessionDescription) (webrtc.SessionDescription, error)) (mood string, err error) {
	c := a.c
	if err := c.claim(ctx, a.code.Nameplate); err != nil {
		return "errory", err
	}
	// Once the server has answered a ping sent after the open, it has
	// sent every message already in the mailbox: the offering side's
	// PAKE message is there if anybody waits behind the code.
	if err := c.sync(ctx); err != nil {
		return a.giveUp(ctx, err), err
	}
	m, ok := c.kept(phasePAKE)
	if !ok {
		return "lonely", ErrNoSuchCode
	}
	if m.Phase == phaseError {
		return "errory", peerError(m)
	}
	reply, key, err := a.cfg.pake().Reply(a.code.String(), binding(AppID, a.code.Nameplate), m.body())
	if err != nil {
		_ = c.add(ctx, phaseError, []byte(reasonWrongCode))
		return "scary", ErrWrongCode
	}
	if err := c.add(ctx, phasePAKE, reply); err != nil {
		return a.giveUp(ctx, err), err
	}
	s := session{c: c, box: box{key: key}, me: cpaceB, them: cpaceA}
	if err := s.confirm(ctx); err != nil {
		return s.mood(ctx, err), err
	}
	plain, err := s.get(ctx, phaseOffer)
	if err != nil {
		return s.mood(ctx, err), err
	}
	offer, _, err := signal.DecodeAs(string(plain), webrtc.SDPTypeOffer)
	if err != nil {
		_ = c.add(ctx, phaseError, []byte(reasonStopped))
		return "errory", fmt.Errorf("the other side's offer: %w", err)
	}
	answer, err := makeAnswer(ctx, offer)
	if err != nil {
		a.stopped(ctx)
		return "errory", errMakeAnswer{err}
	}
	blob, err := signal.Encode(answer, signal.FormatCompact)
	if err != nil {
		a.stopped(ctx)
		return "errory", fmt.Errorf("encode answer: %w", err)
	}
	if err := s.put(ctx, phaseAnswer, []byte(blob)); err != nil {
		return s.mood(ctx, err), err
	}
	if _, err := s.get(ctx, phaseDone); err != nil {
		return s.mood(ctx, err), err
	}
	return "happy", nil
}

// stopped tells the other side this one gave up.
func (a *Answer) stopped(ctx context.Context) {
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
	defer cancel()
	_ = a.c.add(tctx, phaseError, []byte(reasonStopped))
}

func (a *Answer) giveUp(ctx context.Context, err error) string {
	if errors.Is(err, context.Canceled) {
		a.stopped(ctx)
	}
	var se *ServerError
	if errors.As(err, &se) {
		return "errory"
	}
	return "lonely"
}

// Close ends the exchange if ExchangeAnswer did not; ExchangeAnswer ends
// it itself, so Close is there for both sides to close alike. It must not
// be called while ExchangeAnswer runs; it may be called more than once.
func (a *Answer) Close() error {
	if a.c != nil {
		a.c.goodbye(true, "lonely")
	}
	return nil
}

// session is the sealed part of one exchange, once the PAKE gave a key.
type session struct {
	c        *client
	box      box
	me, them string // cpaceA or cpaceB
}

// put seals plain as this side's message of phase and adds it.
func (s *session) put(ctx context.Context, phase string, plain []byte) error {
	sealed, err := s.box.seal(s.me, phase, plain)
	if err != nil {
		return err
	}
	return s.c.add(ctx, phase, sealed)
}

// get waits for the other side's message of phase and opens it; a message
// that does not open is ErrTampered (the confirmation aside, see confirm),
// and the other side is told.
func (s *session) get(ctx context.Context, phase string) ([]byte, error) {
	m, err := s.c.phase(ctx, phase)
	if err != nil {
		return nil, err
	}
	if m.Phase == phaseError {
		return nil, peerError(m)
	}
	plain, err := s.box.open(s.them, phase, m.body())
	if err != nil {
		_ = s.c.add(ctx, phaseError, []byte(reasonTampered))
		return nil, ErrTampered
	}
	return plain, nil
}

// confirm sends this side's key confirmation and checks the other's: one
// that does not open means the two keys differ, so the codes did.
func (s *session) confirm(ctx context.Context) error {
	if err := s.put(ctx, phaseConfirm, []byte(confirmText)); err != nil {
		return err
	}
	m, err := s.c.phase(ctx, phaseConfirm)
	if err != nil {
		return err
	}
	if m.Phase == phaseError {
		return peerError(m)
	}
	plain, err := s.box.open(s.them, phaseConfirm, m.body())
	if err != nil || string(plain) != confirmText {
		_ = s.c.add(ctx, phaseError, []byte(reasonWrongCode))
		return ErrWrongCode
	}
	return nil
}

// mood is the mood to close with after err, telling the other side when
// this one was interrupted.
func (s *session) mood(ctx context.Context, err error) string {
	switch {
	case errors.Is(err, ErrWrongCode), errors.Is(err, ErrTampered):
		return "scary"
	case errors.Is(err, context.Canceled):
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
		defer cancel()
		_ = s.c.add(tctx, phaseError, []byte(reasonStopped))
	}
	return "errory"
}

// peerError is what the other side's error message means here.
func peerError(m serverMsg) error {
	switch string(m.body()) {
	case reasonWrongCode:
		return fmt.Errorf("%w (the other side says so)", ErrWrongCode)
	case reasonTampered:
		return fmt.Errorf("%w (the other side says so)", ErrTampered)
	}
	return ErrPeerGone
}
