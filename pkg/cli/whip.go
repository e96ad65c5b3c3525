package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/p2pcam/p2pcam/pkg/codec"
	"github.com/p2pcam/p2pcam/pkg/codecs"
	"github.com/p2pcam/p2pcam/pkg/iostreams"
	"github.com/p2pcam/p2pcam/pkg/serve"
	"github.com/p2pcam/p2pcam/pkg/session"
	"github.com/p2pcam/p2pcam/signal/whip"
)

// bearerEnv names the environment variable that carries the WHIP/WHEP
// token when --bearer is not given: flags show in ps, the environment does
// not.
const bearerEnv = "P2PCAM_BEARER"

// opusFECEnv names the environment variable that, set to "off", turns
// the sound's in-band FEC off: a test knob for measuring what FEC buys
// under loss (make bench-loss), not a setting for calls.
const opusFECEnv = "P2PCAM_OPUS_FEC"

// whepEnv names the environment variable that carries answer's WHEP URL
// when --whep is not given and no blob is: the URL of p2pcam offer
// --serve holds its token, which ps would show.
const whepEnv = "P2PCAM_WHEP"

// serveTokenEnv names the environment variable that carries --serve's
// token when --serve-token is not given.
const serveTokenEnv = "P2PCAM_SERVE_TOKEN"

// deleteWithin bounds the DELETE that ends the session on the server.
const deleteWithin = 5 * time.Second

// whepFromEnv sets --whep from $P2PCAM_WHEP when it is not given and
// neither is a blob (an argument or --remote): a viewer of p2pcam offer
// --serve keeps the token out of ps. It runs before validate, which then
// sees the mode the environment asks for.
func (o *callOptions) whepFromEnv(args []string) {
	if o.whep == "" && len(args) == 0 && o.remote == "" {
		o.whep = os.Getenv(whepEnv)
	}
}

// mediaServerConfig checks the --whip or --whep URL (validate has checked
// the flags that go with it) and returns it; "" when neither is given.
func (o *callOptions) mediaServerConfig() (string, error) {
	endpoint, flag := o.whip, "--whip"
	if o.whep != "" {
		endpoint, flag = o.whep, "--whep"
	}
	if endpoint == "" {
		return "", nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", usagef("bad %s %q: give the endpoint's http:// or https:// URL", flag, redactURL(endpoint))
	}
	return endpoint, nil
}

// runMediaServer runs a call whose descriptions meet at a WHIP or WHEP
// endpoint: this side offers (publishing the camera, or a receive-only
// offer to play), the server answers, and the session is DELETEd on every
// way out.
func runMediaServer(ctx context.Context, e *env, cc callConfig, mc mediaConfig) error {
	token := mc.bearer
	if token == "" {
		token = os.Getenv(bearerEnv)
	}
	client := &whip.Client{Endpoint: mc.endpoint, Token: token}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deleteWithin)
		defer cancel()
		if err := client.Close(dctx); err != nil {
			e.logger().Debug("ending the session on the server", "err", err)
		}
	}()
	verb := "playing"
	if mc.publish {
		verb = "publishing to"
	}
	con := iostreams.NewConsole(e.Err, e.ErrTerminal)
	con.Linef("%s %s", verb, redactURL(mc.endpoint))
	secrets := urlSecrets(mc.endpoint)
	videoOnly := false
	attach := func(cfg *session.Config) {
		cfg.Offer = client
		if videoOnly {
			cfg.Codecs = slices.DeleteFunc(slices.Clone(codecs.All()), func(d codec.Descriptor) bool { return d.Kind != codec.Video })
		}
		// ICE servers the server offers (RFC 9725 §4.6), when the user
		// gave none.
		if !mc.askICE {
			return
		}
		if servers, err := client.ICEServers(ctx); err != nil {
			e.logger().Debug("asking the server for ICE servers", "err", err)
		} else if len(servers) > 0 {
			cfg.ICEServers = servers
		}
	}
	err := runSession(ctx, e, cc, con, false, attach)
	if !mc.publish && soundRefused(err) {
		// A player asks for sound too; mediamtx refuses the whole offer
		// when the stream has none. Ask again for the picture alone.
		e.logger().Debug("the server refused the offer with sound; asking for video alone", "err", err)
		videoOnly = true
		err = runSession(ctx, e, cc, con, false, attach)
	}
	if err != nil {
		return redactErr(fmt.Errorf("%s %s: %w", verb, redactURL(mc.endpoint), err), secrets)
	}
	return nil
}

// soundRefused reports whether err is a server's refusal of a player's
// offer for its codecs (mediamtx: 400 "codecs not supported by client"),
// which a stream without sound gives an offer that asks for sound.
func soundRefused(err error) bool {
	var he *whip.HTTPError
	return errors.As(err, &he) && he.Method == http.MethodPost && he.Status == http.StatusBadRequest &&
		strings.Contains(strings.ToLower(he.Message), "codec")
}

// redactURL drops the credentials and query of an endpoint for messages,
// and hides path elements that look like secrets (p2pcam offer --serve
// puts its token there): tokens travel in all three.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<unparsable url>"
	}
	u.User, u.RawQuery = nil, ""
	segs := strings.Split(u.Path, "/")
	for i, seg := range segs {
		if isSecret(seg) {
			segs[i] = "<token>"
		}
	}
	u.Path, u.RawPath = strings.Join(segs, "/"), ""
	return strings.Replace(u.String(), "%3Ctoken%3E", "<token>", -1)
}

// isSecret reports whether a path element looks like a token: long and
// random enough to be one (serve.TokenBits), with letters and digits
// mixed, not words.
func isSecret(seg string) bool {
	return len(seg) >= 16 && serve.TokenBits(seg) >= 80 &&
		strings.ContainsAny(seg, "0123456789") && strings.ContainsFunc(seg, unicode.IsLetter)
}

// urlSecrets returns the parts of u that redactURL hides: its password,
// its query and its secret-looking path elements.
func urlSecrets(s string) []string {
	u, err := url.Parse(s)
	if err != nil {
		return []string{s}
	}
	var out []string
	if p, ok := u.User.Password(); ok && p != "" {
		out = append(out, p)
	}
	if u.RawQuery != "" {
		out = append(out, u.RawQuery)
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if isSecret(seg) {
			out = append(out, seg)
		}
	}
	return out
}

// redactedError hides secrets that a wrapped error's text may carry (a
// URL in a transport error); errors.Is and As see through it.
type redactedError struct {
	err     error
	secrets []string
}

func (e *redactedError) Error() string {
	s := e.err.Error()
	for _, sec := range e.secrets {
		s = strings.ReplaceAll(s, sec, "<token>")
	}
	return s
}

func (e *redactedError) Unwrap() error { return e.err }

// redactErr wraps err so that its text shows none of secrets.
func redactErr(err error, secrets []string) error {
	if err == nil || len(secrets) == 0 {
		return err
	}
	return &redactedError{err: err, secrets: secrets}
}
