package main

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestHangUpSaysWhy: a side that ends the call tells the other at once
// why (the reason rides in its RTCP BYE), and the other says so, hangs up
// and exits 0. How long the other took is logged, not asserted.
func TestHangUpSaysWhy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		ender     string   // the side that ends the call
		extra     []string // its extra arguments
		signal    syscall.Signal
		enderLine string // what the ending side says
		otherLine string // what the other side says
	}{
		{"answer interrupted", "answer", nil, syscall.SIGINT, "stopping\n", "the other side was interrupted (Ctrl-C); the call is over\n"},
		{"offer terminated", "offer", nil, syscall.SIGTERM, "stopping\n", "the other side was interrupted (Ctrl-C); the call is over\n"},
		{"answer reaches its duration", "answer", []string{"--duration", "2s"}, 0, "2s passed; hanging up\n", "the other side reached its --duration; the call is over\n"},
		{"offer reaches its duration", "offer", []string{"--duration", "2s"}, 0, "2s passed; hanging up\n", "the other side reached its --duration; the call is over\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			offerArgs := append([]string{"offer", "--source", "test", "--width", "320", "--height", "240"}, loopback...)
			answerArgs := append([]string{"answer", "-o", "call.webm"}, loopback...)
			if tc.ender == "offer" {
				offerArgs = append(offerArgs, tc.extra...)
			} else {
				answerArgs = append(answerArgs, tc.extra...)
			}
			offer, answer := call(t, ctx, callSpec{offerArgs: offerArgs, answerArgs: answerArgs})
			answer.waitFor(ctx, "receiving 320x240 video")
			ender, other := answer, offer
			if tc.ender == "offer" {
				ender, other = offer, answer
			}
			if tc.signal != 0 {
				if err := ender.cmd.Process.Signal(tc.signal); err != nil {
					t.Fatal(err)
				}
			}
			if code := ender.wait(ctx); code != 0 || !strings.Contains(ender.errText(), tc.enderLine) {
				t.Fatalf("%s exited %d; want 0 saying %q\n%s", ender.name, code, tc.enderLine, ender.errText())
			}
			at := time.Now()
			code := other.wait(ctx)
			t.Logf("the %s side ended %.3f s after the %s side exited", other.name, time.Since(at).Seconds(), ender.name)
			if code != 0 || !strings.Contains(other.errText(), tc.otherLine) {
				t.Fatalf("%s exited %d; want 0 saying %q\n%s", other.name, code, tc.otherLine, other.errText())
			}
		})
	}
}
