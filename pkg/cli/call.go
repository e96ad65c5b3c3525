package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/p2pcam/p2pcam/pkg/capture"
	"github.com/p2pcam/p2pcam/pkg/iostreams"
	"github.com/p2pcam/p2pcam/pkg/session"
	"github.com/p2pcam/p2pcam/pkg/view"
	"github.com/p2pcam/p2pcam/pkg/vp8"
	"github.com/p2pcam/p2pcam/signal"
)

// callOptions are the flags offer and answer share, as typed.
type callOptions struct {
	source         string
	audio          string
	width, height  int
	cameraFormat   string
	fps            float64
	bitrate        string
	cpuUsed        int
	output         string
	iceServers     []string
	iceUser        string
	icePassword    string
	interfaces     []string
	duration       time.Duration
	connectTimeout time.Duration
	silence        time.Duration
	pasteTimeout   time.Duration
	blobFormat     string
	remote         string
	noClipboard    bool
	qr             bool
	stats          string
	measure        bool
	serve          string // offer: serve viewers on this address
	whip           string // offer: publish to this WHIP endpoint
	whep           string // answer: play this WHEP endpoint
	bearer         string // the WHIP/WHEP bearer token
	force          bool   // overwrite an existing output file
	view           bool   // show the received video in a window
}

// addCallFlags registers the shared flags with the defaults of role.
func addCallFlags(fs *pflag.FlagSet, o *callOptions, role session.Role) {
	defSource, defOutput := "camera", "none"
	if role == session.Answerer {
		defSource, defOutput = "none", ""
	}
	fs.StringVar(&o.source, "source", defSource, "video to send: camera, camera:NAME (see p2pcam devices), test (synthetic pattern), FILE.y4m (looped), a named pipe or - (Y4M on stdin, e.g. from ffmpeg -f yuv4mpegpipe -; played once), or none")
	addAudioFlag(fs, &o.audio, role)
	fs.IntVar(&o.width, "width", session.DefaultWidth, "picture width to capture and send")
	fs.IntVar(&o.height, "height", session.DefaultHeight, "picture height to capture and send")
	fs.Float64Var(&o.fps, "fps", session.DefaultFPS, "frames per second to capture and send")
	fs.StringVar(&o.cameraFormat, "camera-format", "", "camera pixel format to use (MJPEG, YUYV, NV12, I420, ...; see p2pcam devices) instead of the one that reaches --fps with least work")
	fs.StringVar(&o.bitrate, "bitrate", formatBitrate(session.DefaultBitrate), "video bitrate ceiling, e.g. 800k or 2.5M")
	fs.IntVar(&o.cpuUsed, "cpu-used", vp8.DefaultCPUUsed, "VP8 speed: -16 (fastest) to -1 (best picture); lower uses less CPU")
	outHelp := "where to record received video: FILE.webm, FILE.ivf, - (WebM on stdout, e.g. | ffplay -), or none"
	if role == session.Answerer {
		outHelp += " (default: p2pcam-DATE-TIME.webm here)"
	}
	fs.StringVarP(&o.output, "output", "o", defOutput, outHelp)
	fs.BoolVar(&o.force, "force", false, "overwrite the --output file if it exists")
	fs.BoolVar(&o.view, "view", false, "show the received video in a window as it arrives (ffplay); records only with an --output")
	fs.StringArrayVar(&o.iceServers, "ice-server", []string{defaultSTUN}, "STUN/TURN server, repeatable: stun:HOST:PORT, turn:HOST:PORT?transport=udp|tcp, turn:USER:PASS@HOST:PORT, or none")
	fs.StringVar(&o.iceUser, "ice-user", "", "TURN username")
	fs.StringVar(&o.icePassword, "ice-password", "", "TURN password")
	fs.StringArrayVar(&o.interfaces, "interface", nil, "gather ICE candidates only on this network interface, repeatable (lo for loopback)")
	fs.DurationVar(&o.duration, "duration", 0, "hang up this long after connecting, e.g. 10s (default: run until Ctrl-C)")
	fs.DurationVar(&o.connectTimeout, "connect-timeout", session.DefaultConnectTimeout, "give up if no connection is made this long after the blobs are exchanged")
	fs.DurationVar(&o.silence, "silence-timeout", session.DefaultSilence, "end a connected call when nothing has come from the other side for this long (its machine or network is gone)")
	fs.DurationVar(&o.pasteTimeout, "paste-timeout", signal.DefaultPasteTimeout, "how long to wait for the other side's blob")
	fs.StringVar(&o.remote, "remote", "", "read the other side's blob from this file (- for stdin) instead of asking for it; a named pipe is read after this side's blob is printed")
	fs.BoolVar(&o.noClipboard, "no-clipboard", false, "do not offer the blob to the terminal's clipboard (OSC 52)")
	fs.BoolVar(&o.qr, "qr", false, "also print the blob as a QR code")
	fs.StringVar(&o.stats, "stats", "", "write figures as JSON lines every second to FILE (- for stderr); the last line has \"final\": true")
	if role == session.Answerer {
		fs.StringVar(&o.whep, "whep", "", "no blobs: play this WHEP endpoint of a media server or of p2pcam offer --serve, e.g. http://host:8889/cam/whep")
	}
	fs.StringVar(&o.bearer, "bearer", "", "token for --whip/--whep (sent as Authorization: Bearer; default $"+bearerEnv+", which keeps it out of ps)")
	fs.BoolVar(&o.measure, "measure", false, "decode what arrives and measure latency, lost/frozen frames and PSNR (the other side must send --source test)")
	if role == session.Offerer {
		fs.StringVar(&o.whip, "whip", "", "no blobs: publish the camera to this WHIP endpoint of a media server (mediamtx, Janus, LiveKit, ...), e.g. http://host:8889/cam/whip")
		fs.StringVar(&o.serve, "serve", "", "no blobs: serve the camera to any number of viewers on ADDR (e.g. :8080), as a browser page and a WHEP endpoint, behind a random token")
		fs.StringVar(&o.blobFormat, "blob-format", "p2pcam", "blob format to print: p2pcam (short, checksummed) or pion (base64 JSON, for browser pages and pion examples)")
	}
}

