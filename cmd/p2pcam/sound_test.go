package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/testpulse"
)

// TestAudioDefaultWithoutSoundServer: asking for the microphone on a
// machine without a sound server fails before any blob, with exit code 1
// and one line that says what is missing and how to get it; nothing from
// the sound libraries reaches the terminal.
func TestAudioDefaultWithoutSoundServer(t *testing.T) {
	t.Setenv("PULSE_SERVER", "unix:"+t.TempDir()+"/no-sound-server")
	want := "p2pcam: open sound source default: no sound server to capture from: no PulseAudio or PipeWire server answers: " +
		"install and start one (Debian/Ubuntu: sudo apt install pipewire-pulse, or pulseaudio), or send --audio test, a .wav file or none"
	for _, args := range [][]string{
		{"offer", "--source", "test", "--audio", "default"},
		{"answer", "--source", "test", "--audio", "default", "-o", "none"},
	} {
		t.Run(args[0], func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			p := start(t, ctx, args[0], true, append(args, loopback...)...)
			if code := p.wait(ctx); code != 1 {
				t.Fatalf("exit code %d, want 1", code)
			}
			if p.stdout.Len() != 0 {
				t.Errorf("stdout %q, want nothing (no blob)", p.stdout)
			}
			if got := strings.TrimSuffix(p.errText(), "\n"); got != want {
				t.Errorf("stderr:\n%s\nwant the one line\n%s", got, want)
			}
		})
	}
}

// TestDevicesListsTheMicrophone: under a private PulseAudio, devices
// --json lists the null sink's monitor as the default microphone, and the
// listing for people names it with its --audio value.
func TestDevicesListsTheMicrophone(t *testing.T) {
	testpulse.Start(t)
	out, err := exec.Command(binPath, "devices", "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Cameras     []json.RawMessage `json:"cameras"`
		Microphones []struct {
			Name, Label string
			Default     bool
		} `json:"microphones"`
	}
	if err := json.Unmarshal(out, &got); err != nil || got.Cameras == nil {
		t.Fatalf("devices --json = %s (%v); want cameras and microphones", out, err)
	}
	i := slices.IndexFunc(got.Microphones, func(m struct {
		Name, Label string
		Default     bool
	}) bool {
		return m.Name == "mic.monitor"
	})
	if i < 0 || !got.Microphones[i].Default || got.Microphones[i].Label == "" {
		t.Fatalf("microphones %+v, want mic.monitor, the default, with a label", got.Microphones)
	}
	out, err = exec.Command(binPath, "devices").Output()
	if err != nil || !strings.Contains(string(out), "mic.monitor  (--audio mic:mic.monitor, the default)\n") {
		t.Errorf("devices = %q (%v); want mic.monitor with its --audio value", out, err)
	}
}

// TestCallWithTheMicrophone: with a private PulseAudio, offer's default
// --audio auto opens the default microphone, says which on the twin of
// the camera line, and the call runs and ends cleanly on both sides.
func TestCallWithTheMicrophone(t *testing.T) {
	testpulse.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	offer, answer := call(t, ctx, callSpec{
		offerArgs:  append([]string{"offer", "--source", "test", "--width", "160", "--height", "120", "--duration", "3s"}, loopback...),
		answerArgs: append([]string{"answer", "-o", "call.webm"}, loopback...),
	})
	waitOK(ctx, offer, answer)
	if !strings.Contains(offer.errText(), "microphone: mic.monitor (Monitor of Null Output), 48 kHz mono Opus\n") {
		t.Errorf("offer did not name the microphone:\n%s", offer.errText())
	}
	for _, p := range []*proc{offer, answer} {
		for _, l := range strings.Split(p.errText(), "\n") {
			if strings.Contains(strings.ToLower(l), "warn") || strings.Contains(strings.ToLower(l), "error") || strings.HasPrefix(l, "ALSA") {
				t.Errorf("%s printed %q", p.name, l)
			}
		}
	}
}

// TestCallGoesOnWhenTheSoundServerGoesAway: the sound server dying during
// a call stops the sound, says so once, and the video call goes on to its
// end.
func TestCallGoesOnWhenTheSoundServerGoesAway(t *testing.T) {
	srv := testpulse.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	offer, answer := call(t, ctx, callSpec{
		offerArgs:  append([]string{"offer", "--source", "test", "--width", "160", "--height", "120", "--audio", "default", "--duration", "6s"}, loopback...),
		answerArgs: append([]string{"answer", "-o", "call.webm"}, loopback...),
	})
	offer.waitFor(ctx, "connected")
	srv.Stop()
	waitOK(ctx, offer, answer)
	if n := strings.Count(offer.errText(), "sound stopped: the microphone stopped: mic.monitor"); n != 1 {
		t.Errorf("offer said %d times that the sound stopped, want once:\n%s", n, offer.errText())
	}
}

