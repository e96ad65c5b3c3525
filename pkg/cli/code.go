package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/spf13/pflag"

	"github.com/p2pcam/p2pcam/pkg/iostreams"
	"github.com/p2pcam/p2pcam/pkg/session"
	"github.com/p2pcam/p2pcam/signal/paste"
	"github.com/p2pcam/p2pcam/signal/wormhole"
)

// rendezvousEnv names the environment variable that chooses the mailbox
// server for short codes when --rendezvous is not given.
const rendezvousEnv = "P2PCAM_RENDEZVOUS"

// codeOptions are the flags of calls by short code, as typed.
type codeOptions struct {
	code       bool   // offer --code
	words      int    // offer --code-words
	rendezvous string // --rendezvous
}

// addCodeFlags registers the short-code flags of role.
func addCodeFlags(fs *pflag.FlagSet, co *codeOptions, role session.Role) {
	if role == session.Offerer {
		fs.BoolVar(&co.code, "code", false, "no blobs: print a short code (like 7-guitarist-revenge) to read out; the other side runs p2pcam answer CODE, and the descriptions meet, encrypted, at a rendezvous server")
		fs.IntVar(&co.words, "code-words", wormhole.DefaultWords, fmt.Sprintf("words in a --code after its number, %d to %d: each makes a guess 256 times less likely", wormhole.MinWords, wormhole.MaxWords))
	}
	fs.StringVar(&co.rendezvous, "rendezvous", "", "mailbox server (magic-wormhole's) where codes meet (default $"+rendezvousEnv+", else "+wormhole.DefaultServer+")")
}

// codeCall is a validated call by code.
type codeCall struct {
	cfg  wormhole.Config
	code string // answer: the code given
	// serverArg is the --rendezvous to repeat on the other machine, ""
	// when it uses the default.
	serverArg string
}

// apply turns r, validated as a copy-paste call, into a call by code
// when the flags ask for one (offer --code, or answer given a code, told
// from a blob by its shape, as its argument or in its --remote file), and
// refuses the flags that do nothing there; set reports the flags given.
// An answer that reads the offer at its prompt or from its pipe stays a
// copy-paste call that also takes a code there. apply refuses the code
// flags in the other modes.
func (co *codeOptions) apply(r callRun, o *callOptions, args []string, set func(string) bool, getenv func(string) string) (callRun, error) {
	answer := r.call.role == session.Answerer
	byCode := co.code || (answer && r.mode == modePaste && wormhole.IsCode(r.call.paste.Remote))
	prompt := answer && r.mode == modePaste && r.call.paste.Remote == "" && r.call.paste.RemoteOpen == nil
	if !byCode && !prompt {
		for _, f := range []string{"code-words", "rendezvous"} {
			if set(f) {
				return r, usagef("--%s does nothing with %s: it belongs to calls by code (p2pcam offer --code, p2pcam answer CODE)", f, r.mode.flag())
			}
		}
		return r, nil
	}
	if byCode && r.mode != modePaste {
		return r, usagef("give --code or %s, not both", r.mode.flag())
	}
	if !answer && (len(args) > 0 || o.remote != "") {
		return r, usagef("--code exchanges descriptions through the rendezvous server: it takes no blob")
	}
	if byCode {
		for _, f := range []string{"blob-format", "no-clipboard", "qr"} {
			if set(f) {
				return r, usagef("--%s does nothing with --code: a code is no blob", f)
			}
		}
	}
	if !answer && (co.words < wormhole.MinWords || co.words > wormhole.MaxWords) {
		return r, usagef("bad --code-words %d: use %d to %d", co.words, wormhole.MinWords, wormhole.MaxWords)
	}
	call := codeCall{code: strings.TrimSpace(r.call.paste.Remote)}
	server := co.rendezvous
	if server == "" {
		server = getenv(rendezvousEnv)
	}
	if server != "" {
		u, err := url.Parse(server)
		if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			return r, usagef("bad rendezvous server %q: give its ws:// or wss:// URL, e.g. %s", server, wormhole.DefaultServer)
		}
		if server != wormhole.DefaultServer {
			call.serverArg = server
		}
	}
	call.cfg = wormhole.Config{Server: server, Words: co.words, Timeout: r.call.paste.Timeout}
	if !byCode {
		// A code typed or piped where the offer blob is read.
		r.call.paste.Other = &paste.Other{Name: "the code", Takes: wormhole.IsCode}
		r.call.answerWith = func(sig *paste.Signaler) session.AnswerSignaler {
			return &pasteOrCode{paste: sig, call: call}
		}
		return r, nil
	}
	r.mode, r.code = modeCode, &call
	return r, nil
}

// server is the mailbox server the call uses.
func (c codeCall) server() string {
	if c.cfg.Server != "" {
		return c.cfg.Server
	}
	return wormhole.DefaultServer
}

// pasteOrCode is the answering side's signaler when the offer is read at
// the prompt or from the pipe, where a person may give a code instead of
// the blob: the copy-paste exchange, which stops at a code, then the
// exchange by that code.
type pasteOrCode struct {
	paste *paste.Signaler
	call  codeCall
	code  *wormhole.Answer // once a code was given
}

