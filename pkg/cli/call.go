package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/p2pcam/p2pcam/pkg/capture"
	"github.com/p2pcam/p2pcam/pkg/codec"
	"github.com/p2pcam/p2pcam/pkg/codecs"
	"github.com/p2pcam/p2pcam/pkg/iostreams"
	"github.com/p2pcam/p2pcam/pkg/session"
	"github.com/p2pcam/p2pcam/pkg/view"
	"github.com/p2pcam/p2pcam/signal"
	"github.com/p2pcam/p2pcam/signal/paste"
)

// callOptions are the flags offer and answer share, as typed.
type callOptions struct {
	source         string
	audio          string
	noFEC          bool // $P2PCAM_OPUS_FEC=off (a test knob)
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
	serveToken     string // offer --serve: the token in the URLs
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
	fs.Float64Var(&o.fps, "fps", session.DefaultFPS, "frames per second to capture and send (a .y4m file or - plays at the rate its header says unless --fps is given)")
	fs.StringVar(&o.cameraFormat, "camera-format", "", "camera pixel format to use (MJPEG, YUYV, NV12, I420, ...; see p2pcam devices) instead of the one that reaches --fps with least work")
	fs.StringVar(&o.bitrate, "bitrate", formatBitrate(session.DefaultBitrate), "video bitrate ceiling, e.g. 800k or 2.5M")
	video, _ := codecs.Default(codec.Video)
	fs.IntVar(&o.cpuUsed, "cpu-used", video.DefaultSpeed, "encoder speed (libvpx's cpu-used for VP8): -16 (fastest) to -1 (best picture); lower uses less CPU")
	outHelp := "where to record received video: FILE.webm, FILE.ivf, - (WebM on stdout, e.g. | ffplay -), or none"
	if role == session.Answerer {
		outHelp += " (default: p2pcam-DATE-TIME.webm here)"
	}
	fs.StringVarP(&o.output, "output", "o", defOutput, outHelp)
	fs.BoolVar(&o.force, "force", false, "overwrite the --output file if it exists")
	fs.BoolVar(&o.view, "view", false, "show the received video in p2pcam's own window as it arrives (f: full screen, s: figures, q: hang up); records only with an --output")
	fs.StringArrayVar(&o.iceServers, "ice-server", []string{defaultSTUN}, "STUN/TURN server, repeatable: stun:HOST:PORT, turn:HOST:PORT?transport=udp|tcp, turn:USER:PASS@HOST:PORT, or none")
	fs.StringVar(&o.iceUser, "ice-user", "", "TURN username")
	fs.StringVar(&o.icePassword, "ice-password", "", "TURN password")
	fs.StringArrayVar(&o.interfaces, "interface", nil, "gather ICE candidates only on this network interface, repeatable (lo for loopback)")
	fs.DurationVar(&o.duration, "duration", 0, "hang up this long after connecting, e.g. 10s (default: run until Ctrl-C)")
	fs.DurationVar(&o.connectTimeout, "connect-timeout", session.DefaultConnectTimeout, "give up if no connection is made this long after the blobs are exchanged")
	fs.DurationVar(&o.silence, "silence-timeout", session.DefaultSilence, "end a connected call when nothing has come from the other side for this long (its machine or network is gone)")
	fs.DurationVar(&o.pasteTimeout, "paste-timeout", paste.DefaultPasteTimeout, "how long to wait for the other side's blob")
	fs.StringVar(&o.remote, "remote", "", "read the other side's blob from this file (- for stdin) instead of asking for it; a named pipe is read after this side's blob is printed")
	fs.BoolVar(&o.noClipboard, "no-clipboard", false, "do not offer the blob to the terminal's clipboard (OSC 52)")
	fs.BoolVar(&o.qr, "qr", false, "also print the blob as a QR code")
	fs.StringVar(&o.stats, "stats", "", "write figures as JSON lines every second to FILE (- for stderr); the last line has \"final\": true")
	if role == session.Answerer {
		fs.StringVar(&o.whep, "whep", "", "no blobs: play this WHEP endpoint of a media server or of p2pcam offer --serve, e.g. http://host:8889/cam/whep (default $"+whepEnv+" when no blob is given, which keeps a --serve token out of ps)")
	}
	fs.StringVar(&o.bearer, "bearer", "", "token for --whip/--whep (sent as Authorization: Bearer; default $"+bearerEnv+", which keeps it out of ps)")
	fs.BoolVar(&o.measure, "measure", false, "decode what arrives and measure latency, lost/frozen frames and PSNR (the other side must send --source test)")
	if role == session.Offerer {
		fs.StringVar(&o.whip, "whip", "", "no blobs: publish the camera to this WHIP endpoint of a media server (mediamtx, Janus, LiveKit, ...), e.g. http://host:8889/cam/whip")
		fs.StringVar(&o.serve, "serve", "", "no blobs: serve the camera to any number of viewers on ADDR (e.g. :8080), as a browser page and a WHEP endpoint, behind a random token")
		fs.StringVar(&o.serveToken, "serve-token", "", "the token in --serve's URLs, so they survive restarts: 128 bits or more, e.g. from openssl rand -hex 16 (default $"+serveTokenEnv+", else a new random one each run)")
		fs.StringVar(&o.blobFormat, "blob-format", "p2pcam", "blob format to print: p2pcam (short, checksummed) or pion (base64 JSON, for browser pages and pion examples)")
	}
}

