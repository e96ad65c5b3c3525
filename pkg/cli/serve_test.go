package cli

import (
	"reflect"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/pkg/capture"
	"github.com/p2pcam/p2pcam/pkg/codec"
	"github.com/p2pcam/p2pcam/pkg/session"
)

// TestServeOpensTheSourceAsACallWould: --serve hands the server the
// source and the capture options a call would open (none dropped on the
// way: --camera-format was once), and --stats.
func TestServeOpensTheSourceAsACallWould(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want capture.Options
		src  capture.Source
	}{
		{"defaults", nil, capture.Options{Width: 640, Height: 480, FPS: 30, Bitrate: 1_500_000, Speed: -6},
			capture.Source{Kind: capture.Camera}},
		{"a camera in one format", []string{"--source", "camera:video2", "--camera-format", "MJPEG", "--width", "1280", "--height", "720", "--fps", "15"},
			capture.Options{Width: 1280, Height: 720, FPS: 15, Bitrate: 1_500_000, Speed: -6, CameraFormat: "MJPEG"},
			capture.Source{Kind: capture.Camera, Arg: "video2"}},
		// FPS 0: a Y4M stream plays at its own rate.
		{"stdin at a bitrate and speed", []string{"--source", "-", "--bitrate", "800k", "--cpu-used", "-4", "--stats", "s.jsonl"},
			capture.Options{Width: 640, Height: 480, Bitrate: 800_000, Speed: -4},
			capture.Source{Kind: capture.File, Arg: "-"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, fs := parseCallFlags(t, session.Offerer, append([]string{"--serve", ":0"}, tc.args...))
			cc, err := o.config(session.Offerer, fs.Args(), fs.Changed("fps"), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			ss, err := o.serveConfig(cc)
			if err != nil {
				t.Fatal(err)
			}
			got := ss.serve.Capture
			if got.Codec.Kind != codec.Video || got.Codec.NewVideoEncoder == nil {
				t.Errorf("serve encodes with %q, not a video codec with an encoder", got.Codec.MimeType)
			}
			if !reflect.DeepEqual(withoutCodec(got), tc.want) || ss.serve.Source != tc.src {
				t.Errorf("serve opens %+v with %+v; want %+v with %+v", ss.serve.Source, withoutCodec(got), tc.src, tc.want)
			}
			call, err := captureOptions(cc.session)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(withoutCodec(got), withoutCodec(call)) || got.Codec.MimeType != call.Codec.MimeType {
				t.Errorf("serve's options %+v differ from a call's %+v", got, call)
			}
			if ss.stats != o.stats {
				t.Errorf("stats %q; want %q", ss.stats, o.stats)
			}
		})
	}
}

// withoutCodec is o with its codec left out, so that options compare with ==.
func withoutCodec(o capture.Options) capture.Options {
	o.Codec = codec.Descriptor{}
	return o
}

// TestAudioInEveryMode: --audio reaches every mode that sends (a call,
// --whip, --serve; auto stays auto, for the microphone when there is
// one), and a WHEP player, which only receives, takes auto as none and
// refuses a source.
func TestAudioInEveryMode(t *testing.T) {
	tests := []struct {
		name    string
		role    session.Role
		args    []string
		want    capture.AudioKind
		refused bool
	}{
		{"a call, auto", session.Offerer, nil, capture.AudioAuto, false},
		{"whip, test", session.Offerer, []string{"--whip", "http://h/w", "--audio", "test"}, capture.AudioTest, false},
		{"whip, auto", session.Offerer, []string{"--whip", "http://h/w"}, capture.AudioAuto, false},
		{"serve, test", session.Offerer, []string{"--serve", ":0", "--audio", "test"}, capture.AudioTest, false},
		{"serve, auto", session.Offerer, []string{"--serve", ":0"}, capture.AudioAuto, false},
		{"whep, auto", session.Answerer, []string{"--whep", "http://h/w", "--audio", "auto"}, capture.AudioNone, false},
		{"whep, test", session.Answerer, []string{"--whep", "http://h/w", "--audio", "test"}, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, fs := parseCallFlags(t, tc.role, tc.args)
			cc, err := o.config(tc.role, fs.Args(), fs.Changed("fps"), time.Now())
			if tc.refused {
				if err == nil {
					t.Fatal("accepted; want refused")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := cc.session.Audio.Kind
			if o.serve != "" {
				ss, err := o.serveConfig(cc)
				if err != nil {
					t.Fatal(err)
				}
				got = ss.serve.Audio.Kind
				if ss.serve.AudioOptions.Codec.Kind != codec.Audio {
					t.Errorf("serve's sound codec %q; want an audio codec", ss.serve.AudioOptions.Codec.MimeType)
				}
			}
			if got != tc.want {
				t.Errorf("audio %v; want %v", got, tc.want)
			}
		})
	}
}