// ExchangeAnswer implements session.AnswerSignaler.
func (s *pasteOrCode) ExchangeAnswer(ctx context.Context, makeAnswer func(context.Context, webrtc.SessionDescription) (webrtc.SessionDescription, error)) error {
	err := s.paste.ExchangeAnswer(ctx, makeAnswer)
	var oe *paste.OtherError
	if !errors.As(err, &oe) {
		return err
	}
	cfg := s.call.cfg
	cfg.Console = s.paste.Console
	if s.code, err = wormhole.NewAnswer(cfg, oe.Text); err != nil {
		return err
	}
	defer s.code.Close()
	cfg.Console.Linef("meeting the other side at %s with code %s", s.call.server(), s.code.Code())
	return codeErr(s.code.Code().String(), s.code.ExchangeAnswer(ctx, makeAnswer))
}

// AnswerWindow implements session.AnswerSignaler: the paste window for a
// blob, none once the code took the answer across.
func (s *pasteOrCode) AnswerWindow() time.Duration {
	if s.code != nil {
		return s.code.AnswerWindow()
	}
	return s.paste.AnswerWindow()
}

// runCodeCall runs a call whose descriptions meet at a rendezvous server,
// behind a code: the offering side allocates the code and prints it at
// once (stdout carries it, as it would a blob), the answering side uses
// the code it was given. The verification code is shown as for blobs:
// the two people, who told each other the code, can compare it.
func runCodeCall(ctx context.Context, e *env, cc callConfig, call codeCall) error {
	con := iostreams.NewConsole(e.Err, e.ErrTerminal)
	call.cfg.Console = con
	call.cfg.Log = e.loggerTo(con)
	if cc.role == session.Answerer {
		a, err := wormhole.NewAnswer(call.cfg, call.code)
		if err != nil {
			return err
		}
		defer a.Close()
		con.Linef("meeting the other side at %s with code %s", call.server(), a.Code())
		return codeErr(a.Code().String(), runSession(ctx, e, cc, con, true, func(cfg *session.Config) { cfg.Answer = a }))
	}
	o, err := wormhole.Allocate(ctx, call.cfg)
	if err != nil {
		return fmt.Errorf("get a code: %w", err)
	}
	defer o.Close()
	out := e.Out
	if cc.paste.BlobToErr {
		out = con
	}
	code := o.Code().String()
	fmt.Fprintf(out, "code: %s\n", code)
	run := "p2pcam answer " + code
	if call.serverArg != "" {
		run += " --rendezvous " + call.serverArg
	}
	con.Linef("on the other machine, run: %s", run)
	con.Linef("the code works once, within %s, through %s", iostreams.Clock(call.cfg.Timeout), call.server())
	return codeErr(code, runSession(ctx, e, cc, con, true, func(cfg *session.Config) { cfg.Offer = o }))
}

// codeErr names the code in the errors of the exchange by code.
func codeErr(code string, err error) error {
	if isCodeError(err) {
		return fmt.Errorf("exchange by code %s: %w", code, err)
	}
	return err
}

// isCodeError reports errors of package wormhole's exchange.
func isCodeError(err error) bool {
	var se *wormhole.ServerError
	for _, e := range []error{wormhole.ErrWrongCode, wormhole.ErrTampered, wormhole.ErrCrowded,
		wormhole.ErrNoSuchCode, wormhole.ErrTimeout, wormhole.ErrPeerGone} {
		if errors.Is(err, e) {
			return true
		}
	}
	return errors.As(err, &se)
}

// codeHints returns advice for the failures of calls by code.
func codeHints(err error) []string {
	const (
		newCode  = "start again with a new code: p2pcam offer --code"
		noServer = "copy-paste needs no server: leave out --code and carry the blobs; or choose another server with --rendezvous URL (or $" + rendezvousEnv + ")"
	)
	var (
		se *wormhole.ServerError
		ce *wormhole.CodeError
	)
	switch {
	case errors.Is(err, wormhole.ErrWrongCode):
		return []string{newCode + ", and read it out carefully"}
	case errors.Is(err, wormhole.ErrTampered):
		return []string{"someone between you and the rendezvous server changed a message: " + newCode + ", or carry blobs by copy-paste (leave out --code)"}
	case errors.Is(err, wormhole.ErrCrowded):
		return []string{"someone else holds this code: " + newCode}
	case errors.Is(err, wormhole.ErrNoSuchCode):
		return []string{"check the number and the words with the other side: a code works once, within --paste-timeout of p2pcam offer --code, and through the same --rendezvous server"}
	case errors.Is(err, wormhole.ErrTimeout):
		return []string{newCode + "; --paste-timeout gives more time"}
	case errors.Is(err, wormhole.ErrPeerGone):
		return []string{"the other side says why on its screen; " + newCode}
	case errors.As(err, &se):
		if errors.Is(err, wormhole.ErrUnreachable) {
			return []string{"check the network, and the address of the server", noServer}
		}
		return []string{noServer}
	case errors.As(err, &ce):
		return []string{"a code is the number and the words p2pcam offer --code printed, e.g. 7-guitarist-revenge"}
	}
	return nil
}
