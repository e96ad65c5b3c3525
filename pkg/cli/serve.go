package cli

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/p2pcam/p2pcam/pkg/iostreams"
	"github.com/p2pcam/p2pcam/pkg/serve"
	"github.com/p2pcam/p2pcam/signal/paste"
)

// serveConfig checks that the flags fit --serve and builds its
// configuration; the listener is opened by runServe. --serve with --whip
// is refused earlier, by mediaServerConfig.
func (o *callOptions) serveConfig(cc callConfig, args []string) (serve.Config, error) {
	switch {
	case len(args) > 0 || o.remote != "":
		return serve.Config{}, usagef("--serve answers viewers itself: it takes no blob")
	case cc.session.Output != "":
		return serve.Config{}, usagef("--serve sends only: record at a viewer (p2pcam answer --whep URL -o FILE)")
	case o.measure:
		return serve.Config{}, usagef("--measure belongs on a viewer: p2pcam answer --whep URL --measure -o FILE")
	case o.view:
		return serve.Config{}, usagef("--serve sends only: watch at a viewer (p2pcam answer --whep URL --view)")
	}
	c := cc.session
	return serve.Config{
		Source: c.Source, Width: c.Width, Height: c.Height, FPS: c.FPS,
		Bitrate: c.Bitrate, CPUUsed: c.CPUUsed,
		ICEServers: c.ICEServers, Interfaces: c.Interfaces, Duration: c.Duration,
	}, nil
}

// runServe serves the camera to viewers on addr until ctx ends.
func runServe(ctx context.Context, e *env, addr string, cfg serve.Config, qr bool) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on --serve %s: %w", addr, err)
	}
	cfg.Listener = ln
	con := iostreams.NewConsole(e.Err, e.ErrTerminal)
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
			con.Linef("the token in these URLs is the only key: share them only with viewers; Ctrl-C stops")
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
