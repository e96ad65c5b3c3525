package cli

import (
	"context"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/p2pcam/p2pcam/pkg/session"
)

// newOfferCmd builds p2pcam offer. RunE only glues: it validates the
// flags for their mode, builds the call's configuration and hands it to
// runF (runCallMode when nil; tests pass their own).
func newOfferCmd(e *env, runF func(context.Context, *env, callRun) error) *cobra.Command {
	if runF == nil {
		runF = runCallMode
	}
	o := &callOptions{}
	co := &codeOptions{}
	cmd := &cobra.Command{
		Use:   "offer [ANSWER-BLOB]",
		Short: "Start a call: send the camera and print an offer blob",
		Long: `offer starts a call. It opens the video source (the first camera by default),
gathers this machine's network addresses, and prints one blob on stdout: the
offer. Give that blob to "p2pcam answer" on the other machine (chat, mail,
ssh: any way to copy text works), then paste the answer blob it prints here.

The answer blob can also be given as an argument or with --remote FILE.

--code prints a short code instead (7-guitarist-revenge), easy to read out
over the phone: the other side runs "p2pcam answer CODE", and the blobs meet,
encrypted under a key only the two sides can derive from the code, at a
rendezvous server (magic-wormhole's mailbox server; --rendezvous URL or
$P2PCAM_RENDEZVOUS choose another than the public one).

Sound: --audio auto (the default) also sends the default microphone, as
48 kHz mono Opus, when the machine has one (PulseAudio or PipeWire on Linux,
CoreAudio on macOS), and nothing otherwise; "p2pcam devices" lists the
microphones. The other side records it beside the video (WebM; an .ivf
file holds the video alone). --whip and --serve send it too: a media
server passes it on, and --serve's page plays it muted at first (browsers'
autoplay rules) with an unmute button.

For more than one viewer, no blobs at all:
  --whip URL    publishes to a media server that speaks WHIP (mediamtx,
                Janus, LiveKit, Cloudflare, ...), which serves the viewers;
  --serve ADDR  serves them from here: p2pcam prints a page URL that plays
                the camera in any browser and a WHEP endpoint for players
                (p2pcam answer --whep URL), both with a random token. The
                camera is encoded once; each viewer gets its own connection.

Other video plays through ffmpeg, as Y4M on stdin:
  ffmpeg -loglevel error -nostats -i clip.mp4 -f yuv4mpegpipe -pix_fmt yuv420p - | p2pcam offer --source -`,
		Example: `  p2pcam offer
  p2pcam offer --source test --width 1280 --height 720 --bitrate 2.5M
  p2pcam offer --ice-server turn:alice:secret@turn.example.org:3478
  p2pcam offer --source test --ice-server none --interface lo --duration 10s
  p2pcam offer --code
  p2pcam offer --source test --audio test
  p2pcam offer --serve :8080
  P2PCAM_BEARER=secret p2pcam offer --whip https://media.example.org/cam/whip`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.noFEC = os.Getenv(opusFECEnv) == "off"
			r, err := o.run(session.Offerer, args, cmd.Flags().Changed, time.Now())
			if err != nil {
				return err
			}
			if r, err = co.apply(r, o, args, cmd.Flags().Changed, os.Getenv); err != nil {
				return err
			}
			return runF(cmd.Context(), e, r)
		},
	}
	addCallFlags(cmd.Flags(), o, session.Offerer)
	addCodeFlags(cmd.Flags(), co, session.Offerer)
	return cmd
}
