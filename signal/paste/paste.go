// Package paste is the copy-paste way of signaling: it carries the two
// session descriptions of a call through people, as blobs (package
// signal's format) printed on one machine and pasted, piped or given in a
// file on the other.
//
// In the pipeline it is a session signaler: session hands a Signaler its
// offer (ExchangeOffer) or asks it for the offer and hands it the answer
// (ExchangeAnswer), and the Signaler does the printing and the reading. It
// is the one part of signaling that talks to a person: the prompts, the
// countdowns and the instructions are its own; the advice for a refused
// blob is the caller's (Signaler.Hints). Where an answering side reads the
// offer, a person may give something else the caller takes instead (a
// short code, Signaler.Other): the exchange then ends with an *OtherError
// for the caller to go on with.
//
// Reading is done three ways: from a terminal in raw mode (ReadTerminal,
// so that a paste is not cut at the terminal's line limit), from a pipe
// or file (Read), or from a blob given up front. Every goroutine this
// package starts is ended by the call or the Close that started it: a
// read of a pipe or file (stdin, a named pipe) polls it together with a
// wake-up pipe, so that Close stops it even when its writer stays silent.
// The one exception is input that is no file (a buffer, an io.Pipe): a
// Read blocked in it cannot be interrupted, and its goroutine ends when
// that Read returns.
package paste

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/pkg/iostreams"
	"github.com/p2pcam/p2pcam/signal"
)

// DefaultPasteTimeout is how long a person has, by default, to paste the
// other side's blob (and, on the answering side, for the other person to
// paste this side's answer).
const DefaultPasteTimeout = 5 * time.Minute

// ErrPasteTimeout means the other side's blob did not arrive in time.
var ErrPasteTimeout = errors.New("no blob from the other side")

// ErrSecondAnswer means an answer arrived after this offer had taken one.
// An offer serves one answer: the later one is ignored.
var ErrSecondAnswer = errors.New("this offer has already taken an answer, so a second one is ignored")

// Signaler exchanges the two session descriptions through people: it prints
// this side's blob for a person to carry to the other machine (chat, mail,
// a terminal over ssh) and reads the other side's blob, pasted into a
// terminal, piped in, or given up front. It is the copy-paste way of
// signaling, and the one part of signaling that talks to the person: the
// prompts, the countdowns and the instructions are its own.
//
// A Signaler serves one call, as the offering or the answering side, and
// is closed (Close) when the call ends.
type Signaler struct {
	// Streams are where blobs are read (In, or InTerminal when a person
	// types) and printed (Out; Err when BlobToErr).
	Streams iostreams.Streams
	// Console prints prompts and countdowns for the person.
	Console *iostreams.Console
	// Format is the format of the offer this side prints (zero:
	// signal.FormatCompact); an answer always goes back in its offer's
	// format.
	Format signal.Format
	// Remote is the other side's blob when it was given up front (as an
	// argument or from a file); empty means read it from the streams.
	Remote string
	// Timeout is the paste window; zero means DefaultPasteTimeout.
	Timeout time.Duration
	// Clipboard offers the printed blob to the terminal's clipboard (OSC
	// 52), when the blob goes to a terminal.
	Clipboard bool
	// QR also prints the blob as a QR code, on the console.
	QR bool
	// BlobToErr prints the blob on Err instead of Out, because Out carries
	// something else (video).
	BlobToErr bool
	// STUN names the STUN/TURN servers candidates were gathered from: when
	// the blob has no candidate from any of them, the Signaler says so before the
	// person carries a blob that works on the local network only.
	STUN []string
	// RemoteOpen, when not nil, opens where the other side's blob comes
	// from, for a source that is read only after this side's blob is
	// printed (a named pipe a person or a script writes to later). It
	// must return when ctx is done; the Signaler closes what it returns.
	RemoteOpen func(ctx context.Context) (io.ReadCloser, error)
	// Notice reports a blob that the Signaler refused and read past: a
	// second answer once the offer has one (ErrSecondAnswer), or, at a
	// terminal, an answer made for another offer (signal.ErrOtherOffer),
	// after which the Signaler asks again. It may be called from another
	// goroutine until Close returns. Nil prints the error on Console.
	Notice func(err error)
	// Hints, when not nil, gives the advice printed under a blob refused
	// at the terminal, which is then asked for again.
	Hints func(err error) []string
	// Other, when not nil, is what an answering side also takes instead
	// of the offer blob, typed or pasted at the prompt or piped in (not
	// given up front, nor from RemoteOpen): ExchangeAnswer then returns an
	// *OtherError with it.
	Other *Other

	feed      *lineFeed // piped input, shared by the reads of one call
	stopWatch func()    // ends the watch for further answers
}

