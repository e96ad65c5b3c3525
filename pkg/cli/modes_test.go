package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/p2pcam/p2pcam/pkg/capture"
	"github.com/p2pcam/p2pcam/pkg/session"
)

// TestValidate: every flag that does nothing in the mode asked for is a
// usage error naming it; the flags that work there pass.
func TestValidate(t *testing.T) {
	const whip, whep = "http://127.0.0.1:8889/cam/whip", "http://127.0.0.1:8889/cam/whep"
	tests := []struct {
		name string
		role session.Role
		args []string
		want string // part of the error; "" for none
	}{
		{"copy-paste offer", session.Offerer, []string{"--blob-format", "pion", "--paste-timeout", "1m", "--qr", "--no-clipboard", "--silence-timeout", "5s"}, ""},
		{"serve with stats and stdin", session.Offerer, []string{"--serve", ":8080", "--stats", "s.jsonl", "--source", "-", "--qr", "--duration", "10s"}, ""},
		{"serve with a blob format", session.Offerer, []string{"--serve", ":8080", "--blob-format", "pion"}, "--blob-format does nothing with --serve"},
		{"serve with a silence timeout", session.Offerer, []string{"--serve", ":8080", "--silence-timeout", "5s"}, "--silence-timeout does nothing with --serve"},
		{"serve with a connect timeout", session.Offerer, []string{"--serve", ":8080", "--connect-timeout", "5s"}, "--connect-timeout does nothing with --serve"},
		{"serve with a paste timeout", session.Offerer, []string{"--serve", ":8080", "--paste-timeout", "1m"}, "--paste-timeout does nothing with --serve"},
		{"serve with no-clipboard", session.Offerer, []string{"--serve", ":8080", "--no-clipboard"}, "--no-clipboard does nothing"},
		{"serve with a bearer", session.Offerer, []string{"--serve", ":8080", "--bearer", "x"}, "--bearer does nothing with --serve"},
		{"serve with an output", session.Offerer, []string{"--serve", ":8080", "-o", "x.webm"}, "--serve sends only: drop --output and record at a viewer"},
		{"serve with view", session.Offerer, []string{"--serve", ":8080", "--view"}, "--serve sends only: watch at a viewer"},
		{"serve with a bare port", session.Offerer, []string{"--serve", "8080"}, `bad --serve "8080"`},
		{"serve with no port", session.Offerer, []string{"--serve", "localhost"}, `bad --serve "localhost"`},
		{"serve and whip", session.Offerer, []string{"--serve", ":8080", "--whip", whip}, "not both"},
		{"whip with a paste timeout", session.Offerer, []string{"--whip", whip, "--paste-timeout", "1m"}, "--paste-timeout does nothing with --whip"},
		{"whip with a qr code", session.Offerer, []string{"--whip", whip, "--qr"}, "--qr does nothing with --whip"},
		{"whip with a blob format", session.Offerer, []string{"--whip", whip, "--blob-format", "pion"}, "--blob-format does nothing with --whip"},
		{"whip with a remote file", session.Offerer, []string{"--whip", whip, "--remote", "a.txt"}, "--remote does nothing with --whip"},
		{"whip with a blob", session.Offerer, []string{"--whip", whip, "BLOB"}, "takes no blob argument"},
		{"whip with a bearer and timeouts", session.Offerer, []string{"--whip", whip, "--bearer", "x", "--connect-timeout", "5s", "--silence-timeout", "5s"}, ""},
		{"whep with a recording", session.Answerer, []string{"--whep", whep, "-o", "x.webm", "--force", "--measure"}, ""},
		{"whep with a source", session.Answerer, []string{"--whep", whep, "--source", "test"}, "--whep only plays: drop --source"},
		{"whep with no-clipboard", session.Answerer, []string{"--whep", whep, "--no-clipboard"}, "--no-clipboard does nothing with --whep"},
		{"bearer without a server", session.Offerer, []string{"--bearer", "x"}, "--bearer does nothing with copy-paste"},
		{"camera format with the test pattern", session.Offerer, []string{"--source", "test", "--camera-format", "MJPEG"}, "--source test is no camera"},
		{"camera format with a camera", session.Offerer, []string{"--camera-format", "MJPEG"}, ""},
		{"camera format with a named camera", session.Offerer, []string{"--source", "camera:C920", "--camera-format", "MJPEG"}, ""},
		{"size with nothing sent", session.Answerer, []string{"--width", "640"}, "--width shapes the video this side sends"},
		{"bitrate with nothing sent", session.Answerer, []string{"--bitrate", "1M"}, "--bitrate shapes the video"},
		{"size of a y4m file", session.Offerer, []string{"--source", "clip.y4m", "--width", "640"}, "plays at its own size"},
		{"rate of a y4m file", session.Offerer, []string{"--source", "clip.y4m", "--fps", "15"}, ""},
		{"TURN credentials without a TURN server", session.Offerer, []string{"--ice-user", "alice", "--ice-password", "secret"}, "no --ice-server turn:HOST:PORT is given"},
		{"TURN credentials with one", session.Offerer, []string{"--ice-server", "turn:turn.example.org:3478", "--ice-user", "alice", "--ice-password", "secret"}, ""},
		{"force with stdout", session.Answerer, []string{"-o", "-", "--force"}, "--force overwrites an --output file"},
		{"force with a file", session.Answerer, []string{"-o", "x.webm", "--force"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, fs := parseCallFlags(t, tc.role, tc.args)
			src, err := capture.ParseSource(o.source)
			if err != nil {
				t.Fatal(err)
			}
			err = validate(o, src, fs.Args(), fs.Changed)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v; want an error with %q", err, tc.want)
			}
			if !isUsage(err) {
				t.Errorf("%v is no usage error", err)
			}
		})
	}
}

