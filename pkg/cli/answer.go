package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/p2pcam/p2pcam/pkg/session"
)

func newAnswerCmd(e *env) *cobra.Command {
	o := &callOptions{}
	cmd := &cobra.Command{
		Use:   "answer [OFFER-BLOB]",
		Short: "Join a call: read an offer blob, print an answer blob, record the video",
		Long: `answer joins a call started with "p2pcam offer". Paste the offer blob (or
give it as an argument or with --remote FILE); answer prints its own blob on
stdout for you to paste back into offer, then records the video it receives:
to a timestamped .webm in this folder unless -o says otherwise.

To send video back as well (a two-way call), give answer a --source and
offer an --output. answer sends sound only when --audio asks for it
(default, mic:NAME, test or FILE.wav) and the offer carries sound itself.
Sound that arrives is received but not recorded yet: recordings hold the
video only until the recorder learns to mux sound.

--whep URL plays a stream instead, with no blobs: from a media server that
speaks WHEP (mediamtx, Janus, LiveKit, ...) or from "p2pcam offer --serve".
Every -o form works the same.`,
		Example: `  p2pcam answer -o call.webm
  p2pcam answer -o - | ffplay -
  p2pcam answer --remote offer.txt -o call.ivf --duration 30s
  p2pcam answer --whep http://127.0.0.1:8889/cam/whep -o cam.webm`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			cc, err := o.config(session.Answerer, args, time.Now())
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
			return runCall(cmd, e, cc)
		},
	}
	addCallFlags(cmd.Flags(), o, session.Answerer)
	return cmd
}
