package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestVerboseIsForPeople: in a healthy call, -v prints p2pcam's own debug
// lines and nothing of pion's (its structs, its warnings); -vv adds
// pion's logs.
func TestVerboseIsForPeople(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	offer, answer := call(t, ctx, callSpec{
		offerArgs:  append([]string{"offer", "--source", "test", "--width", "320", "--height", "240", "--duration", "2s", "-vv"}, loopback...),
		answerArgs: append([]string{"answer", "-v", "-o", "call.webm"}, loopback...),
	})
	if code := answer.wait(ctx); code != 0 {
		t.Fatalf("answer exited %d", code)
	}
	if code := offer.wait(ctx); code != 0 {
		t.Fatalf("offer exited %d", code)
	}
	v, vv := answer.errText(), offer.errText()
	if !strings.Contains(v, "level=DEBUG") {
		t.Errorf("-v printed no debug line of p2pcam's:\n%s", v)
	}
	for _, bad := range []string{"pion=", "&{", "level=WARN"} {
		if strings.Contains(v, bad) {
			t.Errorf("-v printed %q in a healthy call:\n%s", bad, v)
		}
	}
	if !strings.Contains(vv, "pion=") {
		t.Errorf("-vv printed none of pion's logs:\n%s", vv)
	}
}