// callConfig is a validated call: the session's configuration without its
// signaler, and how to build the signaler and the --stats destination.
type callConfig struct {
	role    session.Role
	session session.Config
	paste   signal.Paste // Streams and Console are set at run time
	stats   string       // --stats: a path, "-" for stderr, "" for none
	// pasteFromTTY: video comes on stdin (--source -) and no blob was
	// given up front, so the other side's blob is pasted at the terminal.
	pasteFromTTY bool
	view         bool // --view
}

// config validates the options and builds a call configuration. It is a
// pure function of its inputs apart from reading --remote and the clock for
// the default file name.
func (o *callOptions) config(role session.Role, args []string, now time.Time) (callConfig, error) {
	cc := callConfig{role: role, stats: o.stats}
	cfg := session.Config{
		Width: o.width, Height: o.height, FPS: o.fps, Speed: o.cpuUsed, CameraFormat: o.cameraFormat,
		Interfaces: o.interfaces, Duration: o.duration,
		ConnectTimeout: o.connectTimeout, Silence: o.silence, Measure: o.measure,
		Overwrite: o.force,
	}
	cc.paste = signal.Paste{Timeout: o.pasteTimeout, Clipboard: !o.noClipboard, QR: o.qr}
	var err error
	if cfg.Source, err = capture.ParseSource(o.source); err != nil {
		return cc, usageError{suggestion{err, suggestSource(o.source)}}
	}
	if cfg.Audio, err = parseAudioFlag(o); err != nil {
		return cc, err
	}
	if o.width < 16 || o.height < 16 || o.width > 4096 || o.height > 4096 || o.width%2 != 0 || o.height%2 != 0 {
		return cc, usagef("bad size %dx%d: --width and --height must be even, 16 to 4096", o.width, o.height)
	}
	if o.fps <= 0 || o.fps > 120 {
		return cc, usagef("bad --fps %g: use 1 to 120", o.fps)
	}
	if o.cpuUsed < -16 || o.cpuUsed > 16 || o.cpuUsed == 0 {
		return cc, usagef("bad --cpu-used %d: use -16 to -1 (realtime), or 1 to 16", o.cpuUsed)
	}
	if cfg.Bitrate, err = parseBitrate(o.bitrate); err != nil {
		return cc, usageError{err}
	}
	if cfg.ICEServers, err = parseICEServers(o.iceServers, o.iceUser, o.icePassword); err != nil {
		return cc, usageError{err}
	}
	if err := checkInterfaces(o.interfaces); err != nil {
		return cc, err
	}
	for _, srv := range cfg.ICEServers {
		cc.paste.STUN = append(cc.paste.STUN, srv.URLs...)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"--duration", o.duration}, {"--connect-timeout", o.connectTimeout}, {"--silence-timeout", o.silence}, {"--paste-timeout", o.pasteTimeout}} {
		if d.v < 0 || (d.name != "--duration" && d.v == 0) {
			return cc, usagef("bad %s %s: must be positive", d.name, d.v)
		}
	}
	switch o.output {
	case "none":
	case "":
		if !o.view { // --view alone watches without recording
			cfg.Output = "p2pcam-" + now.Format("20060102-150405") + ".webm"
		}
	case "-":
		cfg.Output = "-"
		cc.paste.BlobToErr = true
	default:
		ext := strings.ToLower(filepath.Ext(o.output))
		if ext != ".webm" && ext != ".ivf" {
			return cc, usagef("bad --output %q: the name must end in .webm or .ivf (or use - for stdout, none for no recording)", o.output)
		}
		cfg.Output = o.output
	}
	switch o.blobFormat {
	case "", "p2pcam":
		cc.paste.Format = signal.FormatCompact
	case "pion":
		cc.paste.Format = signal.FormatPion
	default:
		return cc, usagef("bad --blob-format %q: use p2pcam or pion", o.blobFormat)
	}
	cc.view = o.view
	if o.measure && cfg.Output == "" && !o.view {
		return cc, usagef("--measure needs received video: give an --output (it can be a file you delete)")
	}
	if cfg.Source.Kind == capture.None && !sendsSound(cfg.Audio) && cfg.Output == "" && !o.view {
		return cc, usagef("nothing to do: --source none and --output none")
	}
	if len(args) == 1 && o.remote != "" {
		return cc, usagef("give the other side's blob as an argument or with --remote, not both")
	}
	if len(args) == 1 {
		cc.paste.Remote = args[0]
	}
	if stdinVideo(cfg.Source) {
		if o.remote == "-" {
			return cc, usagef("--source - and --remote - both want stdin: give the other side's blob with --remote FILE, or paste it at the terminal")
		}
		cc.pasteFromTTY = o.remote == "" && len(args) == 0
	}
	if o.remote != "" && o.remote != "-" {
		b, open, err := readRemote(o.remote)
		if err != nil {
			return cc, err
		}
		cc.paste.Remote, cc.paste.RemoteOpen = b, open
	}
	cc.session = cfg
	return cc, nil
}

