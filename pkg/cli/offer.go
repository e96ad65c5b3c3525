package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/p2pcam/p2pcam/pkg/session"
)

func newOfferCmd(e *env) *cobra.Command {
	o := &callOptions{}
	cmd := &cobra.Command{
		Use:   "offer [ANSWER-BLOB]",
		Short: "Start a call: send the camera and print an offer blob",
		Long: `offer starts a call. It opens the video source (the first camera by default),
gathers this machine's network addresses, and prints one blob on stdout: the
offer. Give that blob to "p2pcam answer" on the other machine (chat, mail,
ssh: any way to copy text works), then paste the answer blob it prints here.

The answer blob can also be given as an argument or with --remote FILE.

Sound: --audio auto (the default) also sends the default microphone, as
48 kHz mono Opus, when the machine has one (PulseAudio or PipeWire on Linux,
CoreAudio on macOS), and nothing otherwise; "p2pcam devices" lists the
microphones. The other side receives the sound but does not record it yet:
recordings hold the video only until the recorder learns to mux sound.

For more than one viewer, no blobs at all:
  --whip URL    publishes to a media server that speaks WHIP (mediamtx,
                Janus, LiveKit, Cloudflare, ...), which serves the viewers;
  --serve ADDR  serves them from here: p2pcam prints a page URL that plays
                the camera in any browser and a WHEP endpoint for players
                (p2pcam answer --whep URL), both with a random token. The
                camera is encoded once; each viewer gets its own connection.`,
		Example: `  p2pcam offer
  p2pcam offer --source test --width 1280 --height 720 --bitrate 2.5M
  p2pcam offer --ice-server turn:alice:secret@turn.example.org:3478
  p2pcam offer --source test --ice-server none --interface lo --duration 10s
  p2pcam offer --source test --audio test
  p2pcam offer --serve :8080
  P2PCAM_BEARER=secret p2pcam offer --whip https://media.example.org/cam/whip`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			cc, err := o.config(session.Offerer, args, time.Now())
			if err != nil {
				return err
			}
			endpoint, err := o.mediaServerConfig(cc, args)
			if err != nil {
				return err
			}
			if endpoint != "" {
				return runMediaServer(cmd, e, cc, endpoint, o)
			}
			if o.serve != "" {
				sc, err := o.serveConfig(cc, args)
				if err != nil {
					return err
				}
				return runServe(cmd.Context(), e, o.serve, sc, o.qr)
			}
			return runCall(cmd, e, cc)
		},
	}
	addCallFlags(cmd.Flags(), o, session.Offerer)
	return cmd
}
