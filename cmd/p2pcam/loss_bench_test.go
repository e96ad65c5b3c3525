package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/testutil"
)

// TestLossFigures is the figure "sound under random loss": a call between
// two network namespaces (offer --source test with sound → answer --stats
// -o x.webm), where nftables drops a share of the packets arriving at the
// answering side once the call is up, with Opus's in-band FEC on (as
// p2pcam sends) and off (P2PCAM_OPUS_FEC=off, a test knob). It reads the
// sound lost, recovered from FEC and concealed from the answer's final
// --stats line, scales them to a minute under loss, and checks the
// recording's sound lasts as long as the call. Two sounds: the test beep
// (100 ms a second; libopus codes FEC only for speech-like frames, so the
// silence between beeps is concealed either way) and a voiced,
// speech-like tone that never pauses.
//
// It runs only with P2PCAM_LOSS_FIGURES=1 (make bench-loss), as root;
// P2PCAM_LOSS_SECONDS sets each call's time under loss (default 60).
// Nothing is asserted about the figures: they are logged as one table.
func TestLossFigures(t *testing.T) {
	if os.Getenv("P2PCAM_LOSS_FIGURES") != "1" {
		t.Skip("a figure: set P2PCAM_LOSS_FIGURES=1 (make bench-loss)")
	}
	testutil.NeedFFmpeg(t)
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("needs nft (apt-get install -y nftables)")
	}
	seconds := 60
	if s := os.Getenv("P2PCAM_LOSS_SECONDS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 5 {
			t.Fatalf("P2PCAM_LOSS_SECONDS=%q: want a whole number of seconds, 5 or more", s)
		}
		seconds = v
	}
	voice := filepath.Join(t.TempDir(), "voice.wav")
	// A 140 Hz voice whose pitch wanders, with four harmonics and a
	// syllable rhythm (4 Hz), that never falls silent.
	if out, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i",
		"aevalsrc='(0.3*sin(2*PI*(140+20*sin(2*PI*0.7*t))*t)+0.15*sin(4*PI*(140+20*sin(2*PI*0.7*t))*t)+0.1*sin(6*PI*(140+20*sin(2*PI*0.7*t))*t)+0.05*sin(8*PI*(140+20*sin(2*PI*0.7*t))*t))*(0.6+0.4*sin(2*PI*4*t))':s=48000:d=10",
		"-ac", "1", "-c:a", "pcm_s16le", voice).CombinedOutput(); err != nil {
		t.Fatalf("making the voice: %v\n%s", err, out)
	}
	type row struct {
		sound, fec     string
		loss           int
		recv, lost     uint64
		fecMs, concMs  float64
		underLoss      time.Duration
		recorded, call float64 // seconds of sound in the file, of the call
		dropped        string  // the nft rule's counter
	}
	var rows []*row
	for _, sound := range []string{"test", "voice"} {
		for _, loss := range []int{0, 5, 15} {
			for _, fec := range []string{"on", "off"} {
				r := &row{sound: sound, fec: fec, loss: loss}
				rows = append(rows, r)
				t.Run(fmt.Sprintf("%s/%d%%/fec-%s", sound, loss, fec), func(t *testing.T) {
					t.Parallel()
					audio := "test"
					if sound == "voice" {
						audio = voice
					}
					lossCall(t, audio, loss, fec == "off", seconds, func(recv, lost uint64, fecMs, concMs float64, under time.Duration, recorded, call float64, dropped string) {
						r.recv, r.lost, r.fecMs, r.concMs, r.underLoss, r.recorded, r.call, r.dropped = recv, lost, fecMs, concMs, under, recorded, call, dropped
					})
				})
			}
		}
	}
	t.Cleanup(func() {
		var b strings.Builder
		fmt.Fprintf(&b, "sound under random loss at the answering side, %d s each, load %s\n", seconds, loadavg())
		fmt.Fprintf(&b, "| sound | loss | FEC | packets recv | lost | lost ms/min | FEC-recovered ms/min | concealed ms/min | sound in file / call (s) |\n")
		fmt.Fprintf(&b, "|---|---|---|---|---|---|---|---|---|\n")
		for _, r := range rows {
			if r.underLoss == 0 {
				fmt.Fprintf(&b, "| %s | %d%% | %s | (not run, or failed) |||||\n", r.sound, r.loss, r.fec)
				continue
			}
			perMin := float64(time.Minute) / float64(r.underLoss)
			fmt.Fprintf(&b, "| %s | %d%% | %s | %d | %d (%.1f%%) | %.0f | %.0f | %.0f | %.1f / %.1f |\n",
				r.sound, r.loss, r.fec, r.recv, r.lost, 100*float64(r.lost)/float64(max(r.recv+r.lost, 1)),
				float64(r.lost)*20*perMin, r.fecMs*perMin, r.concMs*perMin, r.recorded, r.call)
		}
		t.Log("\n" + b.String())
	})
}