// TestServeBarePort: --serve 8080 is a usage error (exit 2) whose hint
// is the address meant, and no generic --help line follows it.
func TestServeBarePort(t *testing.T) {
	code, stdout, stderr := run(t, "", "offer", "--serve", "8080", "--source", "test")
	want := "p2pcam: bad --serve \"8080\": an address needs a colon before the port\np2pcam: hint: did you mean --serve :8080? (every address of this machine; 127.0.0.1:8080 for this machine only)\n"
	if code != ExitUsage || stdout != "" || stderr != want {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s\nwant exit 2 and:\n%s", code, stdout, stderr, want)
	}
}

// TestRunGetsTheMode: the commands hand their run function the mode and
// configuration the flags ask for, with no cobra in between.
func TestRunGetsTheMode(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want mode
	}{
		{"offer", []string{"offer", "--source", "test"}, modePaste},
		{"whip", []string{"offer", "--whip", "http://h/cam/whip"}, modeWHIP},
		{"serve", []string{"offer", "--serve", ":0"}, modeServe},
		{"answer", []string{"answer"}, modePaste},
		{"whep", []string{"answer", "--whep", "http://h/cam/whep"}, modeWHEP},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := runGets(t, tc.args...)
			if got.mode != tc.want {
				t.Fatalf("run got %+v; want mode %v", got, tc.want)
			}
		})
	}
}

// TestFlagOfTheOtherCommand: a flag that belongs to the other command
// says so, and which one, instead of suggesting a look-alike.
func TestFlagOfTheOtherCommand(t *testing.T) {
	tests := []struct {
		args []string
		hint string
	}{
		{[]string{"answer", "--whip", "http://h/cam/whip"}, "--whip belongs to p2pcam offer: it publishes to a media server; to play from one, use p2pcam answer --whep URL"},
		{[]string{"offer", "--whep", "http://h/cam/whep"}, "--whep belongs to p2pcam answer: it plays from a media server or from p2pcam offer --serve; to publish to one, use p2pcam offer --whip URL"},
		{[]string{"answer", "--serve", ":8080"}, "--serve belongs to p2pcam offer: it serves the camera to viewers; to watch one, use p2pcam answer --whep URL"},
		{[]string{"answer", "--blob-format=pion"}, "--blob-format belongs to p2pcam offer"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, stderr := run(t, "", tc.args...)
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if code != ExitUsage || len(lines) != 2 || !strings.HasPrefix(lines[1], "p2pcam: hint: "+tc.hint) {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit 2, the error and the hint %q", code, stderr, tc.hint)
			}
			if strings.Contains(stderr, "did you mean") {
				t.Errorf("a look-alike suggested:\n%s", stderr)
			}
		})
	}
}

// TestPaperCuts: what a newcomer types wrong is answered with the one
// line that says what is wrong and the one hint that says what to do.
func TestPaperCuts(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-folder")
	tests := []struct {
		name  string
		args  []string
		code  int
		err   string // the error line
		hints []string
	}{
		{"recording into a missing folder", []string{"answer", "-o", filepath.Join(missing, "call.webm")}, ExitFailure,
			"p2pcam: record to " + filepath.Join(missing, "call.webm") + ": the folder " + missing + " does not exist",
			[]string{"p2pcam: hint: create it first (mkdir -p " + missing + "), or give -o a path in a folder that exists"}},
		{"an mp4 as the source", []string{"offer", "--source", "clip.mp4"}, ExitUsage,
			"p2pcam: --source clip.mp4: p2pcam plays Y4M video; other files play through ffmpeg",
			[]string{"p2pcam: hint: pipe it in: ffmpeg -loglevel error -nostats -i clip.mp4 -f yuv4mpegpipe -pix_fmt yuv420p - | p2pcam offer --source -"}},
		{"a webm with a space, sent back", []string{"answer", "--source", "my clip.webm"}, ExitUsage,
			"p2pcam: --source my clip.webm: p2pcam plays Y4M video; other files play through ffmpeg",
			[]string{"p2pcam: hint: pipe it in: ffmpeg -loglevel error -nostats -i 'my clip.webm' -f yuv4mpegpipe -pix_fmt yuv420p - | p2pcam answer --source -"}},
		{"a typo in a source keyword", []string{"offer", "--source", "tset"}, ExitUsage,
			"", []string{"p2pcam: hint: did you mean --source test?"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, "", tc.args...)
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if code != tc.code || stdout != "" || (tc.err != "" && lines[0] != tc.err) || strings.Join(lines[1:], "\n") != strings.Join(tc.hints, "\n") {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit %d and:\n%s\n%s", code, stderr, tc.code, tc.err, strings.Join(tc.hints, "\n"))
			}
		})
	}
}
