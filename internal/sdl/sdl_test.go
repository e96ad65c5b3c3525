//go:build cgo

package sdl

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestABI compiles testdata/abi.c, which checks every constant, layout
// and prototype of shim.h against SDL2's own headers. It needs those
// headers (libsdl2-dev), which building p2pcam does not.
func TestABI(t *testing.T) {
	cflags, err := exec.Command("pkg-config", "--cflags", "sdl2").Output()
	if err != nil {
		t.Skipf("SDL2's headers are not installed (pkg-config --cflags sdl2: %v): nothing to check shim.h against", err)
	}
	cc := strings.Fields(goEnv(t, "CC"))
	if len(cc) == 0 {
		cc = []string{"cc"}
	}
	args := append(cc[1:], "-std=c11", "-fsyntax-only", "-Wall", "-Werror")
	args = append(args, strings.Fields(string(cflags))...)
	args = append(args, filepath.Join("testdata", "abi.c"))
	if out, err := exec.Command(cc[0], args...).CombinedOutput(); err != nil {
		t.Fatalf("shim.h differs from SDL2's headers (%s %s): %v\n%s", cc[0], strings.Join(args, " "), err, out)
	}
}

func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

// TestLoad loads this machine's SDL2 and calls into it: the version it
// reports, and a video driver that needs no display.
func TestLoad(t *testing.T) {
	if err := Load(); err != nil {
		t.Fatalf("Load: %v (is libsdl2-2.0-0 installed?)", err)
	}
	lib := Library()
	if !strings.HasPrefix(lib, LibraryNames(runtime.GOOS)[0]+" 2.") {
		t.Errorf("Library() = %q; want %s 2.x.y", lib, LibraryNames(runtime.GOOS)[0])
	}
	t.Setenv("SDL_VIDEODRIVER", "dummy")
	if err := InitSubSystem(InitVideo); err != nil {
		t.Fatalf("InitSubSystem(InitVideo) with the dummy driver: %v", err)
	}
	defer Quit()
	if got := CurrentVideoDriver(); got != "dummy" {
		t.Errorf("CurrentVideoDriver() = %q; want dummy", got)
	}
	// SDL's own error comes back as the error of a call that failed.
	if _, err := OpenAudioDevice(AudioSpec{Freq: 48000, Format: AudioS16LSB, Channels: 1, Samples: 512}); err == nil || err.Error() == "" {
		t.Errorf("OpenAudioDevice before the audio subsystem started: err %v; want SDL's complaint", err)
	}
	typ, err := RegisterEvents(1)
	if err != nil {
		t.Fatal(err)
	}
	if err := PushUserEvent(typ); err != nil {
		t.Fatal(err)
	}
	ev, ok := WaitEventTimeout(1000)
	for ok && ev.Type != typ {
		ev, ok = PollEvent()
	}
	if !ok {
		t.Errorf("the event pushed (type %#x) never came back", typ)
	}
}

// TestLoadFails: a library that is not there is a LoadError in the
// dynamic loader's words, naming it.
func TestLoadFails(t *testing.T) {
	const name = "libp2pcam-absent-2.0.so.0"
	err := load([]string{name, "libp2pcam-absent.so"})
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("load of an absent library: %v; want a *LoadError", err)
	}
	if !strings.Contains(le.Reason, name) || !strings.HasPrefix(err.Error(), "load SDL2: ") {
		t.Errorf("error %q; want the loader's words on %s", err, name)
	}
	empty := filepath.Join(t.TempDir(), "libSDL2-2.0.so.0")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := load([]string{empty}); !errors.As(err, &le) {
		t.Errorf("load of an empty file: %v; want a *LoadError", err)
	}
}

// TestLibraryNames: on a Mac, Homebrew's places are tried too.
func TestLibraryNames(t *testing.T) {
	for _, tc := range []struct {
		goos string
		want []string
	}{
		{"linux", []string{"libSDL2-2.0.so.0"}},
		{"freebsd", []string{"libSDL2-2.0.so.0", "libSDL2.so"}},
		{"darwin", []string{"libSDL2-2.0.0.dylib", "/opt/homebrew/lib/libSDL2-2.0.0.dylib", "/usr/local/lib/libSDL2-2.0.0.dylib"}},
	} {
		got := LibraryNames(tc.goos)
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("LibraryNames(%q) = %q; want %s among them", tc.goos, got, w)
			}
		}
		if got[0] != tc.want[0] {
			t.Errorf("LibraryNames(%q) starts with %s; want %s", tc.goos, got[0], tc.want[0])
		}
	}
}
