//go:build linux && cgo

package main

import (
	"bytes"
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/sdl"
	"github.com/p2pcam/p2pcam/internal/testutil"
)

// TestBinaryDoesNotLinkSDL: the binary names no SDL2 library among those
// the dynamic loader must find before main (its DT_NEEDED entries, what
// `readelf -d` lists as NEEDED): SDL2 is loaded by --view alone.
func TestBinaryDoesNotLinkSDL(t *testing.T) {
	f, err := elf.Open(binPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	needed, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(needed, "libc.so.6") {
		t.Fatalf("NEEDED %q: no libc.so.6, so not the list of a dynamic binary", needed)
	}
	for _, lib := range needed {
		if strings.Contains(strings.ToLower(lib), "sdl") {
			t.Errorf("the binary needs %s (NEEDED %q); want SDL2 loaded only for --view", lib, needed)
		}
	}
}

// withoutSDL returns a wrapper that runs a command line in a mount
// namespace of its own where every file of SDL2's library the dynamic
// loader knows is /dev/null: a machine without SDL2, as far as p2pcam can
// tell. It skips the test where that cannot be done (not root, no
// unshare).
func withoutSDL(t *testing.T) func(argv []string) []string {
	t.Helper()
	libs := sdlFiles(t)
	if len(libs) == 0 {
		// Nothing to hide: this machine is without SDL2 already.
		return func(argv []string) []string { return argv }
	}
	if os.Geteuid() != 0 {
		t.Skip("hiding SDL2 takes a mount namespace: run as root")
	}
	script := ""
	for _, l := range libs {
		if strings.ContainsAny(l, "'\\") {
			t.Skipf("cannot quote %q for the shell", l)
		}
		script += "mount --bind /dev/null '" + l + "' || exit 125; "
	}
	script += `exec "$@"`
	wrap := func(argv []string) []string {
		return append([]string{"unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh"}, argv...)
	}
	probe := wrap([]string{"sh", "-c", "test ! -s '" + libs[0] + "'"})
	if out, err := exec.Command(probe[0], probe[1:]...).CombinedOutput(); err != nil {
		t.Skipf("cannot hide SDL2 in a mount namespace (%s): %v\n%s", strings.Join(probe, " "), err, out)
	}
	return wrap
}

// sdlFiles are the files SDL2's library names resolve to through the
// loader's cache (ldconfig -p), links followed.
func sdlFiles(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("ldconfig", "-p").Output()
	if err != nil {
		out, err = exec.Command("/sbin/ldconfig", "-p").Output()
	}
	if err != nil {
		t.Skipf("ldconfig -p: %v: cannot tell where SDL2 is", err)
	}
	names := sdl.LibraryNames(runtime.GOOS)
	var files []string
	for _, line := range strings.Split(string(out), "\n") {
		name, path, ok := strings.Cut(strings.TrimSpace(line), " => ")
		if !ok || !slices.Contains(names, strings.Fields(name)[0]) {
			continue
		}
		if real, err := filepath.EvalSymlinks(path); err == nil && !slices.Contains(files, real) {
			files = append(files, real)
		}
	}
	return files
}

// TestRunsWithoutSDL: on a machine without SDL2 every command runs (help,
// devices, version, and a call recorded to a file), and --view says in
// one line, before any blob, which package to install.
func TestRunsWithoutSDL(t *testing.T) {
	hide := withoutSDL(t)
	run := func(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
		t.Helper()
		argv := hide(append([]string{binPath}, args...))
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Env = append(os.Environ(), env...)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		code = cmd.ProcessState.ExitCode()
		if err != nil && code < 0 {
			t.Fatalf("p2pcam %s: %v", strings.Join(args, " "), err)
		}
		return o.String(), e.String(), code
	}
	for _, tc := range []struct {
		args []string
		out  string // in stdout
	}{
		{[]string{"--help"}, "Available Commands:"},
		{[]string{"version"}, "p2pcam "},
		{[]string{"devices", "--json"}, "{"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errText, code := run(t, nil, tc.args...)
			if code != 0 || !strings.Contains(out, tc.out) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 0 and %q on stdout", code, out, errText, tc.out)
			}
		})
	}
	t.Run("view", func(t *testing.T) {
		out, errText, code := run(t, []string{"DISPLAY=:99", "WAYLAND_DISPLAY="},
			"answer", "--view", "--ice-server", "none", "--interface", "lo")
		want := "p2pcam: --view needs SDL2, which is not installed here: install it with `sudo apt install libsdl2-2.0-0` (Debian, Ubuntu, Raspberry Pi OS; elsewhere the SDL2 package), or pipe -o - into a player\n"
		if code != 1 || out != "" || errText != want {
			t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit 1, no blob, and the one line\n%s", code, out, errText, want)
		}
	})
	t.Run("call to a file", func(t *testing.T) {
		testutil.NeedFFmpeg(t)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		offer, answer := call(t, ctx, callSpec{
			offerArgs:  append([]string{"offer", "--source", "test", "--width", "320", "--height", "240", "--duration", "2s"}, loopback...),
			answerArgs: append([]string{"answer", "-o", "call.webm"}, loopback...),
			offerIn:    hide, answerIn: hide,
		})
		waitOK(ctx, offer, answer)
		got := testutil.Probe(t, filepath.Join(answer.cmd.Dir, "call.webm"))
		if got.Codec != "vp8" || got.Width != 320 || got.Frames < 30 {
			t.Errorf("recording %s %dx%d, %d frames; want vp8 320x240, about 60 frames", got.Codec, got.Width, got.Height, got.Frames)
		}
	})
}
