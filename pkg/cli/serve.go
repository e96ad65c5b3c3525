package cli

import (
	"context"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"

	"github.com/p2pcam/p2pcam/pkg/capture"
	"github.com/p2pcam/p2pcam/pkg/iostreams"
	"github.com/p2pcam/p2pcam/pkg/serve"
	"github.com/p2pcam/p2pcam/pkg/session"
	"github.com/p2pcam/p2pcam/signal/paste"
)

// serveSetup is a validated --serve: the server's configuration, and
// where its --stats lines go.
type serveSetup struct {
	serve serve.Config
	stats string // --stats: a path, "-" for stderr, "" for none
}

// serveConfig builds --serve's configuration from the call's: the same
// sources (video and sound) and the same capture options a call would
// open. validate has already refused the flags that do nothing with
// --serve (a blob, --remote, -o, --view, --measure). The listener,
// --stats and standard input are opened by runServe.
func (o *callOptions) serveConfig(cc callConfig) (serveSetup, error) {
	token, from := o.serveToken, "--serve-token"
	if token == "" {
		token, from = os.Getenv(serveTokenEnv), "$"+serveTokenEnv
	}
	if token != "" {
		if err := serve.CheckToken(token); err != nil {
			return serveSetup{}, usageError{fmt.Errorf("bad %s: %w", from, err)}
		}
	}
	c := cc.session
	sc, err := c.SenderConfig()
	if err != nil {
		return serveSetup{}, err
	}
	return serveSetup{
		serve: serve.Config{
			Token:  token,
			Source: c.Source, Capture: sc.VideoOptions,
			Audio: sc.Audio, AudioOptions: sc.AudioOptions,
			ICEServers: c.ICEServers, Interfaces: c.Interfaces, Duration: c.Duration,
		},
		stats: cc.stats,
	}, nil
}

// captureOptions are the capture options a call's configuration asks for,
// exactly as session opens its source with them: --serve opens its source
// with the same.
func captureOptions(c session.Config) (capture.Options, error) {
	sc, err := c.SenderConfig()
	return sc.VideoOptions, err
}

// runServe serves the camera to viewers on addr until ctx ends.
func runServe(ctx context.Context, e *env, addr string, ss serveSetup, qr bool) error {
	cfg := ss.serve
	var err error
	if cfg.Source, err = stdinSource(e, cfg.Source, "ffmpeg -i talk.mp4 -f yuv4mpegpipe - | p2pcam offer --serve :8080 --source -"); err != nil {
		return err
	}
	con := iostreams.NewConsole(e.Err, e.ErrTerminal)
	// Open --stats first: a bad path should fail before any network.
	stats, closeStats, err := openStats(ss.stats, con)
	if err != nil {
		return err
	}
	defer closeStats()
	cfg.Stats = stats
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on --serve %s: %w", addr, err)
	}
	cfg.Listener = ln
	cfg.Logger = e.logger()
	cfg.Events = func(ev serve.Event) {
		switch ev := ev.(type) {
		case serve.Listening:
			pages, wheps := reachable(ev.Page, cfg.Interfaces), reachable(ev.WHEP, cfg.Interfaces)
			con.Linef("serving the camera; open the page in a browser, or play the WHEP endpoint (p2pcam answer --whep URL):")
			for i := range pages {
				fmt.Fprintf(e.Out, "page: %s\n", pages[i])
				fmt.Fprintf(e.Out, "whep: %s\n", wheps[i])
			}
			if qr && len(pages) > 0 {
				_ = paste.Print(con, pages[0], paste.PrintOptions{QR: true})
			}
			if cfg.Token != "" {
				con.Linef("the token in these URLs is the only key: share them only with viewers; they work again after a restart with the same token; Ctrl-C stops")
			} else {
				con.Linef("the token in these URLs is the only key: share them only with viewers; they change with every run (keep one with $%s); Ctrl-C stops", serveTokenEnv)
			}
		case serve.ViewerJoined:
			con.Linef("viewer %s joined over %s (%d watching)", ev.ID, ev.Pair, ev.Viewers)
		case serve.ViewerLeft:
			con.Linef("viewer %s left: %s (%d watching)", ev.ID, ev.Reason, ev.Viewers)
		case serve.SourceEnded:
			con.Linef("the source ended; stopping")
		}
	}
	return serve.Run(ctx, cfg)
}

// reachable turns a URL on an unspecified address (":8080") into one URL
// per address of this machine that viewers could use, loopback last.
func reachable(u string, interfaces []string) []string {
	rest, ok := strings.CutPrefix(u, "http://")
	if !ok {
		return []string{u}
	}
	hostport, path, _ := strings.Cut(rest, "/")
	host, port, err := net.SplitHostPort(hostport)
	if err != nil || !net.ParseIP(host).IsUnspecified() {
		return []string{u}
	}
	var out, loop []string
	ifs, _ := net.Interfaces()
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || (len(interfaces) > 0 && !slices.Contains(interfaces, ifc.Name)) {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.To4() == nil {
				continue
			}
			s := "http://" + net.JoinHostPort(ipn.IP.String(), port) + "/" + path
			if ipn.IP.IsLoopback() {
				loop = append(loop, s)
			} else {
				out = append(out, s)
			}
		}
	}
	if out = append(out, loop...); len(out) == 0 {
		return []string{u}
	}
	return out
}
