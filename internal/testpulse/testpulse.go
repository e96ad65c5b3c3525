// Package testpulse runs a private PulseAudio server for one test, so that
// sound can be captured on a machine without a sound card: a null sink
// named "mic" whose monitor ("mic.monitor", the default source) stands for
// the microphone, and a null sink "spk" for the speaker. A test plays a
// WAV file into the microphone with Play and captures mic.monitor.
//
// The server listens on a socket in the test's temporary directory and
// the test's environment (PULSE_SERVER, HOME, XDG_RUNTIME_DIR) points at
// it, for the test's own process and for the processes it starts with
// Env. Tests skip when pulseaudio is not installed, and fail instead when
// EnvRequire is set to 1 (CI).
package testpulse

import (
	"context"
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// EnvRequire names an environment variable that, when set to 1, makes a
// missing pulseaudio a test failure instead of a skip.
const EnvRequire = "P2PCAM_REQUIRE_PULSE"

// Server is a running private PulseAudio.
type Server struct {
	// Env is the environment that reaches the server:
	// PULSE_SERVER, HOME and XDG_RUNTIME_DIR, as KEY=VALUE.
	Env  []string
	dir  string
	kill func()
}

// Stop stops the server now, as a sound server that goes away during a
// call; it is also stopped when the test ends.
func (s *Server) Stop() { s.kill() }

// Start starts a server for t, sets t's environment to reach it, and
// stops it when t ends.
func Start(t *testing.T) *Server { return start(t, false) }

// StartB is Start for a benchmark.
func StartB(b *testing.B) *Server { return start(b, false) }

// StartProbe is Start with the microphone and the speaker made the two
// channels of one null sink, "probe" (mic the left, spk the right), so
// that one recording of probe.monitor (Listen) holds what went into the
// microphone and what came out of the speaker on one clock: mouth to
// ear is the distance between a beep in the left channel and in the
// right.
func StartProbe(t *testing.T) *Server { return start(t, true) }

// tb is what start needs of a test or benchmark.
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	TempDir() string
	Cleanup(func())
	Setenv(key, value string)
}

func start(t tb, probe bool) *Server {
	t.Helper()
	for _, tool := range []string{"pulseaudio", "pactl", "paplay"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv(EnvRequire) == "1" {
				t.Fatalf("%s is not installed and %s=1: apt-get install pulseaudio pulseaudio-utils", tool, EnvRequire)
			}
			t.Skipf("%s is not installed (apt-get install pulseaudio pulseaudio-utils); set %s=1 to make this a failure", tool, EnvRequire)
		}
	}
	dir := t.TempDir()
	s := &Server{dir: dir}
	home, xdg, sock := filepath.Join(dir, "home"), filepath.Join(dir, "xdg"), filepath.Join(dir, "native")
	for _, d := range []string{home, xdg} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	s.Env = []string{"PULSE_SERVER=unix:" + sock, "HOME=" + home, "XDG_RUNTIME_DIR=" + xdg}
	ctx, cancel := context.WithCancel(context.Background())
	sinks := []string{
		"-L", "module-null-sink sink_name=mic rate=48000 channels=1",
		"-L", "module-null-sink sink_name=spk rate=48000 channels=2",
	}
	if probe {
		sinks = []string{
			"-L", "module-null-sink sink_name=probe rate=48000 channels=2 channel_map=front-left,front-right",
			"-L", "module-remap-sink sink_name=mic master=probe channels=1 channel_map=mono master_channel_map=front-left remix=no",
			"-L", "module-remap-sink sink_name=spk master=probe channels=1 channel_map=mono master_channel_map=front-right remix=no",
		}
	}
	cmd := exec.CommandContext(ctx, "pulseaudio", append([]string{"-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
		"--log-target=stderr", "--log-level=error",
		"-L", "module-native-protocol-unix auth-anonymous=1 socket=" + sock}, sinks...)...)
	cmd.Env = append(os.Environ(), s.Env...)
	log, err := os.Create(filepath.Join(dir, "pulseaudio.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pulseaudio: %v", err)
	}
	var once sync.Once
	s.kill = func() {
		once.Do(func() {
			cancel()
			_ = cmd.Wait()
			log.Close()
		})
	}
	t.Cleanup(s.kill)
	// The server answers once its modules are loaded.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := s.run("pactl", "set-default-source", "mic.monitor"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(log.Name())
			t.Fatalf("pulseaudio did not answer within 10s:\n%s", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := s.run("pactl", "set-default-sink", "spk"); err != nil {
		t.Fatalf("pactl set-default-sink: %v", err)
	}
	for _, kv := range s.Env {
		k, v, _ := cut(kv)
		t.Setenv(k, v)
	}
	return s
}

func cut(kv string) (string, string, bool) {
	for i := range kv {
		if kv[i] == '=' {
			return kv[:i], kv[i+1:], true
		}
	}
	return kv, "", false
}

// run runs a PulseAudio client tool against the server.
func (s *Server) run(name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), s.Env...)
	return cmd.Run()
}

// Play plays wav into the microphone ("speaks into it") in the
// background, until ctx ends or the file ends; the returned function
// waits for paplay.
func (s *Server) Play(t *testing.T, ctx context.Context, wav string) (wait func()) {
	t.Helper()
	cmd := exec.CommandContext(ctx, "paplay", "--device=mic", wav)
	cmd.Env = append(os.Environ(), s.Env...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("paplay: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { <-done })
	return func() { <-done }
}

// BeepsWAV writes a 16-bit mono WAV at 48 kHz of n beeps, one a second:
// 100 ms of 1 kHz at half scale, then silence; it returns its path.
func BeepsWAV(t *testing.T, n int) string {
	t.Helper()
	samples := make([]int16, n*48000)
	for i := range samples {
		if i%48000 < 4800 {
			samples[i] = int16(math.Round(0.5 * 32767 * math.Sin(2*math.Pi*1000*float64(i)/48000)))
		}
	}
	return writeWAV(t, samples, "beeps.wav")
}

// writeWAV writes samples as a 16-bit mono WAV at 48 kHz named name in
// a temporary directory, and returns its path.
func writeWAV(t *testing.T, samples []int16, name string) string {
	t.Helper()
	n := len(samples)
	data := make([]byte, 44+2*n)
	copy(data, "RIFF")
	binary.LittleEndian.PutUint32(data[4:], uint32(36+2*n))
	copy(data[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(data[16:], 16)
	binary.LittleEndian.PutUint16(data[20:], 1)
	binary.LittleEndian.PutUint16(data[22:], 1)
	binary.LittleEndian.PutUint32(data[24:], 48000)
	binary.LittleEndian.PutUint32(data[28:], 96000)
	binary.LittleEndian.PutUint16(data[32:], 2)
	binary.LittleEndian.PutUint16(data[34:], 16)
	copy(data[36:], "data")
	binary.LittleEndian.PutUint32(data[40:], uint32(2*n))
	for i, v := range samples {
		binary.LittleEndian.PutUint16(data[44+2*i:], uint16(v))
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// ToneWAV writes a 16-bit mono WAV at 48 kHz of a sine of freq Hz at
// level (of full scale) lasting d, and returns its path.
func ToneWAV(t *testing.T, freq float64, level float64, d time.Duration) string {
	t.Helper()
	samples := make([]int16, int(d.Seconds()*48000))
	for i := range samples {
		samples[i] = int16(math.Round(level * 32767 * math.Sin(2*math.Pi*freq*float64(i)/48000)))
	}
	return writeWAV(t, samples, "tone.wav")
}
