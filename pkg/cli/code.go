package cli

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/p2pcam/p2pcam/pkg/iostreams"
	"github.com/p2pcam/p2pcam/pkg/session"
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

// config decides whether the call goes by code (ok) and checks the flags
// that go with codes: offer --code, or answer given a code (told from a
// blob by its shape) as its argument or in its --remote file.
func (co *codeOptions) config(fs *pflag.FlagSet, o *callOptions, cc callConfig, args []string, getenv func(string) string) (codeCall, bool, error) {
	var call codeCall
	byCode := co.code
	if cc.role == session.Answerer && wormhole.IsCode(cc.paste.Remote) {
		byCode = true
		call.code = strings.TrimSpace(cc.paste.Remote)
	}
	if !byCode {
		if fs.Changed("code-words") {
			return call, false, usagef("--code-words goes with --code")
		}
		if fs.Changed("rendezvous") {
			return call, false, usagef("--rendezvous goes with codes: p2pcam offer --code, p2pcam answer CODE")
		}
		return call, false, nil
	}
	switch {
	case cc.role == session.Offerer && (len(args) > 0 || o.remote != ""):
		return call, false, usagef("--code exchanges descriptions through the rendezvous server: it takes no blob")
	case o.whip != "" || o.serve != "" || o.whep != "":
		return call, false, usagef("codes go with calls between two p2pcams, not with --whip, --whep or --serve")
	case cc.role == session.Offerer && (co.words < wormhole.MinWords || co.words > wormhole.MaxWords):
		return call, false, usagef("bad --code-words %d: use %d to %d", co.words, wormhole.MinWords, wormhole.MaxWords)
	case fs.Changed("blob-format"):
		return call, false, usagef("--blob-format is for blobs; a code needs none")
	}
	server := co.rendezvous
	if server == "" {
		server = getenv(rendezvousEnv)
	}
	if server != "" {
		u, err := url.Parse(server)
		if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			return call, false, usagef("bad rendezvous server %q: give its ws:// or wss:// URL, e.g. %s", server, wormhole.DefaultServer)
		}
		if server != wormhole.DefaultServer {
			call.serverArg = server
		}
	}
	call.cfg = wormhole.Config{Server: server, Words: co.words, Timeout: cc.paste.Timeout}
	return call, true, nil
}

// server is the mailbox server the call uses.
func (c codeCall) server() string {
	if c.cfg.Server != "" {
		return c.cfg.Server
	}
	return wormhole.DefaultServer
}

// runCodeCall runs a call whose descriptions meet at a rendezvous server,
// behind a code: the offering side allocates the code and prints it at
// once (stdout carries it, as it would a blob), the answering side uses
// the code it was given.
func runCodeCall(cmd *cobra.Command, e *env, cc callConfig, call codeCall) error {
	ctx := cmd.Context()
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
		return codeErr(a.Code().String(), runSession(ctx, e, cc, con, false, func(cfg *session.Config) { cfg.Answer = a }))
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
	return codeErr(code, runSession(ctx, e, cc, con, false, func(cfg *session.Config) { cfg.Offer = o }))
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
