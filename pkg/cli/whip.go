package cli

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/p2pcam/p2pcam/pkg/iostreams"
	"github.com/p2pcam/p2pcam/pkg/session"
	"github.com/p2pcam/p2pcam/signal/whip"
)

// bearerEnv names the environment variable that carries the WHIP/WHEP
// token when --bearer is not given: flags show in ps, the environment does
// not.
const bearerEnv = "P2PCAM_BEARER"

// deleteWithin bounds the DELETE that ends the session on the server.
const deleteWithin = 5 * time.Second

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
		return "", usagef("bad %s %q: give the endpoint's http:// or https:// URL", flag, endpoint)
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
	err := runSession(ctx, e, cc, con, false, func(cfg *session.Config) {
		cfg.Offer = client
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
	})
	if err != nil {
		return fmt.Errorf("%s %s: %w", verb, redactURL(mc.endpoint), err)
	}
	return nil
}

// redactURL drops the credentials and query of an endpoint for messages:
// tokens sometimes travel there.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	u.User, u.RawQuery = nil, ""
	return u.String()
}
