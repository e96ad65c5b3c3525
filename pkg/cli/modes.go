package cli

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/p2pcam/p2pcam/pkg/capture"
	"github.com/p2pcam/p2pcam/pkg/session"
)

// mode is the way a call's descriptions travel, which decides the flags
// that mean something.
type mode int

const (
	modePaste mode = iota // copy-paste blobs, offer or answer
	modeWHIP              // offer --whip: publish to a media server
	modeWHEP              // answer --whep: play from a media server or --serve
	modeServe             // offer --serve: serve viewers from here
	modeCode              // offer --code, answer CODE: meet at a rendezvous server (code.go)
)

// modeOf returns the mode o asks for.
func modeOf(o *callOptions) mode {
	switch {
	case o.whip != "":
		return modeWHIP
	case o.whep != "":
		return modeWHEP
	case o.serve != "":
		return modeServe
	}
	return modePaste
}

func (m mode) flag() string {
	switch m {
	case modeWHIP:
		return "--whip"
	case modeWHEP:
		return "--whep"
	case modeServe:
		return "--serve"
	case modeCode:
		return "--code"
	}
	return "copy-paste"
}

// validate refuses, as a usage error, every flag given (set reports which
// were) that does nothing in the mode the flags ask for, and a --serve
// address that is not one; src is --source, parsed. It is a pure function
// of its inputs; config checks the values themselves.
func validate(o *callOptions, src capture.Source, args []string, set func(name string) bool) error {
	m := modeOf(o)
	if o.whip != "" && o.serve != "" {
		return usagef("give --serve or --whip, not both")
	}
	if m == modeServe {
		if err := checkServeAddr(o.serve); err != nil {
			return err
		}
	}
	sends := src.Kind != capture.None
	camera := src.Kind == capture.Camera
	receives := m == modePaste || m == modeWHEP
	// Flags that belong to one mode only.
	only := []struct {
		flag  string
		modes []mode
	}{
		{"blob-format", []mode{modePaste}},
		{"paste-timeout", []mode{modePaste}},
		{"remote", []mode{modePaste}},
		{"no-clipboard", []mode{modePaste}},
		{"qr", []mode{modePaste, modeServe}},
		{"bearer", []mode{modeWHIP, modeWHEP}},
		{"serve-token", []mode{modeServe}},
		{"connect-timeout", []mode{modePaste, modeWHIP, modeWHEP}},
		{"silence-timeout", []mode{modePaste, modeWHIP, modeWHEP}},
	}
	for _, f := range only {
		if !set(f.flag) || slices.Contains(f.modes, m) {
			continue
		}
		return usagef("--%s does nothing with %s: %s", f.flag, m.flag(), where(f.modes))
	}
	if len(args) > 0 && m != modePaste {
		return usagef("%s exchanges descriptions without blobs: it takes no blob argument", m.flag())
	}
	if m == modeWHEP && sends {
		return usagef("--whep only plays: drop --source (publish with p2pcam offer --whip URL)")
	}
	// What is sent.
	if !sends {
		for _, f := range []string{"width", "height", "fps", "bitrate", "cpu-used", "camera-format"} {
			if set(f) {
				return usagef("--%s shapes the video this side sends, and --source none sends none", f)
			}
		}
	}
	if set("camera-format") && sends && !camera {
		return usagef("--camera-format picks a camera's pixel format, and --source %s is no camera", o.source)
	}
	if set("width") || set("height") {
		if src.Kind == capture.File {
			return usagef("--width and --height do not apply to --source %s: a Y4M file plays at its own size (scale it with ffmpeg -vf scale=W:H)", o.source)
		}
	}
	// What is received.
	if !receives {
		for _, f := range []string{"output", "force", "view", "measure"} {
			if set(f) {
				return usageError{sendOnly(m, f)}
			}
		}
	}
	if set("ice-user") || set("ice-password") {
		turn := false
		for _, u := range o.iceServers {
			turn = turn || strings.HasPrefix(u, "turn:") || strings.HasPrefix(u, "turns:")
		}
		if !turn {
			return usagef("--ice-user and --ice-password are a TURN server's credentials, and no --ice-server turn:HOST:PORT is given")
		}
	}
	if set("force") && (o.output == "-" || o.output == "none") {
		return usagef("--force overwrites an --output file, and -o %s is none", o.output)
	}
	return nil
}

