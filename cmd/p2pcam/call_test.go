package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// callSpec is a call between two p2pcam processes whose blobs the test
// carries across, as a person pasting them would.
type callSpec struct {
	offerArgs, answerArgs []string // p2pcam's arguments on each side

	// offerIn and answerIn, if set, turn a side's command line (binPath
	// first) into the one to run, e.g. inside a network namespace.
	offerIn, answerIn func(argv []string) []string

	// answerToStdout: the answer records to stdout (-o -), so its stdout
	// is kept whole in answer.stdout and its blob is read from stderr.
	answerToStdout bool

	// beforePasteBack, if set, runs after the answer printed its blob and
	// before that blob is pasted into the offer.
	beforePasteBack func(offer, answer *proc, answerBlob string)
}

// call starts both sides, pastes the offer blob into the answer and the
// answer blob back into the offer, and returns the running processes.
func call(t *testing.T, ctx context.Context, spec callSpec) (offer, answer *proc) {
	t.Helper()
	argv := func(args []string, in func([]string) []string) []string {
		argv := append([]string{binPath}, args...)
		if in != nil {
			argv = in(argv)
		}
		return argv
	}
	offer = startArgv(t, ctx, "offer", false, argv(spec.offerArgs, spec.offerIn))
	answer = startArgv(t, ctx, "answer", spec.answerToStdout, argv(spec.answerArgs, spec.answerIn))
	answer.paste(offer.blob(ctx))
	var blob string
	if spec.answerToStdout {
		blob = answer.errBlob(ctx)
	} else {
		blob = answer.blob(ctx)
	}
	if spec.beforePasteBack != nil {
		spec.beforePasteBack(offer, answer, blob)
	}
	offer.paste(blob)
	return offer, answer
}

// waitOK waits for each process to exit and fails the test unless each
// exits 0.
func waitOK(ctx context.Context, procs ...*proc) {
	for _, p := range procs {
		p.t.Helper()
		if code := p.wait(ctx); code != 0 {
			p.t.Fatalf("%s exited %d\n%s", p.name, code, p.errText())
		}
	}
}

// errBlob waits for a blob on stderr: with video on stdout, p2pcam prints
// its blob there, on its own line after the line announcing it.
func (p *proc) errBlob(ctx context.Context) string {
	p.t.Helper()
	p.waitFor(ctx, "answer blob")
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		lines := strings.Split(p.errText(), "\n")
		for i, l := range lines {
			// lines[i+1] is whole once a newline follows it.
			if strings.HasPrefix(l, "answer blob") && i+2 < len(lines) && strings.TrimSpace(lines[i+1]) != "" {
				return strings.TrimSpace(lines[i+1])
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			p.t.Fatalf("%s printed no blob on stderr\n%s", p.name, p.errText())
		}
	}
}
