package cli

import (
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/spf13/pflag"

	"github.com/p2pcam/p2pcam/pkg/capture"
	"github.com/p2pcam/p2pcam/pkg/pcm"
	"github.com/p2pcam/p2pcam/pkg/session"
)

// addAudioFlag registers --audio with the default of role: auto for
// offer (a microphone when there is one), none for answer.
func addAudioFlag(fs *pflag.FlagSet, v *string, role session.Role) {
	def := "auto"
	if role == session.Answerer {
		def = "none"
	}
	fs.StringVar(v, "audio", def, "sound to send: auto (the default microphone if there is one, else none), default (the default microphone, or fail), mic:NAME (see p2pcam devices), test (a 1 kHz beep at each whole second), FILE.wav (looped), or none")
}

// parseAudioFlag turns --audio into the call's sound source. Every mode
// carries sound: a call, --whip and --serve send it (auto: the default
// microphone when there is one); --whep only plays, so it takes auto as
// none and refuses anything else.
func parseAudioFlag(o *callOptions) (capture.AudioSource, error) {
	a, err := capture.ParseAudio(o.audio)
	if err != nil {
		return a, usageError{err}
	}
	if o.whep == "" || a.Kind == capture.AudioNone {
		return a, nil
	}
	if a.Kind == capture.AudioAuto {
		return capture.AudioSource{}, nil
	}
	return a, usagef("--audio %s with --whep: a WHEP player only receives (it plays and records the server's sound); use --audio none", a)
}

// sendsSound reports whether a call is asked to send sound for sure (auto
// may find none).
func sendsSound(a capture.AudioSource) bool {
	return a.Kind != capture.AudioNone && a.Kind != capture.AudioAuto
}

// soundHints returns advice for the errors of opening a sound source, and
// true when err is one; the line about a missing sound server already
// says what to install.
func soundHints(err error) ([]string, bool) {
	var nm *capture.NoMicrophoneError
	switch {
	case errors.Is(err, capture.ErrNoSoundServer):
		return nil, true
	case errors.As(err, &nm) && len(nm.Have) > 0:
		return []string{"use one of those names with --audio mic:NAME (p2pcam devices lists them), or --audio none"}, true
	case errors.Is(err, capture.ErrNoMicrophone):
		return []string{"plug in a microphone, or send --audio test, a .wav file or none"}, true
	case errors.Is(err, pcm.ErrNotPCM16), errors.Is(err, pcm.ErrNotWAV), errors.Is(err, pcm.ErrTruncated):
		return []string{"make a clean one with ffmpeg -i IN -c:a pcm_s16le OUT.wav (any rate and channel count will do)"}, true
	case errors.Is(err, capture.ErrMicStopped):
		return []string{"check that the microphone is still plugged in and the sound server running"}, true
	}
	return nil, false
}

// soundMessage is the one line for a sound source that cannot be opened
// for want of a sound server: what is missing, then how to get it.
func soundMessage(err error) (string, bool) {
	if !errors.Is(err, capture.ErrNoSoundServer) {
		return "", false
	}
	how := "install and start one (Debian/Ubuntu: sudo apt install pipewire-pulse, or pulseaudio)"
	if runtime.GOOS == "darwin" {
		how = "check the sound settings"
	}
	return err.Error() + ": " + how + ", or send --audio test, a .wav file or none", true
}

// printMicrophones lists microphones for p2pcam devices; why says why
// there are none to list, when that is so.
func printMicrophones(w io.Writer, mics []capture.Microphone) {
	for _, m := range mics {
		def := ""
		if m.Default {
			def = ", the default"
		}
		fmt.Fprintf(w, "%s  (--audio mic:%s%s)\n  %s\n", m.Name, m.Name, def, m.Label)
	}
}
