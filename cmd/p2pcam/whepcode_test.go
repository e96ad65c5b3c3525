package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNoVerificationCodeOverWHEP: a --whep viewer connects without
// printing a verification code (nothing on the server's side shows one
// to compare), while it still says how it connected.
func TestNoVerificationCodeOverWHEP(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv, _, whep := served(t, ctx, "--width", "320", "--height", "240")
	v := start(t, ctx, "viewer", false, append([]string{"answer", "--whep", whep, "-o", filepath.Join(t.TempDir(), "v.webm"), "--duration", "1s"}, loopback...)...)
	if code := v.wait(ctx); code != 0 {
		t.Fatalf("viewer exited %d\n%s", code, v.errText())
	}
	if text := v.errText(); !strings.Contains(text, "connected over ") || strings.Contains(text, "verification code") {
		t.Errorf("viewer's stderr: want how it connected and no verification code:\n%s", text)
	}
	if strings.Contains(srv.errText(), "verification code") {
		t.Errorf("--serve printed a verification code:\n%s", srv.errText())
	}
}
