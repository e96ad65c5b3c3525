package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/p2pcam/p2pcam/internal/testutil"
)

// ffmpegTestsrc returns ffmpeg's arguments for secs seconds of 320x240
// testsrc2 at 30 fps in pixfmt, as a Y4M stream to out.
func ffmpegTestsrc(secs, pixfmt, out string) []string {
	return []string{"ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30",
		"-t", secs, "-pix_fmt", pixfmt, "-f", "yuv4mpegpipe", out}
}

// judgeStreamed checks a recording of a whole streamed source: VP8
// 320x240, close to the frames the stream held, and clean to decode.
func judgeStreamed(t *testing.T, path string, frames int) {
	t.Helper()
	got := testutil.Probe(t, path)
	if got.Codec != "vp8" || got.Width != 320 || got.Height != 240 || got.Frames < frames*8/10 || got.Frames > frames {
		t.Fatalf("recording = %s %dx%d %d frames; want vp8 320x240, nearly all of the %d frames streamed", got.Codec, got.Width, got.Height, got.Frames, frames)
	}
	t.Logf("recorded %d of the %d frames streamed", got.Frames, frames)
	testutil.DecodesCleanly(t, path)
}

// TestStdinVideoWithPasteAtTheTerminal is
// `ffmpeg ... -pix_fmt yuv422p -f yuv4mpegpipe - | p2pcam offer --source -`
// run from a terminal: the video comes on stdin, in 4:2:2, and the answer
// blob is pasted at the terminal (/dev/tty). The stream's end ends the call
// cleanly on both sides, with every frame sent and the recording final.
func TestStdinVideoWithPasteAtTheTerminal(t *testing.T) {
	t.Parallel()
	testutil.NeedFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	video, videoIn, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	ff := ffmpegTestsrc("3", "yuv422p", "-")
	src := exec.Command(ff[0], ff[1:]...)
	src.Stdout = videoIn
	if err := src.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.Process.Kill(); _ = src.Wait() })
	videoIn.Close()

	// The offer's controlling terminal is a pseudo-terminal: it is what
	// /dev/tty opens. Stdin is the video, stdout (the blob) a pipe.
	master, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	go func() { _, _ = io.Copy(io.Discard, master) }()
	offer := &proc{t: t, name: "offer", lines: make(chan string, 4), done: make(chan error, 1)}
	offer.cmd = exec.Command(binPath, append([]string{"offer", "--source", "-"}, loopback...)...)
	offer.cmd.Dir = t.TempDir()
	offer.cmd.Stdin = video
	offer.cmd.ExtraFiles = []*os.File{tty}
	offer.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 3}
	offer.cmd.Stderr = writerFunc(func(b []byte) (int, error) {
		offer.mu.Lock()
		defer offer.mu.Unlock()
		return offer.stderr.Write(b)
	})
	out, err := offer.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := offer.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	video.Close()
	tty.Close()
	t.Cleanup(func() {
		_ = offer.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("offer stderr:\n%s", offer.errText())
		}
	})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if l := strings.TrimSpace(sc.Text()); l != "" {
				offer.lines <- l
			}
		}
		offer.done <- offer.cmd.Wait()
	}()
	offerBlob := offer.blob(ctx)

	answer := start(t, ctx, "answer", false, append([]string{"answer", "-o", "stdin.webm"}, loopback...)...)
	answer.paste(offerBlob)
	answerBlob := answer.blob(ctx)
	offer.waitFor(ctx, "paste its answer here")
	// A paste as a terminal delivers it: bracketed, ending with Enter.
	if _, err := master.WriteString("\x1b[200~" + answerBlob + "\x1b[201~\r"); err != nil {
		t.Fatal(err)
	}
	if code := offer.wait(ctx); code != 0 {
		t.Fatalf("offer exited %d\n%s", code, offer.errText())
	}
	if !strings.Contains(offer.errText(), "the source ended; hanging up\n") {
		t.Errorf("offer did not say why it hung up:\n%s", offer.errText())
	}
	if code := answer.wait(ctx); code != 0 || !strings.Contains(answer.errText(), "the video the other side streams came to its end") {
		t.Fatalf("answer exited %d; want 0 after the other side hung up\n%s", code, answer.errText())
	}
	judgeStreamed(t, filepath.Join(answer.cmd.Dir, "stdin.webm"), 90)
}