// sendOnly refuses a flag about received video in a mode that only
// sends, saying where it belongs.
func sendOnly(m mode, flag string) error {
	switch {
	case flag == "measure":
		return fmt.Errorf("--measure belongs on a viewer: p2pcam answer --whep URL --measure -o FILE")
	case m == modeWHIP && flag == "view":
		return fmt.Errorf("--whip only publishes: drop --view (watch it with p2pcam answer --whep URL --view)")
	case m == modeWHIP:
		return fmt.Errorf("--whip only publishes: drop --%s (play it with p2pcam answer --whep URL)", flag)
	case flag == "view":
		return fmt.Errorf("--serve sends only: watch at a viewer (p2pcam answer --whep URL --view)")
	}
	return fmt.Errorf("--serve sends only: drop --%s and record at a viewer (p2pcam answer --whep URL -o FILE)", flag)
}

// where says which mode a flag belongs to.
func where(ms []mode) string {
	var names []string
	for _, m := range ms {
		switch m {
		case modePaste:
			names = append(names, "copy-paste calls (no --whip, --whep or --serve)")
		default:
			names = append(names, m.flag())
		}
	}
	return "it belongs to " + strings.Join(names, " and ")
}

// checkServeAddr refuses a --serve value that is not a listening address,
// suggesting the form that is: "8080" means ":8080".
func checkServeAddr(addr string) error {
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return nil
	}
	if n, err := strconv.Atoi(addr); err == nil && n > 0 && n < 65536 {
		return usageError{suggestion{fmt.Errorf("bad --serve %q: an address needs a colon before the port", addr), "did you mean --serve :" + addr + "? (every address of this machine; 127.0.0.1:" + addr + " for this machine only)"}}
	}
	return usageError{suggestion{fmt.Errorf("bad --serve %q: give [HOST]:PORT", addr), "for example --serve :8080 (every address of this machine) or --serve 127.0.0.1:8080"}}
}

// callRun is a validated offer or answer: its mode and everything the
// mode's run function needs, with no cobra in it.
type callRun struct {
	mode  mode
	call  callConfig
	media mediaConfig // modeWHIP, modeWHEP
	// modeServe:
	serveAddr string
	serve     serveSetup
	qr        bool
	code      *codeCall // modeCode
}

// mediaConfig is how a call meets a WHIP or WHEP endpoint.
type mediaConfig struct {
	endpoint string
	bearer   string // --bearer; "" falls back to $P2PCAM_BEARER
	publish  bool   // --whip (else --whep)
	askICE   bool   // no --ice-server given: use the servers the endpoint offers
}

// run validates the options for their mode (set reports the flags given)
// and builds what the mode's run function takes.
func (o *callOptions) run(role session.Role, args []string, set func(string) bool, now time.Time) (callRun, error) {
	src, err := parseSource(o.source, role)
	if err != nil {
		return callRun{}, err
	}
	if err := validate(o, src, args, set); err != nil {
		return callRun{}, err
	}
	cc, err := o.config(role, args, set("fps"), now)
	if err != nil {
		return callRun{}, err
	}
	r := callRun{mode: modeOf(o), call: cc}
	switch r.mode {
	case modeWHIP, modeWHEP:
		endpoint, err := o.mediaServerConfig()
		if err != nil {
			return callRun{}, err
		}
		r.media = mediaConfig{endpoint: endpoint, bearer: o.bearer, publish: r.mode == modeWHIP, askICE: !set("ice-server")}
	case modeServe:
		if r.serve, err = o.serveConfig(cc); err != nil {
			return callRun{}, err
		}
		r.serveAddr, r.qr = o.serve, o.qr
	}
	return r, nil
}

// runCallMode runs a validated offer or answer in its mode.
func runCallMode(ctx context.Context, e *env, r callRun) error {
	switch r.mode {
	case modeWHIP, modeWHEP:
		return runMediaServer(ctx, e, r.call, r.media)
	case modeServe:
		return runServe(ctx, e, r.serveAddr, r.serve, r.qr)
	case modeCode:
		return runCodeCall(ctx, e, r.call, *r.code)
	}
	return runCall(ctx, e, r.call)
}
