package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestSlowAnswerPasteStillConnects hands the answer back to the offer 45 s
// after the answer applied the offer. With pion's defaults the answering
// side's ICE agent gives up 30 s after it starts checking; p2pcam keeps it
// checking for the whole paste window, so a person copying the answer
// through a chat app still gets a call.
func TestSlowAnswerPasteStillConnects(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 45 s of waiting")
	}
	t.Parallel()
	needFFmpeg(t)
	const delay = 45 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), delay+60*time.Second)
	defer cancel()
	offer := start(t, ctx, "offer", false, append([]string{"offer", "--source", "test", "--width", "320", "--height", "240", "--duration", "2s"}, loopback...)...)
	answer := start(t, ctx, "answer", false, append([]string{"answer", "-o", "late.webm"}, loopback...)...)
	answer.paste(offer.blob(ctx))
	blob := answer.blob(ctx)
	answer.waitFor(ctx, "waiting up to 5m0s")

	// The person takes their time.
	timer := time.NewTimer(delay)
	select {
	case <-timer.C:
	case <-ctx.Done():
		t.Fatal("deadline before the paste")
	}
	offer.paste(blob)
	if code := offer.wait(ctx); code != 0 {
		t.Fatalf("offer exited %d\n%s", code, offer.errText())
	}
	if code := answer.wait(ctx); code != 0 {
		t.Fatalf("answer exited %d\n%s", code, answer.errText())
	}
	codec, w, h, frames := probe(t, filepath.Join(answer.cmd.Dir, "late.webm"))
	if codec != "vp8" || w != 320 || h != 240 || frames < 40 {
		t.Fatalf("recording after a slow paste: %s %dx%d %d frames", codec, w, h, frames)
	}
}