// TestSoundOnlyCallEndsWhenTheMicrophoneGoes: a call that sends sound
// alone and receives nothing has nothing left to do when its microphone
// goes: it ends with one line that names the sound, not the video, and
// a hint; the other side says why it ends.
func TestSoundOnlyCallEndsWhenTheMicrophoneGoes(t *testing.T) {
	srv := testpulse.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	offer, answer := call(t, ctx, callSpec{
		offerArgs:  append([]string{"offer", "--source", "none", "--audio", "default", "--duration", "20s"}, loopback...),
		answerArgs: append([]string{"answer", "-o", "call.webm"}, loopback...),
	})
	answer.waitFor(ctx, "recording to call.webm")
	srv.Stop()
	if code := offer.wait(ctx); code != 1 {
		t.Errorf("offer exit code %d, want 1", code)
	}
	answer.wait(ctx)
	if got := firstLine(offer.errText(), "p2pcam: "); !strings.HasPrefix(got, "p2pcam: sound source failed: the microphone stopped: mic.monitor") {
		t.Errorf("offer's error line %q; want the sound named:\n%s", got, offer.errText())
	}
	if strings.Contains(offer.errText(), "video") || strings.Contains(offer.errText(), "camera") {
		t.Errorf("offer blames the video:\n%s", offer.errText())
	}
	if !strings.Contains(offer.errText(), "p2pcam: hint: check that the microphone is still plugged in") {
		t.Errorf("offer gave no hint:\n%s", offer.errText())
	}
	if !strings.Contains(answer.errText(), "the other side's microphone stopped") {
		t.Errorf("answer did not say why the call ended:\n%s", answer.errText())
	}
}

// TestAnswerGoesOnReceivingWhenItsMicrophoneGoes: a side that sends sound
// alone but receives video keeps receiving when its microphone goes, says
// so once, and records to the end.
func TestAnswerGoesOnReceivingWhenItsMicrophoneGoes(t *testing.T) {
	srv := testpulse.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	offer, answer := call(t, ctx, callSpec{
		offerArgs:  append([]string{"offer", "--source", "test", "--width", "160", "--height", "120", "--audio", "test", "--duration", "6s"}, loopback...),
		answerArgs: append([]string{"answer", "--audio", "default", "-o", "call.webm"}, loopback...),
	})
	answer.waitFor(ctx, "connected")
	srv.Stop()
	waitOK(ctx, offer, answer)
	if n := strings.Count(answer.errText(), "sound stopped: the microphone stopped: mic.monitor"); n != 1 || !strings.Contains(answer.errText(), "; the call goes on without it\n") {
		t.Errorf("answer said %d times that the sound stopped, want once:\n%s", n, answer.errText())
	}
	if !strings.Contains(answer.errText(), "the other side reached its --duration") {
		t.Errorf("the call did not run to the offer's --duration:\n%s", answer.errText())
	}
}

// TestBadSoundInputsSayOneLine: a .wav p2pcam cannot play, or one cut
// short, and a microphone name that does not exist each fail before any
// blob with exit code 1, one line that says what is wrong and a hint with
// the way forward (for the microphone, the names there are); never a
// panic.
func TestBadSoundInputsSayOneLine(t *testing.T) {
	dir := t.TempDir()
	// wav writes a mono 48 kHz WAV of format tag and bits per sample,
	// holding have bytes of samples but announcing announced.
	wav := func(name string, tag, bits uint16, have, announced uint32) string {
		var b bytes.Buffer
		le := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
		b.WriteString("RIFF")
		le(uint32(36 + announced))
		b.WriteString("WAVEfmt ")
		le(uint32(16))
		le(tag)
		le(uint16(1))
		le(uint32(48000))
		le(uint32(48000 * uint32(bits) / 8))
		le(bits / 8)
		le(bits)
		b.WriteString("data")
		le(announced)
		b.Write(make([]byte, have))
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	const clean = "p2pcam: hint: make a clean one with ffmpeg -i IN -c:a pcm_s16le OUT.wav (any rate and channel count will do)"
	tests := []struct {
		name, audio string
		pulse       bool // under a private sound server
		want        []string
	}{
		{"float samples", wav("float.wav", 3, 32, 19200, 19200), false, []string{
			"p2pcam: open sound source float.wav: float.wav: pcm: 32-bit float samples: WAV file is not 16-bit PCM", clean}},
		{"24-bit samples", wav("deep.wav", 1, 24, 14400, 14400), false, []string{
			"p2pcam: open sound source deep.wav: deep.wav: pcm: 24 bits per sample: WAV file is not 16-bit PCM", clean}},
		{"cut short", wav("cut.wav", 1, 16, 3000, 96000), false, []string{
			"p2pcam: open sound source cut.wav: cut.wav: pcm: the header announces 96000 bytes of samples, the file holds 3000: WAV file is cut short", clean}},
		{"a microphone that is not there", "mic:usb-mic", true, []string{
			"p2pcam: open sound source mic:usb-mic: no microphone \"usb-mic\": there are ",
			"p2pcam: hint: use one of those names with --audio mic:NAME (p2pcam devices lists them), or --audio none"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.pulse {
				testpulse.Start(t)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			p := startArgv(t, ctx, "offer", true, append([]string{binPath, "offer", "--source", "test", "--audio", tc.audio}, loopback...))
			if code := p.wait(ctx); code != 1 {
				t.Fatalf("exit code %d, want 1\n%s", code, p.errText())
			}
			if p.stdout.Len() != 0 {
				t.Errorf("stdout %q, want nothing (no blob)", p.stdout)
			}
			// The lines name the file as given: its folder aside.
			got := strings.Split(strings.TrimSuffix(strings.ReplaceAll(p.errText(), dir+string(os.PathSeparator), ""), "\n"), "\n")
			if len(got) != len(tc.want) {
				t.Fatalf("stderr:\n%s\nwant:\n%s", p.errText(), strings.Join(tc.want, "\n"))
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("line %d: %q\nwant it to start %q", i+1, got[i], w)
				}
			}
			if tc.pulse && !strings.Contains(got[0], "mic.monitor") {
				t.Errorf("%q does not name the microphone there is (mic.monitor)", got[0])
			}
		})
	}
}