// maxRemoteFile bounds what --remote reads: blobs are a few KiB at most.
const maxRemoteFile = 1 << 20

// readRemote reads the --remote file up front, so that a bad one fails
// before any blob is printed. A named pipe (or another file that is not a
// regular one: a process substitution, a device) cannot be read before
// someone writes to it, which may wait for this side's blob: it is opened
// later, after the blob is printed, by the function readRemote returns.
func readRemote(path string) (string, func(context.Context) (io.ReadCloser, error), error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", nil, fmt.Errorf("read --remote %s: %w", path, err)
	}
	if fi.IsDir() {
		return "", nil, fmt.Errorf("read --remote %s: is a directory", path)
	}
	if !fi.Mode().IsRegular() {
		return "", openRemote(path), nil
	}
	if fi.Size() > maxRemoteFile {
		return "", nil, fmt.Errorf("read --remote %s: %d bytes is far too big for a blob", path, fi.Size())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", nil, fmt.Errorf("read --remote %s: %w", path, err)
	}
	if strings.TrimSpace(string(b)) == "" {
		return "", nil, fmt.Errorf("read --remote %s: the file is empty", path)
	}
	return string(b), nil, nil
}

// openRemote returns a function that opens the --remote named pipe path,
// waiting for a writer until ctx is done (Ctrl-C, the paste timeout).
func openRemote(path string) func(context.Context) (io.ReadCloser, error) {
	return func(ctx context.Context) (io.ReadCloser, error) {
		type opened struct {
			f   *os.File
			err error
		}
		ch := make(chan opened, 1)
		go func() {
			f, err := os.Open(path) // a pipe's open waits for a writer
			ch <- opened{f, err}
		}()
		select {
		case o := <-ch:
			if o.err != nil {
				return nil, fmt.Errorf("read --remote: %w", o.err)
			}
			return o.f, nil
		case <-ctx.Done():
			// Be the writer the open waits for, so that it returns, and
			// close what it opened.
			if w, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				w.Close()
			}
			go func() {
				if o := <-ch; o.f != nil {
					o.f.Close()
				}
			}()
			return nil, ctx.Err()
		}
	}
}

