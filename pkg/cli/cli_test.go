package cli

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/p2pcam/p2pcam/pkg/capture"
	"github.com/p2pcam/p2pcam/pkg/session"
	"github.com/p2pcam/p2pcam/signal"
)

// run runs p2pcam in-process with buffers for streams.
func run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	code = Main(ctx, args, Streams{In: strings.NewReader(stdin), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

func TestExitCodesAndOneLineErrors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"unknown command", []string{"bogus"}, ExitUsage, `unknown command "bogus"`},
		{"unknown flag", []string{"offer", "--nope"}, ExitUsage, "unknown flag: --nope"},
		{"two blobs", []string{"answer", "a", "b"}, ExitUsage, "accepts at most 1 arg"},
		{"odd size", []string{"offer", "--width", "641"}, ExitUsage, "bad size 641x480"},
		{"fps", []string{"offer", "--fps", "0"}, ExitUsage, "bad --fps 0"},
		{"cpu-used", []string{"offer", "--cpu-used", "0"}, ExitUsage, "bad --cpu-used 0"},
		{"blob format", []string{"offer", "--blob-format", "xml"}, ExitUsage, `bad --blob-format "xml"`},
		{"nothing to do", []string{"answer", "-o", "none"}, ExitUsage, "nothing to do"},
		{"measure without output", []string{"offer", "--measure", "--source", "test"}, ExitUsage, "--measure needs received video"},
		{"negative duration", []string{"offer", "--duration", "-1s"}, ExitUsage, "bad --duration"},
		{"argument and remote", []string{"answer", "--remote", "x.txt", "BLOB"}, ExitUsage, "not both"},
		{"missing remote file", []string{"answer", "--remote", "/nonexistent/blob.txt"}, ExitFailure, "read --remote"},
		{"video on stdin, no terminal", []string{"offer", "--source", "-"}, ExitUsage, "no terminal to paste the other side's blob into"},
		{"video and blob on stdin", []string{"offer", "--source", "-", "--remote", "-"}, ExitUsage, "both want stdin"},
		{"bad blob argument", []string{"answer", "--ice-server", "none", "definitely not a blob"}, ExitFailure, "p2pcam: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, lines := runFails(t, tc.wantCode, tc.args...)
			if !strings.HasPrefix(lines[0], "p2pcam: ") || !strings.Contains(lines[0], tc.wantErr) {
				t.Fatalf("first line %q; want p2pcam: ...%s...", lines[0], tc.wantErr)
			}
			for _, l := range lines[1:] {
				if !strings.HasPrefix(l, "p2pcam: hint: ") {
					t.Errorf("extra stderr line %q: an error is one line plus hints", l)
				}
			}
		})
	}
}

