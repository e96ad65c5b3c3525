package cli

import (
	"context"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/p2pcam/p2pcam/pkg/session"
)

// newAnswerCmd builds p2pcam answer, as newOfferCmd builds offer.
func newAnswerCmd(e *env, runF func(context.Context, *env, callRun) error) *cobra.Command {
	if runF == nil {
		runF = runCallMode
	}
	o := &callOptions{}
	co := &codeOptions{}
	cmd := &cobra.Command{
		Use:   "answer [OFFER-BLOB | CODE]",
		Short: "Join a call: read an offer blob, print an answer blob, record the video",
		Long: `answer joins a call started with "p2pcam offer". Paste the offer blob (or
give it as an argument or with --remote FILE); answer prints its own blob on
stdout for you to paste back into offer, then records the video it receives:
to a timestamped .webm in this folder unless -o says otherwise.

Given a code from "p2pcam offer --code" (like 7-guitarist-revenge) instead
of a blob, answer meets the other side at the rendezvous server the code was
made at (--rendezvous URL or $P2PCAM_RENDEZVOUS when it is not the public
one): no blobs to carry either way.

To send video back as well (a two-way call), give answer a --source and
offer an --output. answer sends sound only when --audio asks for it
(default, mic:NAME, test or FILE.wav) and the offer carries sound itself
or sends nothing at all (offer --source none, no microphone).
Sound that arrives is recorded beside the video into a .webm (an .ivf file
holds the video alone).

--whep URL plays a stream instead, with no blobs: from a media server that
speaks WHEP (mediamtx, Janus, LiveKit, ...) or from "p2pcam offer --serve".
Every -o form works the same, and the stream's sound, when it has some, is
recorded (and with --view played) as in a call; a player sends no sound.

To watch live, --view opens p2pcam's own window (f: full screen,
s: figures, q or Esc: hang up). To watch in a player of your own, pipe
the video into it; for ffplay, keep its start-up quick and its own
messages off the terminal where the blob is pasted:
  p2pcam answer -o - | ffplay ` + ffplayFlags + ` -`,
		Example: `  p2pcam answer -o call.webm
  p2pcam answer 7-guitarist-revenge -o call.webm
  p2pcam answer --view
  p2pcam answer -o - | ffplay ` + ffplayFlags + ` -
  p2pcam answer --remote offer.txt -o call.ivf --duration 30s
  p2pcam answer --whep http://127.0.0.1:8889/cam/whep -o cam.webm`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.whepFromEnv(args)
			o.noFEC = os.Getenv(opusFECEnv) == "off"
			r, err := o.run(session.Answerer, args, cmd.Flags().Changed, time.Now())
			if err != nil {
				return err
			}
			if r, err = co.apply(r, o, args, cmd.Flags().Changed, os.Getenv); err != nil {
				return err
			}
			return runF(cmd.Context(), e, r)
		},
	}
	addCallFlags(cmd.Flags(), o, session.Answerer)
	addCodeFlags(cmd.Flags(), co, session.Answerer)
	return cmd
}

// ffplayFlags make ffplay start at the first keyframe without buffering
// and keep its banner and progress off the terminal (measured: first
// picture 0.4-0.5 s after the paste instead of 1.9 s).
const ffplayFlags = "-hide_banner -loglevel error -nostats -probesize 32 -analyzeduration 0 -fflags nobuffer -flags low_delay -framedrop"