func (p *Signaler) timeout() time.Duration {
	if p.Timeout > 0 {
		return p.Timeout
	}
	return DefaultPasteTimeout
}

// ExchangeOffer prints the offer blob and reads the answer blob: what an
// offering side does. It returns ErrPasteTimeout (wrapped) when no answer
// arrives within the paste window, ctx.Err() when ctx ends first,
// decoding errors as Read and ReadTerminal do, and ErrOtherOffer for an
// answer p2pcam made for another offer (signal.ErrOtherOffer; at a
// terminal the Signaler reports it through Notice and asks again instead).
//
// Once it has the answer, and while ctx lasts or until Close, it keeps
// reading the terminal or pipe the answer came from, and reports each
// further answer through Notice as ErrSecondAnswer.
func (p *Signaler) ExchangeOffer(ctx context.Context, offer webrtc.SessionDescription) (webrtc.SessionDescription, error) {
	f := p.Format
	if f == 0 {
		f = signal.FormatCompact
	}
	if err := p.print(offer, f, "offer"); err != nil {
		return webrtc.SessionDescription{}, err
	}
	for {
		answer, _, err := p.read(ctx, webrtc.SDPTypeAnswer, "run `p2pcam answer` on the other side, paste this blob into it, then paste its answer here")
		if err != nil {
			return webrtc.SessionDescription{}, err
		}
		if err := signal.CheckAnswer(answer, offer); err != nil {
			if errors.Is(err, signal.ErrOtherOffer) && p.fromTerminal() {
				p.notice(err)
				continue
			}
			return webrtc.SessionDescription{}, err
		}
		p.watch(ctx)
		p.Console.Linef("connecting…")
		return answer, nil
	}
}

// ExchangeAnswer reads the offer blob, turns it into an answer with
// makeAnswer and prints the answer blob: what an answering side does. The
// answer goes back in the offer's format.
func (p *Signaler) ExchangeAnswer(ctx context.Context, makeAnswer func(context.Context, webrtc.SessionDescription) (webrtc.SessionDescription, error)) error {
	offer, format, err := p.read(ctx, webrtc.SDPTypeOffer, "")
	if err != nil {
		return err
	}
	answer, err := makeAnswer(ctx, offer)
	if err != nil {
		return err
	}
	// Name the offer, so that the offering side can tell this answer from
	// one made for another call.
	if answer, err = signal.TagAnswer(answer, offer); err != nil {
		return fmt.Errorf("encode answer: %w", err)
	}
	if err := p.print(answer, format, "answer"); err != nil {
		return err
	}
	// How long this side waits is the caller's to say: the paste window
	// (AnswerWindow) and then the time to connect.
	p.Console.Linef("paste the answer blob into `p2pcam offer` on the other side")
	return nil
}

// AnswerWindow is the time the person at the other end has to paste the
// answer: the paste window.
func (p *Signaler) AnswerWindow() time.Duration { return p.timeout() }

