package cli

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/pkg/session"
)

const kept = "0f3a9c5be1d2478a6b0c9e3f5a7d1b2c"

// TestServeToken: --serve's token comes from --serve-token, else from
// $P2PCAM_SERVE_TOKEN, else is left to the server to draw; a weak one is
// a usage error naming where it came from.
func TestServeToken(t *testing.T) {
	tests := []struct {
		name    string
		env     string
		args    []string
		want    string
		wantErr string // in the usage error; "" for none
	}{
		{"random", "", nil, "", ""},
		{"from the environment", kept, nil, kept, ""},
		{"the flag wins", "Zq3_x9-KpL2mVb7TnR4wYe0a", []string{"--serve-token", kept}, kept, ""},
		{"weak flag", "", []string{"--serve-token", "secret"}, "", "bad --serve-token"},
		{"weak environment", "0f3a9c5b", nil, "", "bad $P2PCAM_SERVE_TOKEN"},
		{"without --serve", "", []string{"--serve=", "--serve-token", kept}, "", "--serve-token does nothing with copy-paste"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(serveTokenEnv, tc.env)
			o, fs := parseCallFlags(t, session.Offerer, append([]string{"--serve", ":0", "--source", "test"}, tc.args...))
			r, err := o.run(session.Offerer, fs.Args(), fs.Changed, time.Now())
			if tc.wantErr != "" {
				var u usageError
				if !errors.As(err, &u) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("serveConfig = %v; want a usage error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || r.serve.serve.Token != tc.want {
				t.Fatalf("token %q, %v; want %q", r.serve.serve.Token, err, tc.want)
			}
		})
	}
}

// TestRedactURL: URLs in messages lose their password, their query and
// path elements that look like tokens, and keep the rest.
func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://127.0.0.1:8080/" + kept + "/whep", "http://127.0.0.1:8080/<token>/whep"},
		{"https://media.example.org/cam/whep", "https://media.example.org/cam/whep"},
		{"https://user:pw@media.example.org/cam/whep?token=abc", "https://media.example.org/cam/whep"},
		{"http://h/live/my-camera-in-the-garden/whep", "http://h/live/my-camera-in-the-garden/whep"},
	}
	for _, tc := range tests {
		if got := redactURL(tc.in); got != tc.want {
			t.Errorf("redactURL(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
	err := redactErr(errors.New(`post "http://h/`+kept+`/whep": refused`), urlSecrets("http://h/"+kept+"/whep"))
	if strings.Contains(err.Error(), kept) {
		t.Errorf("redactErr left the token in %q", err)
	}
}

// TestWhepFromEnv: $P2PCAM_WHEP stands for --whep when neither --whep nor
// a blob is given.
func TestWhepFromEnv(t *testing.T) {
	const u = "http://127.0.0.1:8080/" + kept + "/whep"
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"nothing given", nil, u},
		{"--whep wins", []string{"--whep", "http://h/cam/whep"}, "http://h/cam/whep"},
		{"a blob argument", []string{"p2pcam1:x"}, ""},
		{"--remote", []string{"--remote", "offer.txt"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(whepEnv, u)
			o, fs := parseCallFlags(t, session.Answerer, tc.args)
			o.whepFromEnv(fs.Args())
			if o.whep != tc.want {
				t.Fatalf("--whep %q; want %q", o.whep, tc.want)
			}
		})
	}
}
