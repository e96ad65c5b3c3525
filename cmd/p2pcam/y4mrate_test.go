package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestY4MPlaysAtItsOwnRate: a 15 fps .y4m file is sent at 15 fps, not
// at the 30 fps default (which played it at double speed), unless --fps
// says otherwise.
func TestY4MPlaysAtItsOwnRate(t *testing.T) {
	clip := filepath.Join(t.TempDir(), "clip15.y4m")
	if out, err := exec.Command("ffmpeg", "-v", "error", "-nostdin", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=15",
		"-frames:v", "15", "-pix_fmt", "yuv420p", clip).CombinedOutput(); err != nil {
		t.Skipf("ffmpeg: %v %s", err, out)
	}
	tests := []struct {
		name     string
		fps      []string
		min, max float64
	}{
		{"the header's rate", nil, 12, 17},
		{"--fps overrides it", []string{"--fps", "25"}, 21, 28},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			stats := filepath.Join(t.TempDir(), "offer.jsonl")
			offerArgs := append([]string{"offer", "--source", clip, "--duration", "3s", "--stats", stats}, tc.fps...)
			offer, answer := call(t, ctx, callSpec{
				offerArgs:  append(offerArgs, loopback...),
				answerArgs: append([]string{"answer", "-o", "call.webm"}, loopback...),
			})
			if code := offer.wait(ctx); code != 0 {
				t.Fatalf("offer exited %d", code)
			}
			answer.wait(ctx)
			b, err := os.ReadFile(stats)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			var final struct {
				FPS   float64 `json:"fps_sent"`
				Final bool    `json:"final"`
			}
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &final); err != nil || !final.Final {
				t.Fatalf("last stats line %q: %v", lines[len(lines)-1], err)
			}
			if final.FPS < tc.min || final.FPS > tc.max {
				t.Errorf("sent %.1f fps; want %g to %g", final.FPS, tc.min, tc.max)
			}
		})
	}
}
