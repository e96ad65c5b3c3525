package iostreams

import (
	"bytes"
	"testing"
)

// TestConsoleKeepsLinesOffTheStatusLine checks what reaches the terminal
// when lines and a status line mix: each line clears the status line
// first and redraws it after, whole lines only, and the status line is cut
// to the terminal's width.
func TestConsoleKeepsLinesOffTheStatusLine(t *testing.T) {
	tests := []struct {
		name  string
		cols  int
		steps func(c *Console)
		want  string
	}{
		{"Linef under a status line", 80, func(c *Console) {
			c.SetStatus("0:30 left")
			c.Linef("hello")
		}, "\r\x1b[K0:30 left\r\x1b[Khello\n0:30 left"},
		{"Write in pieces waits for the newline", 80, func(c *Console) {
			c.SetStatus("st")
			_, _ = c.Write([]byte(`{"t":`))
			_, _ = c.Write([]byte("1}\n{\"t\""))
			_, _ = c.Write([]byte(":2}\n"))
		}, "\r\x1b[Kst\r\x1b[K{\"t\":1}\nst\r\x1b[K{\"t\":2}\nst"},
		{"Write with no status line", 80, func(c *Console) {
			_, _ = c.Write([]byte("a\nb"))
			_, _ = c.Write([]byte("\n"))
		}, "a\nb\n"},
		{"a status line wider than the terminal is cut", 10, func(c *Console) {
			c.SetStatus("connected host/udp rtt 1ms")
			c.Linef("x")
		}, "\r\x1b[Kconnecte…\r\x1b[Kx\nconnecte…"},
		{"a status line that fits is whole", 10, func(c *Console) {
			c.SetStatus("123456789")
		}, "\r\x1b[K123456789"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			c := NewConsole(&out, true)
			c.width = func() int { return tt.cols }
			tt.steps(c)
			if got := out.String(); got != tt.want {
				t.Errorf("terminal got\n %q\nwant\n %q", got, tt.want)
			}
		})
	}
}

func TestFit(t *testing.T) {
	for _, tt := range []struct {
		text string
		cols int
		want string
	}{
		{"abc", 0, "abc"},
		{"abc", 4, "abc"},
		{"abcd", 4, "ab…"},
		{"éééééé", 5, "ééé…"},
	} {
		if got := fit(tt.text, tt.cols); got != tt.want {
			t.Errorf("fit(%q, %d) = %q, want %q", tt.text, tt.cols, got, tt.want)
		}
		if n := len([]rune(fit(tt.text, tt.cols))); tt.cols > 0 && n >= tt.cols {
			t.Errorf("fit(%q, %d) is %d columns", tt.text, tt.cols, n)
		}
	}
}