// lossCall runs one call of TestLossFigures and hands its figures to done.
func lossCall(t *testing.T, audio string, loss int, noFEC bool, seconds int,
	done func(recv, lost uint64, fecMs, concMs float64, under time.Duration, recorded, call float64, dropped string)) {
	n := newNetPair(t)
	// The table is made now; the rule drops nothing until the call is up.
	nft := func(script string) {
		t.Helper()
		cmd := exec.Command("ip", "netns", "exec", n.b, "nft", "-f", "-")
		cmd.Stdin = strings.NewReader(script)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("nft: %v\n%s", err, out)
		}
	}
	nft("table inet p2pcamloss {\n\tchain in {\n\t\ttype filter hook input priority 0; policy accept;\n\t}\n}\n")
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(seconds)*time.Second+90*time.Second)
	defer cancel()
	dir := t.TempDir()
	stats, rec := filepath.Join(dir, "answer.jsonl"), filepath.Join(dir, "loss.webm")
	offerIn := n.in(n.a)
	if noFEC {
		offerIn = func(argv []string) []string {
			return append([]string{"ip", "netns", "exec", n.a, "env", "P2PCAM_OPUS_FEC=off"}, argv...)
		}
	}
	offer, answer := call(t, ctx, callSpec{
		offerArgs: []string{"offer", "--source", "test", "--width", "320", "--height", "240", "--audio", audio,
			"--duration", fmt.Sprintf("%ds", seconds+4), "--ice-server", "none", "--interface", n.devA},
		answerArgs: []string{"answer", "-o", rec, "--ice-server", "none", "--interface", n.devB, "--stats", stats},
		offerIn:    offerIn, answerIn: n.in(n.b),
	})
	waitConnected(ctx, answer)
	// Loss from a second after connecting until shortly before the end,
	// so that the hang-up is not lost.
	time.Sleep(time.Second)
	nft(fmt.Sprintf("add rule inet p2pcamloss in iifname %q udp length > 0 numgen random mod 100 < %d counter drop\n", n.devB, loss))
	from := time.Now()
	time.Sleep(time.Duration(seconds) * time.Second)
	counter, _ := exec.Command("ip", "netns", "exec", n.b, "nft", "list", "chain", "inet", "p2pcamloss", "in").Output()
	nft("flush chain inet p2pcamloss in\n")
	under := time.Since(from)
	waitOK(ctx, offer, answer)

	b, err := os.ReadFile(stats)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var final struct {
		T         float64 `json:"t"`
		Recv      uint64  `json:"audio_packets_recv"`
		Lost      uint64  `json:"audio_packets_lost"`
		FECMs     float64 `json:"audio_fec_ms"`
		Concealed float64 `json:"audio_concealed_ms"`
		Final     bool    `json:"final"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &final); err != nil || !final.Final {
		t.Fatalf("last stats line %q (%v): want the final one", lines[len(lines)-1], err)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "format=duration", "-of", "csv=p=0", rec).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", rec, err)
	}
	recorded, _ := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	dropped := ""
	if i := strings.Index(string(counter), "counter packets "); i >= 0 {
		dropped = strings.Fields(string(counter)[i+len("counter packets "):])[0]
	}
	t.Logf("final line %s; %s packets dropped by the rule (all kinds); sound in the file %.1f s", lines[len(lines)-1], dropped, recorded)
	done(final.Recv, final.Lost, final.FECMs, final.Concealed, under, recorded, final.T, dropped)
}

// TestSoundCPUFigures is the figure "what sound costs the sender": a 20 s
// call (offer --source test → answer on loopback) with --audio test and
// with --audio none, twice each, then one of sound alone (--source none),
// and the CPU time (user + system) each offering
// process used, from the kernel's accounting of the finished process.
// It runs only with P2PCAM_SOUND_CPU=1 (make bench-sound-cpu) and logs
// one table; nothing is asserted.
func TestSoundCPUFigures(t *testing.T) {
	if os.Getenv("P2PCAM_SOUND_CPU") != "1" {
		t.Skip("a figure: set P2PCAM_SOUND_CPU=1")
	}
	const seconds = 20
	type result struct {
		source, audio string
		user, sys     time.Duration
		load          string
	}
	var rows []result
	for _, c := range [][2]string{{"test", "none"}, {"test", "test"}, {"test", "none"}, {"test", "test"}, {"none", "test"}} {
		source, audio := c[0], c[1]
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		offer, answer := call(t, ctx, callSpec{
			offerArgs:  append([]string{"offer", "--source", source, "--audio", audio, "--duration", fmt.Sprintf("%ds", seconds)}, loopback...),
			answerArgs: append([]string{"answer", "-o", "cpu.webm"}, loopback...),
		})
		waitOK(ctx, offer, answer)
		cancel()
		st := offer.cmd.ProcessState
		rows = append(rows, result{source, audio, st.UserTime(), st.SystemTime(), loadavg()})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "sender CPU over a %d s call (offer, 640x480 default), video with and without sound twice, then sound alone\n", seconds)
	fmt.Fprintf(&b, "| --source | --audio | user s | system s | CPU %% of one core | load after |\n|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %.2f | %.2f | %.1f | %s |\n", r.source, r.audio, r.user.Seconds(), r.sys.Seconds(),
			100*(r.user+r.sys).Seconds()/seconds, r.load)
	}
	t.Log("\n" + b.String())
}