// TestStdinVideoWithRemoteBlob is
// `ffmpeg ... -pix_fmt yuv420p10le -f yuv4mpegpipe - | p2pcam answer --source - --remote offer.txt`
// with no terminal at all: the answering side sends 10-bit video from
// stdin, and the recording made by the offering side is whole and final
// once the stream ends.
func TestStdinVideoWithRemoteBlob(t *testing.T) {
	t.Parallel()
	testutil.NeedFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	offer := start(t, ctx, "offer", false, append([]string{"offer", "--source", "none", "-o", "back.webm"}, loopback...)...)
	blobFile := offer.blobFile(ctx)
	ff := ffmpegTestsrc("2", "yuv420p10le", "-")
	ff = append(ff[:len(ff)-1], "-strict", "-1", "-")
	answer := startArgv(t, ctx, "ffmpeg | answer", false, []string{"bash", "-c",
		"set -o pipefail; " + strings.Join(ff, " ") + " | '" + binPath + "' answer --source - -o none --remote '" + blobFile + "' " + strings.Join(loopback, " ")})
	offer.paste(answer.blob(ctx))
	waitOK(ctx, answer, offer)
	if !strings.Contains(answer.errText(), "the source ended; hanging up\n") || !strings.Contains(offer.errText(), "the video the other side streams came to its end") {
		t.Errorf("the call did not end with the stream:\nanswer:\n%s\noffer:\n%s", answer.errText(), offer.errText())
	}
	judgeStreamed(t, filepath.Join(offer.cmd.Dir, "back.webm"), 60)
}

// TestNamedPipeSourceEndsTheCall: a named pipe (no .y4m in its name) fed
// 4:4:4 video by ffmpeg streams once; when ffmpeg is done the call ends
// cleanly on both sides and the recording is final.
func TestNamedPipeSourceEndsTheCall(t *testing.T) {
	t.Parallel()
	testutil.NeedFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	fifo := filepath.Join(t.TempDir(), "live")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	ff := ffmpegTestsrc("2", "yuv444p", fifo)
	src := exec.Command(ff[0], ff[1:]...)
	if err := src.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.Process.Kill(); _ = src.Wait() })
	offer, answer := call(t, ctx, callSpec{
		offerArgs:  append([]string{"offer", "--source", fifo}, loopback...),
		answerArgs: append([]string{"answer", "-o", "fifo.webm"}, loopback...),
	})
	waitOK(ctx, offer, answer)
	if !strings.Contains(offer.errText(), "the source ended; hanging up\n") {
		t.Errorf("offer did not say why it hung up:\n%s", offer.errText())
	}
	if !strings.Contains(answer.errText(), "the video the other side streams came to its end") {
		t.Errorf("answer did not hear the hang-up:\n%s", answer.errText())
	}
	judgeStreamed(t, filepath.Join(answer.cmd.Dir, "fifo.webm"), 60)
}

// TestFileSourceErrorsBeforeTheBlob: a .y4m cut short, or video on stdin
// with no terminal for the paste and no --remote, fails at once with one
// line and a hint about the file, never about a camera, and no blob.
func TestFileSourceErrorsBeforeTheBlob(t *testing.T) {
	t.Parallel()
	testutil.NeedFFmpeg(t)
	dir := t.TempDir()
	whole, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=30", "-frames:v", "3",
		"-pix_fmt", "yuv420p", "-f", "yuv4mpegpipe", "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.y4m")
	frame := 64 * 48 * 3 / 2
	if err := os.WriteFile(cut, whole[:len(whole)-frame/2], 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		stdin []byte
		code  int
		want  string
	}{
		{"a .y4m cut after 2.5 frames", []string{"offer", "--source", cut}, nil, 1, "cut short: it ends after 2 whole frames"},
		{"video on stdin, no terminal", []string{"offer", "--source", "-"}, whole, 2, "no terminal to paste the other side's blob into: give it with --remote FILE"},
		{"video and blob both on stdin", []string{"answer", "--source", "-", "--remote", "-"}, whole, 2, "both want stdin"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, binPath, append(tc.args, loopback...)...)
			cmd.Dir = t.TempDir()
			// A session of its own: no controlling terminal.
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
			var stdout, stderr strings.Builder
			cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(string(tc.stdin)), &stdout, &stderr
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")
			if code != tc.code || stdout.Len() != 0 || !strings.HasPrefix(lines[0], "p2pcam: ") || !strings.Contains(lines[0], tc.want) {
				t.Fatalf("exit %d, stdout %q, stderr:\n%s\nwant exit %d, no blob, one line saying %q", code, stdout.String(), stderr.String(), tc.code, tc.want)
			}
			for _, l := range lines[1:] {
				if !strings.HasPrefix(l, "p2pcam: hint: ") {
					t.Errorf("extra stderr line %q", l)
				}
			}
			if strings.Contains(stderr.String(), "camera") {
				t.Errorf("a file source got camera advice:\n%s", stderr.String())
			}
		})
	}
}