// print encodes sd and prints it where blobs go.
func (p *Signaler) print(sd webrtc.SessionDescription, f signal.Format, what string) error {
	blob, err := signal.Encode(sd, f)
	if err != nil {
		return fmt.Errorf("encode %s: %w", what, err)
	}
	p.Console.Linef("%s blob (%d characters; %s):", what, len(blob), DescribeCandidates(sd.SDP))
	if len(p.STUN) > 0 && !hasServerCandidate(sd.SDP) {
		p.Console.Linef("no answer from %s: only local addresses are offered, so this works on the same network only", strings.Join(p.STUN, ", "))
	}
	w, tty := p.Streams.Out, p.Streams.OutTerminal
	if p.BlobToErr {
		w, tty = p.Streams.Err, false
	}
	if err := Print(w, blob, PrintOptions{Clipboard: p.Clipboard && tty, QR: p.QR, QRTo: p.Console}); err != nil {
		return fmt.Errorf("print %s: %w", what, err)
	}
	return nil
}

// read gets the other side's blob: given up front, typed or pasted into a
// terminal (re-prompting on a bad paste), or piped in (one try).
func (p *Signaler) read(ctx context.Context, want webrtc.SDPType, prompt string) (webrtc.SessionDescription, signal.Format, error) {
	if p.Remote != "" {
		return signal.DecodeAs(p.Remote, want)
	}
	pctx, cancel := context.WithTimeout(ctx, p.timeout())
	defer cancel()
	deadline, _ := pctx.Deadline()
	stop := p.Console.Countdown(deadline, "to paste the "+want.String()+" blob")
	defer stop()
	var (
		sd     webrtc.SessionDescription
		format signal.Format
		err    error
	)
	if prompt != "" {
		p.Console.Linef("%s", prompt)
	}
	switch {
	case p.RemoteOpen != nil:
		var in io.ReadCloser
		if in, err = p.RemoteOpen(pctx); err == nil {
			sd, format, err = Read(pctx, in, want)
			in.Close()
		}
	case p.Streams.InTerminal != nil:
		sd, format, err = readTerminal(pctx, p.Streams.InTerminal, p.Console, want, p.Hints, p.other(want))
	default:
		if p.feed == nil {
			p.feed = newLineFeed(p.Streams.In)
		}
		sd, format, err = p.feed.readBlob(pctx, want, p.other(want))
	}
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return sd, format, fmt.Errorf("%w: the %s blob did not arrive within %s", ErrPasteTimeout, want, p.timeout())
	}
	return sd, format, err
}

// other is what the Signaler takes instead of a blob of type want.
func (p *Signaler) other(want webrtc.SDPType) *Other {
	if want != webrtc.SDPTypeOffer {
		return nil
	}
	return p.Other
}

// fromTerminal reports whether the other side's blob is typed or pasted
// by a person, who can be asked again.
func (p *Signaler) fromTerminal() bool {
	return p.Remote == "" && p.RemoteOpen == nil && p.Streams.InTerminal != nil
}

// hasServerCandidate reports whether an SDP carries a candidate learnt from
// a STUN or TURN server (srflx or relay).
func hasServerCandidate(sdp string) bool {
	return strings.Contains(sdp, " typ srflx") || strings.Contains(sdp, " typ relay")
}

// DescribeCandidates says which kinds of ICE candidates an SDP carries,
// e.g. "candidates: 2 host, 1 srflx", so that a missing kind (no srflx: the
// STUN server did not answer) shows before the call fails.
func DescribeCandidates(sdp string) string {
	counts := map[string]int{}
	for _, line := range strings.Split(sdp, "\n") {
		if !strings.HasPrefix(line, "a=candidate:") {
			continue
		}
		f := strings.Fields(line)
		// a=candidate:foundation component transport priority address port typ TYPE ...
		if len(f) >= 8 && f[6] == "typ" && f[1] == "1" {
			counts[f[7]]++
		}
	}
	if len(counts) == 0 {
		return "no candidates: no network interface to offer"
	}
	var parts []string
	for _, k := range []string{"host", "srflx", "prflx", "relay"} {
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
		}
	}
	return "candidates: " + strings.Join(parts, ", ")
}