// stdinVideo reports whether src reads its video from stdin.
func stdinVideo(src capture.Source) bool { return src.Kind == capture.File && src.Arg == "-" }

// runCall runs a call with copy-paste signaling and turns its outcome
// into an error for Main.
func runCall(cmd *cobra.Command, e *env, cc callConfig) error {
	con := iostreams.NewConsole(e.Err, e.ErrTerminal)
	streams := e.Streams
	if cc.pasteFromTTY {
		// Stdin carries the video: the blob is pasted at the terminal.
		var tty *os.File
		var err error
		if e.TTY != nil {
			tty, err = e.TTY()
		}
		if e.TTY == nil || err != nil {
			return usagef("--source - takes stdin for video and there is no terminal to paste the other side's blob into: give it with --remote FILE")
		}
		defer tty.Close()
		streams.In, streams.InTerminal = tty, nil
		if term.IsTerminal(int(tty.Fd())) {
			streams.InTerminal = tty
		}
	}
	paste := cc.paste
	paste.Streams, paste.Console = streams, con
	// A blob refused during the call (a second answer) gets the error
	// line and its hints, like an error that ends a call, but the call
	// goes on.
	paste.Notice = func(err error) {
		con.Linef("p2pcam: %v", err)
		for _, h := range hints(err) {
			con.Linef("p2pcam: hint: %s", h)
		}
	}
	// The terminal is quiet for the whole call (see runSession), the
	// reading for further answers included, which restores it to quiet.
	if streams.InTerminal != nil {
		defer signal.QuietTerminal(streams.InTerminal)()
	}
	// Stop reading for further answers, restoring the terminal, before
	// Main prints the outcome and the process exits.
	defer paste.Close()
	return runSession(cmd.Context(), e, cc, con, true, func(cfg *session.Config) {
		if cc.role == session.Answerer {
			cfg.Answer = &paste
		} else {
			cfg.Offer = &paste
		}
	})
}

// runSession runs cc's session with the signaler that attach sets,
// reporting its events on con; blobs says whether people carried the
// descriptions.
func runSession(ctx context.Context, e *env, cc callConfig, con *iostreams.Console, blobs bool, attach func(*session.Config)) error {
	if cc.session.Output == "-" && e.OutTerminal {
		return errStdoutTerminal
	}
	if cc.view {
		if err := view.Check(""); err != nil {
			return viewError{err}
		}
	}
	// Open --stats first: a bad path should fail before any network.
	// "-" goes through the console, which keeps the lines off its status
	// line.
	stats, closeStats, err := openStats(cc.stats, con)
	if err != nil {
		return err
	}
	defer closeStats()
	// Keys pressed during the call (the Enter after a paste) must not
	// echo and push the status line down. (Quiet spells nest: inside
	// runCall's, this one returns to it.)
	if e.InTerminal != nil {
		defer signal.QuietTerminal(e.InTerminal)()
	}
	cfg := cc.session
	if stdinVideo(cfg.Source) {
		if e.InTerminal != nil {
			return usagef("--source - reads Y4M video from stdin, and stdin is a terminal: pipe video in, e.g. ffmpeg -i talk.mp4 -f yuv4mpegpipe - | p2pcam offer --source -")
		}
		cfg.Source.In = e.In
	}
	cfg.Stats, cfg.OutputTo = stats, e.Out
	attach(&cfg)
	if cc.view {
		early, err := viewer(&cfg, e.logger())
		if err != nil {
			return viewError{err}
		}
		if early != nil {
			defer early.Close()
		}
	}
	rep := newReporter(con, cfg.Duration.String(), blobs)
	cfg.Events = rep.event
	_, err = session.Run(ctx, cfg, e.loggerTo(con))
	rep.close()
	return err
}