// callConfig is a validated call: the session's configuration without its
// signaler, and how to build the signaler and the --stats destination.
type callConfig struct {
	role    session.Role
	session session.Config
	paste   paste.Signaler // Streams and Console are set at run time
	stats   string         // --stats: a path, "-" for stderr, "" for none
	// pasteFromTTY: video comes on stdin (--source -) and no blob was
	// given up front, so the other side's blob is pasted at the terminal.
	pasteFromTTY bool
	view         bool // --view
	// answerWith, when not nil, wraps the answering side's copy-paste
	// signaler (code.go: a code may be given instead of the offer blob).
	answerWith func(*paste.Signaler) session.AnswerSignaler
}

// config checks the options' values and builds a call configuration;
// fpsGiven says --fps was given (else a Y4M source plays at its own
// rate). It is a pure function of its inputs apart from reading --remote
// and the clock for the default file name.
func (o *callOptions) config(role session.Role, args []string, fpsGiven bool, now time.Time) (callConfig, error) {
	cc := callConfig{role: role, stats: o.stats}
	cfg := session.Config{
		Width: o.width, Height: o.height, FPS: o.fps, Speed: o.cpuUsed, CameraFormat: o.cameraFormat,
		Interfaces: o.interfaces, Duration: o.duration,
		ConnectTimeout: o.connectTimeout, Silence: o.silence, Measure: o.measure,
		Overwrite: o.force, AudioNoFEC: o.noFEC,
	}
	cc.paste = paste.Signaler{Timeout: o.pasteTimeout, Clipboard: !o.noClipboard, QR: o.qr}
	var err error
	if cfg.Source, err = parseSource(o.source, role); err != nil {
		return cc, err
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
	if cfg.Source.Kind == capture.File && !fpsGiven {
		cfg.FPS = 0 // a Y4M plays at the rate its header says
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
		if err := checkFolder(o.output); err != nil {
			return cc, err
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

// videoExts are the names of video files ffmpeg reads and p2pcam does
// not.
var videoExts = []string{".mp4", ".webm", ".mkv", ".mov", ".avi", ".m4v", ".ts", ".mts", ".flv", ".ogv", ".mpg", ".mpeg", ".wmv", ".3gp", ".gif", ".ivf", ".h264", ".hevc"}

// isVideoFile reports a --source that names a video file p2pcam cannot
// play itself.
func isVideoFile(s string) bool {
	return slices.Contains(videoExts, strings.ToLower(filepath.Ext(s)))
}

// ffmpegPipe is the command line that plays file through ffmpeg as Y4M
// on p2pcam's stdin, quiet so that ffmpeg's progress does not mix into
// p2pcam's status line.
func ffmpegPipe(file string, role session.Role) string {
	return "ffmpeg -loglevel error -nostats -i " + shellQuote(file) + " -f yuv4mpegpipe -pix_fmt yuv420p - | p2pcam " + role.String() + " --source -"
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./+:@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// missingFolderError is an --output in a folder that does not exist.
type missingFolderError struct{ output, folder string }

func (e missingFolderError) Error() string {
	return fmt.Sprintf("record to %s: the folder %s does not exist", e.output, e.folder)
}

// checkFolder refuses an --output whose folder does not exist, naming
// it, before any blob is printed (the recording would fail only once the
// call is up, and then seem to blame the disk).
func checkFolder(output string) error {
	dir := filepath.Dir(output)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return missingFolderError{output: output, folder: dir}
	case err == nil && !fi.IsDir():
		return fmt.Errorf("record to %s: %s is not a folder", output, dir)
	}
	return nil // other errors are the recording's to report, with its context
}

// parseSource reads --source, turning what it refuses into a usage error
// with the nearest keyword, or the ffmpeg line for a video file.
func parseSource(v string, role session.Role) (capture.Source, error) {
	src, err := capture.ParseSource(v)
	switch {
	case err == nil:
		return src, nil
	case isVideoFile(v):
		return src, usageError{suggestion{fmt.Errorf("--source %s: p2pcam plays Y4M video; other files play through ffmpeg", v), "pipe it in: " + ffmpegPipe(v, role)}}
	}
	return src, usageError{suggestion{err, suggestSource(v)}}
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
			// close what it opened. With a writer opened, the open has
			// returned or returns at once: wait for it. (When none could
			// be opened the open waits for someone else's writer; it is
			// left to end then.)
			w, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
			closeOpened := func() {
				if o := <-ch; o.f != nil {
					o.f.Close()
				}
			}
			if err == nil {
				closeOpened()
				w.Close()
			} else {
				go closeOpened()
			}
			return nil, ctx.Err()
		}
	}
}

// stdinVideo reports whether src reads its video from stdin.
func stdinVideo(src capture.Source) bool { return src.Kind == capture.File && src.Arg == "-" }

// stdinSource gives a source that reads stdin (--source -) the
// standard input to read, refusing a terminal with a usage error whose
// example pipes video in; other sources come back as they are.
func stdinSource(e *env, src capture.Source, example string) (capture.Source, error) {
	if !stdinVideo(src) {
		return src, nil
	}
	if e.InTerminal != nil {
		return src, usagef("--source - reads Y4M video from stdin, and stdin is a terminal: pipe video in, e.g. %s", example)
	}
	src.In = e.In
	return src, nil
}

// runCall runs a call with copy-paste signaling and turns its outcome
// into an error for Main.
func runCall(ctx context.Context, e *env, cc callConfig) error {
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
	sig := cc.paste
	sig.Streams, sig.Console, sig.Hints = streams, con, hints
	// A blob refused during the call (a second answer) gets the error
	// line and its hints, like an error that ends a call, but the call
	// goes on.
	sig.Notice = func(err error) {
		con.Linef("p2pcam: %v", err)
		for _, h := range hints(err) {
			con.Linef("p2pcam: hint: %s", h)
		}
	}
	// The terminal is quiet for the whole call (see runSession), the
	// reading for further answers included, which restores it to quiet.
	if streams.InTerminal != nil {
		defer paste.QuietTerminal(streams.InTerminal)()
	}
	// Stop reading for further answers, restoring the terminal, before
	// Main prints the outcome and the process exits.
	defer sig.Close()
	return runSession(ctx, e, cc, con, true, func(cfg *session.Config) {
		switch {
		case cc.role == session.Answerer && cc.answerWith != nil:
			cfg.Answer = cc.answerWith(&sig)
		case cc.role == session.Answerer:
			cfg.Answer = &sig
		default:
			cfg.Offer = &sig
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
		if err := e.checkDisplay(); err != nil {
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
		defer paste.QuietTerminal(e.InTerminal)()
	}
	cfg := cc.session
	if cfg.Source, err = stdinSource(e, cfg.Source, ffmpegPipe("talk.mp4", cc.role)); err != nil {
		return err
	}
	cfg.Stats, cfg.OutputTo = stats, e.Out
	attach(&cfg)
	rep := newReporter(con, cfg.Duration.String(), blobs)
	cfg.Events = rep.event
	if cc.view {
		viewCall(&cfg, e.display, e.logger(), cc.role, blobs, func(msg string) { con.Linef("p2pcam: %s", msg) })
	}
	_, err = session.Run(ctx, cfg, e.loggerTo(con))
	rep.close()
	return err
}

// viewCall sets cfg.View to open --view's window on d, and passes the
// call's figures, which the session reports each second, on to it for its
// overlay. notice prints what the window says once (no sound output).
func viewCall(cfg *session.Config, d Display, log *slog.Logger, command session.Role, blobs bool, notice func(string)) {
	var (
		mu  sync.Mutex
		win view.Viewer
	)
	cfg.View = func(call session.ViewCall) (session.Viewer, error) {
		w, err := d.Open(view.Options{Title: viewTitle(command, call, blobs), Logger: log, Notice: notice})
		if err != nil {
			return nil, err
		}
		mu.Lock()
		win = w
		mu.Unlock()
		return w, nil
	}
	report := cfg.Events
	cfg.Events = func(ev session.Event) {
		report(ev)
		f, ok := ev.(session.Figures)
		if !ok {
			return
		}
		mu.Lock()
		w := win
		mu.Unlock()
		if w != nil {
			w.Figures(view.CallFigures{RTT: time.Duration(f.Snapshot.RTTMs * float64(time.Millisecond)), PacketsLost: f.Snapshot.PacketsLost})
		}
	}
}

// errStdoutTerminal refuses -o - to a terminal, which would fill it with
// binary WebM.
var errStdoutTerminal = errors.New("stdout is a terminal: pipe it into a player, e.g. `p2pcam answer -o - | ffplay " + ffplayFlags + " -`, or use --view")

// viewError is a reason --view cannot open a window here, worded as one
// line that says what is missing and how to get it.
type viewError struct{ err error }

func (v viewError) Unwrap() error { return v.err }

func (v viewError) Error() string {
	var ie *view.InitError
	switch {
	case errors.Is(v.err, view.ErrNoDisplay):
		return "--view: no display to open a window on (neither $DISPLAY nor $WAYLAND_DISPLAY is set): run p2pcam in a desktop session or over ssh -X, or pipe -o - into a player where there is one"
	case errors.Is(v.err, view.ErrNoDecoder):
		return "--view needs a VP8 decoder, and this p2pcam was built without cgo: build it with libvpx (apt-get install libvpx-dev pkg-config, or brew install libvpx pkg-config; then make build)"
	case errors.Is(v.err, view.ErrNoWindows):
		return "--view needs a p2pcam built with cgo (and without the nosdl tag): build it with make build, or pipe -o - into a player"
	case errors.Is(v.err, view.ErrNoSDL):
		return "--view needs SDL2, which is not installed here: " + installSDL(runtime.GOOS) + ", or pipe -o - into a player"
	case errors.As(v.err, &ie):
		return "--view: cannot open a window on " + ie.Display + ": SDL says " + ie.Reason + " (is a display server running there?)"
	}
	return "--view: " + v.err.Error()
}

// installSDL says how to install SDL2's runtime library on goos (p2pcam
// loads it for --view; building does not need it).
func installSDL(goos string) string {
	if goos == "darwin" {
		return "install it with `brew install sdl2`"
	}
	return "install it with `sudo apt install libsdl2-2.0-0` (Debian, Ubuntu, Raspberry Pi OS; elsewhere the SDL2 package)"
}

// viewTitle is the viewer window's title: the command, the verification
// code to compare (only when people carried blobs, and so can compare
// it; first, so that a narrow title bar keeps it), and the path, e.g.
// "p2pcam answer · 778 062 · host/udp 192.168.1.20 ↔ 192.168.1.31".
func viewTitle(command session.Role, c session.ViewCall, blobs bool) string {
	t := "p2pcam " + command.String()
	if c.Code != "" && blobs {
		t += " · " + c.Code
	}
	if c.Known {
		t += " · " + c.Pair.Kind() + " " + c.Pair.Local.Address + " ↔ " + c.Pair.Remote.Address
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
