package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/pkg/peer"
	"github.com/p2pcam/p2pcam/signal"
)

// negotiate runs this side's half of the offer/answer exchange and returns
// how long to wait for the connection from now.
func (s *session) negotiate(ctx context.Context, p *peer.Peer) (time.Duration, error) {
	if s.cfg.Role == Answerer {
		offer, format, err := s.readBlob(ctx, webrtc.SDPTypeOffer, "")
		if err != nil {
			return 0, err
		}
		answer, err := p.Answer(ctx, offer)
		if err != nil {
			return 0, err
		}
		if err := s.printBlob(answer, format, "answer"); err != nil {
			return 0, err
		}
		s.say.line("paste the answer blob into `p2pcam offer` on the other side; waiting up to %s", s.cfg.PasteTimeout)
		return s.cfg.PasteTimeout + s.cfg.ConnectTimeout, nil
	}
	offer, err := p.Offer(ctx)
	if err != nil {
		return 0, err
	}
	if err := s.printBlob(offer, s.cfg.BlobFormat, "offer"); err != nil {
		return 0, err
	}
	answer, _, err := s.readBlob(ctx, webrtc.SDPTypeAnswer, "run `p2pcam answer` on the other side, paste this blob into it, then paste its answer here")
	if err != nil {
		return 0, err
	}
	if err := p.Accept(answer); err != nil {
		return 0, err
	}
	s.say.line("connecting…")
	return s.cfg.ConnectTimeout, nil
}

// printBlob encodes sd and prints it where blobs go: stdout, or stderr when
// stdout carries video.
func (s *session) printBlob(sd webrtc.SessionDescription, f signal.Format, what string) error {
	blob, err := signal.Encode(sd, f)
	if err != nil {
		return fmt.Errorf("encode %s: %w", what, err)
	}
	s.say.line("%s blob (%d characters; %s):", what, len(blob), describeCandidates(sd.SDP))
	w, tty := s.io.Out, s.io.OutTerminal
	if s.cfg.Output == "-" {
		w, tty = s.io.Err, false
	}
	if err := signal.Print(w, blob, signal.PrintOptions{Clipboard: s.cfg.Clipboard && tty, QR: s.cfg.QR, QRTo: s.say}); err != nil {
		return fmt.Errorf("print %s: %w", what, err)
	}
	return nil
}

// describeCandidates says which kinds of ICE candidates an SDP carries,
// e.g. "candidates: 2 host, 1 srflx", so that a missing kind (no srflx: the
// STUN server did not answer) shows before the call fails.
func describeCandidates(sdp string) string {
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

// readBlob gets the other side's blob: given up front, typed or pasted
// into a terminal (re-prompting on a bad paste), or piped in (one try).
func (s *session) readBlob(ctx context.Context, want webrtc.SDPType, prompt string) (webrtc.SessionDescription, signal.Format, error) {
	if s.cfg.RemoteBlob != "" {
		return signal.DecodeAs(s.cfg.RemoteBlob, want)
	}
	pctx, cancel := context.WithTimeout(ctx, s.cfg.PasteTimeout)
	defer cancel()
	deadline, _ := pctx.Deadline()
	stop := s.say.countdown(deadline, "to paste the "+want.String()+" blob")
	defer stop()
	var (
		sd     webrtc.SessionDescription
		format signal.Format
		err    error
	)
	if s.io.InTerminal != nil {
		if prompt != "" {
			s.say.line("%s", prompt)
		}
		sd, format, err = signal.ReadTerminal(pctx, s.io.InTerminal, s.say, want)
	} else {
		sd, format, err = signal.Read(pctx, s.io.In, want)
	}
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return sd, format, fmt.Errorf("%w: the %s blob did not arrive within %s", ErrPasteTimeout, want, s.cfg.PasteTimeout)
	}
	return sd, format, err
}
