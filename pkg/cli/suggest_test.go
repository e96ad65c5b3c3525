package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"testing"
)

func TestNearest(t *testing.T) {
	flags := []string{"bitrate", "duration", "force", "fps", "output", "source", "stats", "verbose"}
	tests := []struct {
		typed string
		want  string
	}{
		{"sorce", "source"}, // also one edit from force: the first letter decides
		{"soruce", "source"},
		{"Source", "source"},
		{"dur", "duration"},
		{"bitrat", "bitrate"},
		{"fsp", "fps"},
		{"colour", ""},
		{"x", ""}, // one edit from nothing useful
		{"", ""},
	}
	for _, tt := range tests {
		if got := nearest(tt.typed, flags); got != tt.want {
			t.Errorf("nearest(%q) = %q, want %q", tt.typed, got, tt.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "abc", 0}, {"abc", "", 3}, {"sorce", "source", 1},
		{"soruce", "source", 1}, {"kitten", "sitting", 3}, {"é", "e", 1},
	} {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestSuggestSource(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"tset", "did you mean --source test?"},
		{"camrea", "did you mean --source camera?"},
		{"non", "did you mean --source none?"},
		{"cam:video0", "did you mean --source camera:video0?"},
		{"clip.yuv", "a file source must be a .y4m file"},
		{"webcam", ""},
	} {
		if got := suggestSource(tt.in); got != tt.want {
			t.Errorf("suggestSource(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestMessageSaysOpenOnce checks the error line for wrapped file errors.
func TestMessageSaysOpenOnce(t *testing.T) {
	_, statErr := os.Stat("/nonexistent/x")
	_, openErr := os.Open("/nonexistent/x.y4m")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"verb and path said", fmt.Errorf("open source /nonexistent/x.y4m: %w", openErr), "open source /nonexistent/x.y4m: no such file or directory"},
		{"verb said, path not", fmt.Errorf("open --stats file: %w", openErr), "open --stats file: /nonexistent/x.y4m: no such file or directory"},
		{"another verb", fmt.Errorf("recording failed: %w", openErr), "recording failed: open /nonexistent/x.y4m: no such file or directory"},
		{"another operation, path said", fmt.Errorf("open source /nonexistent/x: %w", statErr), "open source /nonexistent/x: no such file or directory"},
		{"another operation, path not said", fmt.Errorf("open thing: %w", statErr), "open thing: stat /nonexistent/x: no such file or directory"},
		{"no file error", errors.New("open sesame: open sesame"), "open sesame: open sesame"},
		{"a bare file error", &fs.PathError{Op: "open", Path: "x", Err: fs.ErrNotExist}, "open x: file does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := message(tt.err); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
