package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestPlayerClosingThePipeHangsUp: `answer -o - | head -c 300000` (a player
// that quits) ends the call cleanly: no SIGPIPE death, exit 0, the reason
// said, and the other side told at once.
func TestPlayerClosingThePipeHangsUp(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	offer := start(t, ctx, "offer", false, append([]string{"offer", "--source", "test"}, loopback...)...)
	blobFile := offer.blobFile(ctx)
	// pipefail: the status is p2pcam's, not head's.
	answer := startArgv(t, ctx, "answer | head", false, []string{"bash", "-c",
		"set -o pipefail; '" + binPath + "' answer -o - --remote '" + blobFile + "' " + strings.Join(loopback, " ") + " | head -c 300000 >/dev/null"})
	offer.paste(answer.errBlob(ctx))
	if code := answer.wait(ctx); code != 0 {
		t.Fatalf("answer exited %d; want 0\n%s", code, answer.errText())
	}
	if !strings.Contains(answer.errText(), "the player closed the stream; hanging up\n") {
		t.Errorf("answer did not say why it hung up:\n%s", answer.errText())
	}
	if code := offer.wait(ctx); code != 0 || !strings.Contains(offer.errText(), "the player on the other side closed the stream; the call is over\n") {
		t.Fatalf("offer exited %d; want 0 after the other side hung up\n%s", code, offer.errText())
	}
}