// viewer sets cfg.View to open the --view window. Where the window can be
// retitled (X11), the player starts now, while the call is set up, and
// the window returned is already running: ffplay takes longer to start
// (0.3–0.6 s) than a call takes to connect, and would delay the first
// picture by that much. Elsewhere (macOS) it starts on connecting, titled
// from the start.
func viewer(cfg *session.Config, log *slog.Logger) (*view.Window, error) {
	if !view.CanRetitle() {
		cfg.View = func(call session.ViewCall) (session.Viewer, error) {
			return view.Start(view.Options{Title: viewTitle(call), Logger: log})
		}
		return nil, nil
	}
	w, err := view.Start(view.Options{Title: "p2pcam " + cfg.Role().String() + " · connecting", Logger: log})
	if err != nil {
		return nil, err
	}
	cfg.View = func(call session.ViewCall) (session.Viewer, error) {
		select {
		case <-w.Done():
			if err := w.Err(); err != nil {
				return nil, err
			}
			return nil, errors.New("the player ended before the call connected")
		default:
		}
		if err := w.SetTitle(viewTitle(call)); err != nil {
			log.Debug("view: title", "err", err)
		}
		return w, nil
	}
	return w, nil
}

// errStdoutTerminal refuses -o - to a terminal, which would fill it with
// binary WebM.
var errStdoutTerminal = errors.New("stdout is a terminal: pipe it into a player, e.g. `p2pcam answer -o - | ffplay -fflags nobuffer -probesize 32 -`, or use --view")

// viewError is a reason --view cannot open a window here, worded as one
// line that says what is missing and how to get it.
type viewError struct{ err error }

func (v viewError) Unwrap() error { return v.err }

func (v viewError) Error() string {
	var pm *view.PlayerMissingError
	switch {
	case errors.Is(v.err, view.ErrNoDisplay):
		return "--view: no display to open a window on (neither $DISPLAY nor $WAYLAND_DISPLAY is set): run p2pcam in a desktop session or over ssh -X, or pipe -o - into a player where there is one"
	case errors.As(v.err, &pm):
		return fmt.Sprintf("--view needs %s, which is not installed: apt-get install ffmpeg (Debian, Ubuntu) or brew install ffmpeg (macOS)", pm.Name)
	case errors.Is(v.err, view.ErrNoDecoder):
		return "--view needs a VP8 decoder, and this p2pcam was built without cgo: build it with libvpx (apt-get install libvpx-dev pkg-config, or brew install libvpx pkg-config; then make build)"
	}
	return "--view: " + v.err.Error()
}

// viewTitle is the viewer window's title: whose camera it is, over which
// path, and the verification code to compare.
func viewTitle(c session.ViewCall) string {
	t := "p2pcam " + c.Role.String()
	if c.Known {
		t += " · " + c.Pair.String()
	}
	if c.Code != "" {
		t += " · verification code " + c.Code
	}
	return t
}

// openStats opens the --stats destination: nothing, stderr (errStream), or
// a file.
func openStats(path string, errStream io.Writer) (io.Writer, func(), error) {
	switch path {
	case "":
		return nil, func() {}, nil
	case "-":
		return errStream, func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, fmt.Errorf("open --stats file %s: %w", path, err)
	}
	return f, func() { f.Close() }, nil
}

// checkInterfaces refuses --interface names this machine does not have,
// naming those it has: a typo would otherwise give a blob without
// candidates.
func checkInterfaces(names []string) error {
	if len(names) == 0 {
		return nil
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return nil // cannot tell: let gathering speak
	}
	have := make([]string, 0, len(ifs))
	for _, ifc := range ifs {
		have = append(have, ifc.Name)
	}
	for _, n := range names {
		if !slices.Contains(have, n) {
			return usagef("no network interface %q here: --interface takes one of %s", n, strings.Join(have, ", "))
		}
	}
	return nil
}
