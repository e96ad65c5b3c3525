package main

import (
	"strings"
	"testing"
)

// vt is the part of a terminal emulator needed to see what a person sees
// after p2pcam wrote to their terminal: printable text with autowrap at
// the width, carriage return, line feed, backspace and erase to the end of
// the line (ESC[K). Other escape sequences (bracketed paste mode, OSC 52)
// print nothing and are skipped.
type vt struct {
	cols    int
	rows    [][]rune
	wrapped []bool // the row continues the one above it (autowrap)
	r, c    int
}

func newVT(cols int) *vt { return &vt{cols: cols, rows: [][]rune{nil}, wrapped: []bool{false}} }

// render returns the lines the terminal shows after out: rows joined where
// text wrapped at the width, trailing spaces trimmed, trailing empty lines
// dropped.
func render(cols int, out string) []string {
	v := newVT(cols)
	v.write(out)
	return v.lines()
}

func (v *vt) write(s string) {
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		switch ch := rs[i]; {
		case ch == 0x1b && i+1 < len(rs) && rs[i+1] == '[':
			j := i + 2
			for j < len(rs) && (rs[j] < 0x40 || rs[j] > 0x7e) {
				j++
			}
			if j < len(rs) && rs[j] == 'K' && (j == i+2 || string(rs[i+2:j]) == "0") {
				row := v.row()
				if v.c < len(row) {
					v.rows[v.r] = row[:v.c]
				}
			}
			i = j
		case ch == 0x1b && i+1 < len(rs) && rs[i+1] == ']':
			j := i + 2
			for j < len(rs) && rs[j] != 0x07 && !(rs[j] == 0x1b && j+1 < len(rs) && rs[j+1] == '\\') {
				j++
			}
			if j < len(rs) && rs[j] == 0x1b {
				j++
			}
			i = j
		case ch == 0x1b:
			i++
		case ch == '\r':
			v.c = 0
		case ch == '\n':
			v.down()
		case ch == '\b':
			v.c = max(v.c-1, 0)
		case ch < 0x20:
		default:
			if v.c >= v.cols {
				v.down()
				v.wrapped[v.r] = true
				v.c = 0
			}
			row := v.row()
			for len(row) <= v.c {
				row = append(row, ' ')
			}
			row[v.c] = ch
			v.rows[v.r] = row
			v.c++
		}
	}
}

func (v *vt) row() []rune { return v.rows[v.r] }

func (v *vt) down() {
	v.r++
	for len(v.rows) <= v.r {
		v.rows = append(v.rows, nil)
		v.wrapped = append(v.wrapped, false)
	}
}

func (v *vt) lines() []string {
	var out []string
	for i, r := range v.rows {
		if v.wrapped[i] && len(out) > 0 {
			out[len(out)-1] += string(r)
			continue
		}
		out = append(out, string(r))
	}
	for i := range out {
		out[i] = strings.TrimRight(out[i], " ")
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

func TestVT(t *testing.T) {
	tests := []struct {
		name string
		cols int
		out  string
		want []string
	}{
		{"lines", 80, "one\r\ntwo\r\n", []string{"one", "two"}},
		{"status rewritten in place", 80, "a\r\n0:30 left\r\x1b[K0:29 left\r\x1b[Kb\r\n0:29 left", []string{"a", "b", "0:29 left"}},
		{"text glued onto a status line", 80, "0:30 left{\"t\":1}\r\n", []string{"0:30 left{\"t\":1}"}},
		{"a wrapped status line leaves its first row", 10, "abcdefghijkl\r\x1b[Kxy", []string{"abcdefghijxy"}},
		{"wrapped text is one line", 4, "abcdefgh\r\nij\r\n", []string{"abcdefgh", "ij"}},
		{"escapes print nothing", 80, "\x1b[?2004h\x1b]52;c;YWJj\x07ok\x1b[?2004l\r\n", []string{"ok"}},
		{"non-ASCII is one column", 4, "éééé\r\n", []string{"éééé"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(tt.cols, tt.out)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("render(%q)\n got %q\nwant %q", tt.out, got, tt.want)
			}
		})
	}
}
