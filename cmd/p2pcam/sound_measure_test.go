package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/testutil"
)

// soundMeasured is the part of a --stats line with the sound's --measure
// figures.
type soundMeasured struct {
	Beeps    uint64   `json:"audio_beeps"`
	DelayP50 float64  `json:"audio_delay_ms_p50"`
	DelayMax float64  `json:"audio_delay_ms_max"`
	AVOffset *float64 `json:"av_offset_ms"`
	Latency  float64  `json:"latency_ms_p50"`
	Final    bool     `json:"final"`
}

// measureSound runs a 5 s call, `offer --source test --audio audio`
// into `answer --measure --stats -o call.webm`, and returns the
// answer's final --stats line and the lines before it.
func measureSound(t *testing.T, audio string) (final soundMeasured, lines []soundMeasured) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	offer, answer := call(t, ctx, callSpec{
		offerArgs: append([]string{"offer", "--source", "test", "--audio", audio, "--width", "320", "--height", "240",
			"--duration", "5s"}, loopback...),
		answerArgs: append([]string{"answer", "--measure", "--stats", "stats.jsonl", "-o", "call.webm"}, loopback...),
	})
	waitOK(ctx, offer, answer)
	b, err := os.ReadFile(filepath.Join(answer.cmd.Dir, "stats.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var s soundMeasured
		if err := json.Unmarshal([]byte(l), &s); err != nil {
			t.Fatalf("--stats line %q: %v", l, err)
		}
		lines = append(lines, s)
	}
	final = lines[len(lines)-1]
	if !final.Final {
		t.Fatalf("the last --stats line is not the final one: %+v", final)
	}
	return final, lines[:len(lines)-1]
}

// TestMeasureSound: with the beep for sound, `answer --measure` finds a
// beep a second and puts in its --stats lines the sound's delay from
// capture to decode and its offset from the picture, which on loopback
// are small: delay p50 between 0 and 250 ms, offset within ±150 ms. The
// same call with the beep 300 ms late (`--audio test:late=300ms`) must
// show 300 ms more of both (give or take 60 ms), or the figures do not
// come from the beeps.
func TestMeasureSound(t *testing.T) {
	testutil.NeedFFmpeg(t)
	var figures [2]soundMeasured
	for i, audio := range []string{"test", "test:late=300ms"} {
		f, lines := measureSound(t, audio)
		t.Logf("--audio %s: %d beeps, delay p50 %.1f ms, max %.1f ms, offset %v ms (video latency p50 %.1f ms)",
			audio, f.Beeps, f.DelayP50, f.DelayMax, deref(f.AVOffset), f.Latency)
		if f.Beeps < 3 || f.Beeps > 6 {
			t.Errorf("--audio %s: %d beeps found in a 5 s call; want 3 to 6", audio, f.Beeps)
		}
		if f.AVOffset == nil {
			t.Fatalf("--audio %s: no av_offset_ms on the final --stats line", audio)
		}
		if !slices.ContainsFunc(lines, func(s soundMeasured) bool { return s.Beeps > 0 && s.DelayP50 > 0 && s.AVOffset != nil }) {
			t.Errorf("--audio %s: no --stats line before the last has the sound's figures", audio)
		}
		figures[i] = f
	}
	on, late := figures[0], figures[1]
	if on.DelayP50 <= 0 || on.DelayP50 >= 250 || *on.AVOffset <= -150 || *on.AVOffset >= 150 {
		t.Errorf("beep on time: delay p50 %.1f ms, offset %.1f ms; want 0 < delay < 250, |offset| < 150", on.DelayP50, *on.AVOffset)
	}
	if d := late.DelayP50 - on.DelayP50; d < 240 || d > 360 {
		t.Errorf("a beep 300 ms late adds %.1f ms to the delay (%.1f against %.1f); want about 300", d, late.DelayP50, on.DelayP50)
	}
	if d := *late.AVOffset - *on.AVOffset; d < 240 || d > 360 {
		t.Errorf("a beep 300 ms late adds %.1f ms to the offset (%.1f against %.1f); want about 300", d, *late.AVOffset, *on.AVOffset)
	}
}

// deref is *p for a log line, "none" when p is nil.
func deref(p *float64) any {
	if p == nil {
		return "none"
	}
	return *p
}