func TestVersionAndDevices(t *testing.T) {
	code, out, _ := run(t, "", "version")
	if code != 0 || !strings.HasPrefix(out, "p2pcam ") {
		t.Fatalf("version: %d %q", code, out)
	}
	var e env
	var stdout, stderr bytes.Buffer
	e.Streams = Streams{Out: &stdout, Err: &stderr}
	if err := runDevices(&e, &devicesOptions{}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if stdout.Len() != 0 || !strings.Contains(stderr.String(), "no camera found") || !strings.Contains(stderr.String(), "--source test") {
		t.Fatalf("no devices: stdout %q stderr %q", stdout.String(), stderr.String())
	}
	stdout.Reset()
	if err := runDevices(&e, &devicesOptions{json: true}, nil, nil); err != nil || strings.Join(strings.Fields(stdout.String()), "") != `{"cameras":[],"microphones":[]}` {
		t.Fatalf("--json with no devices = %q, %v", stdout.String(), err)
	}
	stdout.Reset()
	devs := []capture.Device{{ID: "0b4e-random", Label: "video0;video0", Formats: []capture.Format{
		{PixelFormat: "YUYV", Width: 640, Height: 480, FPS: 30},
		{PixelFormat: "MJPG", Width: 640, Height: 480, FPS: 30},
		{PixelFormat: "YUYV", Width: 640, Height: 480, FPS: 12.5},
	}}}
	mics := []capture.Microphone{{Name: "alsa_input.usb-mic", Label: "USB Mic", Default: true}}
	if err := runDevices(&e, &devicesOptions{}, devs, mics); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"video0  (--source camera:video0)", "YUYV    640x480  @ 30, 12.5 fps", "MJPG    640x480  @ 30 fps",
		"alsa_input.usb-mic  (--audio mic:alsa_input.usb-mic, the default)\n  USB Mic\n"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("device listing lacks %q:\n%s", want, stdout.String())
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	now := time.Date(2026, 11, 25, 9, 30, 5, 0, time.UTC)
	remote := filepath.Join(t.TempDir(), "offer.txt")
	if err := os.WriteFile(remote, []byte("  p2pcam1:abc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		role  session.Role
		args  []string
		check func(t *testing.T, c callConfig)
	}{
		{"offer sends the camera, records nothing", session.Offerer, nil, func(t *testing.T, c callConfig) {
			if c.session.Source.Kind != capture.Camera || c.session.Output != "" || c.paste.Format != signal.FormatCompact {
				t.Errorf("got source %v output %q format %v", c.session.Source, c.session.Output, c.paste.Format)
			}
			if len(c.session.ICEServers) != 1 || c.session.ICEServers[0].URLs[0] != defaultSTUN {
				t.Errorf("ICE servers %+v; want the default STUN server", c.session.ICEServers)
			}
		}},
		{"answer records to a timestamped webm", session.Answerer, nil, func(t *testing.T, c callConfig) {
			if c.session.Source.Kind != capture.None || c.session.Output != "p2pcam-20261125-093005.webm" {
				t.Errorf("got source %v output %q", c.session.Source, c.session.Output)
			}
		}},
		{"blob from a file", session.Answerer, []string{"--remote", remote}, func(t *testing.T, c callConfig) {
			if !strings.Contains(c.paste.Remote, "p2pcam1:abc") {
				t.Errorf("paste.Remote = %q", c.paste.Remote)
			}
		}},
		{"a y4m file plays at its own rate", session.Offerer, []string{"--source", "clip.y4m"}, func(t *testing.T, c callConfig) {
			if c.session.FPS != 0 {
				t.Errorf("FPS %g; want 0 (the file's header says)", c.session.FPS)
			}
		}},
		{"--fps overrides a y4m file's rate", session.Offerer, []string{"--source", "clip.y4m", "--fps", "15"}, func(t *testing.T, c callConfig) {
			if c.session.FPS != 15 {
				t.Errorf("FPS %g; want 15", c.session.FPS)
			}
		}},
		{"the test pattern at the default rate", session.Offerer, []string{"--source", "test"}, func(t *testing.T, c callConfig) {
			if c.session.FPS != session.DefaultFPS {
				t.Errorf("FPS %g; want %d", c.session.FPS, session.DefaultFPS)
			}
		}},
		{"pion blobs and a call", session.Offerer, []string{"--blob-format", "pion", "-o", "back.ivf", "--source", "test", "--bitrate", "2.5M"}, func(t *testing.T, c callConfig) {
			if c.paste.Format != signal.FormatPion || c.session.Output != "back.ivf" || c.session.Bitrate != 2_500_000 || c.session.Source.Kind != capture.Test {
				t.Errorf("got %+v", c)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, fs := parseCallFlags(t, tc.role, tc.args)
			r, err := o.run(tc.role, fs.Args(), fs.Changed, now)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, r.call)
		})
	}
}

// TestHelpStyle keeps flag help consistent: lowercase start (acronyms
// aside), no trailing period, and every command has a short and long
// description.
func TestHelpStyle(t *testing.T) {
	e := &env{verbosity: new(int)}
	root := newRootCmd(e)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Short == "" {
			t.Errorf("%s: no Short", c.CommandPath())
		}
		if c.HasParent() && c.Long == "" {
			t.Errorf("%s: no Long", c.CommandPath())
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			u := f.Usage
			first, _, _ := strings.Cut(u, " ")
			acronym := strings.ToUpper(first) == first
			if u == "" || (!acronym && strings.ToLower(u[:1]) != u[:1]) || strings.HasSuffix(u, ".") {
				t.Errorf("%s --%s: usage %q should start lowercase and not end with a period", c.CommandPath(), f.Name, u)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// TestVerbosity: -v shows p2pcam's own debug lines and none of pion's;
// -vv adds pion's, traces included; no -v shows errors only.
func TestVerbosity(t *testing.T) {
	tests := []struct {
		v           int
		own, pion   bool // debug lines shown
		pionTrace   bool
		pionWarning bool
	}{
		{0, false, false, false, false},
		{1, true, false, false, false},
		{2, true, true, true, true},
	}
	for _, tc := range tests {
		var b bytes.Buffer
		log := newLogger(&b, tc.v)
		log.Debug("own debug")
		pion := log.With("pion", "ice")
		pion.Debug("pion debug")
		pion.Log(context.Background(), slog.LevelDebug-4, "pion trace")
		pion.Warn("pion warning")
		log.Debug("pion record", "pion", "dtls")
		for _, c := range []struct {
			msg  string
			want bool
		}{{"own debug", tc.own}, {"pion debug", tc.pion}, {"pion trace", tc.pionTrace}, {"pion warning", tc.pionWarning}, {"pion record", tc.pion}} {
			if got := strings.Contains(b.String(), c.msg); got != c.want {
				t.Errorf("-v×%d: %q shown %v; want %v\n%s", tc.v, c.msg, got, c.want, b.String())
			}
		}
	}
}
