package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// maxTypo is the edit distance up to which a mistyped name is taken for
// a known one.
const maxTypo = 2

// flagError turns pflag's errors into p2pcam's usage errors: an unknown
// flag gets the nearest known flag as a hint ("did you mean --source?"),
// and a bad value says what the flag takes, e.g. a duration without a
// unit gets "add a unit: 10s".
func flagError(cmd *cobra.Command, err error) error {
	var (
		ne *pflag.NotExistError
		ie *pflag.InvalidValueError
	)
	switch {
	case errors.As(err, &ne):
		return usageError{suggestion{err, suggestFlag(cmd, ne)}}
	case errors.As(err, &ie):
		return usageError{badValue(ie.GetFlag(), ie.GetValue())}
	}
	return usageError{err}
}

// suggestion is an error with advice of its own, printed as the first
// hint; an empty hint adds none.
type suggestion struct {
	err  error
	hint string
}

func (s suggestion) Error() string { return s.err.Error() }
func (s suggestion) Unwrap() error { return s.err }

// rootArgs refuses arguments to bare p2pcam: they are a mistyped command.
func rootArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	return usageError{suggestion{fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath()), suggestCommand(cmd, args[0])}}
}

// suggestFlag names the known flag closest to an unknown one, or "".
// "-source" (one dash) is read by pflag as shorthands: its letters are
// taken as the long name that was meant.
func suggestFlag(cmd *cobra.Command, ne *pflag.NotExistError) string {
	typed := ne.GetSpecifiedName()
	if s := ne.GetSpecifiedShortnames(); s != "" {
		name, _, _ := strings.Cut(s, "=")
		if cmd.Flags().Lookup(name) != nil {
			return fmt.Sprintf("long flags take two dashes: --%s", name)
		}
		typed = name
	}
	typed, _, _ = strings.Cut(typed, "=")
	if other := commandWithFlag(cmd, typed); other != "" {
		return fmt.Sprintf("--%s belongs to %s: %s", typed, other, flagPurpose(typed))
	}
	var names []string
	add := func(f *pflag.Flag) {
		if !f.Hidden {
			names = append(names, f.Name)
		}
	}
	cmd.Flags().VisitAll(add)
	cmd.InheritedFlags().VisitAll(add)
	if near := nearest(typed, names); near != "" {
		return fmt.Sprintf("did you mean --%s?", near)
	}
	return ""
}

// commandWithFlag names the sibling command of cmd (p2pcam offer for
// p2pcam answer) that has the flag name, or "".
func commandWithFlag(cmd *cobra.Command, name string) string {
	if name == "" || !cmd.HasParent() {
		return ""
	}
	for _, c := range cmd.Parent().Commands() {
		if c != cmd && c.IsAvailableCommand() && c.Flags().Lookup(name) != nil {
			return c.CommandPath()
		}
	}
	return ""
}

// flagPurpose says in a few words what the flags that only one command
// has are for, so that the hint tells which command was meant.
func flagPurpose(name string) string {
	switch name {
	case "whip":
		return "it publishes to a media server; to play from one, use p2pcam answer --whep URL"
	case "whep":
		return "it plays from a media server or from p2pcam offer --serve; to publish to one, use p2pcam offer --whip URL"
	case "serve":
		return "it serves the camera to viewers; to watch one, use p2pcam answer --whep URL"
	case "blob-format":
		return "the offer's format decides; an answer goes back in its offer's format"
	}
	return "see its --help"
}

// badValue says what a flag takes, for a value pflag could not parse.
func badValue(f *pflag.Flag, v string) error {
	switch f.Value.Type() {
	case "duration":
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			return fmt.Errorf("bad --%s %q: add a unit: %ss", f.Name, v, v)
		}
		return fmt.Errorf("bad --%s %q: use a duration such as 10s, 1m30s or 2h", f.Name, v)
	case "int", "count":
		return fmt.Errorf("bad --%s %q: use a whole number", f.Name, v)
	case "float64":
		return fmt.Errorf("bad --%s %q: use a number", f.Name, v)
	case "bool":
		return fmt.Errorf("bad --%s=%s: use --%s alone, or --%s=false", f.Name, v, f.Name, f.Name)
	}
	return fmt.Errorf("bad --%s %q", f.Name, v)
}

// sourceWords are the keywords --source takes besides a camera:NAME and a
// .y4m file, in the order help and completion list them.
var sourceWords = []string{"camera", "test", "none"}

// suggestSource names the --source keyword closest to a value that is
// none, or "".
func suggestSource(v string) string {
	kw, _, colon := strings.Cut(v, ":")
	if colon {
		if near := nearest(kw, []string{"camera"}); near != "" {
			return fmt.Sprintf("did you mean --source camera:%s?", v[len(kw)+1:])
		}
		return ""
	}
	if near := nearest(v, sourceWords); near != "" {
		return fmt.Sprintf("did you mean --source %s?", near)
	}
	if strings.HasSuffix(strings.ToLower(v), ".yuv") || strings.Contains(v, ".y4") {
		return "a file source must be a .y4m file"
	}
	return ""
}

// suggestCommand names the subcommand of cmd closest to typed, or "".
func suggestCommand(cmd *cobra.Command, typed string) string {
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	if near := nearest(typed, names); near != "" {
		return fmt.Sprintf("did you mean p2pcam %s?", near)
	}
	return ""
}

// nearest returns the name closest to typed within maxTypo edits (or one
// that typed begins); on a tie, one with typed's first letter (people
// rarely mistype that: --sorce means --source, not --force), then the
// first in names. It returns "" if none is that close.
func nearest(typed string, names []string) string {
	typed = strings.ToLower(typed)
	best, bestD := "", 2*(maxTypo+1)
	for _, n := range names {
		d := editDistance(typed, n)
		if len(typed) >= 3 && strings.HasPrefix(n, typed) {
			d = min(d, 1)
		}
		if d > maxTypo || d >= len(n) {
			continue
		}
		// Twice the distance, plus one for another first letter.
		score := 2 * d
		if typed == "" || n[0] != typed[0] {
			score++
		}
		if score < bestD {
			best, bestD = n, score
		}
	}
	return best
}

// editDistance is the Damerau–Levenshtein (optimal string alignment)
// distance between a and b: insertions, deletions, substitutions and
// swaps of neighbours each count one.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// message is err's text for the error line, with a wrapped file error
// said once: "open source x.y4m: open x.y4m: no such file or directory"
// (or "...: stat x.y4m: ...") becomes "open source x.y4m: no such file or
// directory".
func message(err error) string {
	if m, ok := soundMessage(err); ok {
		return m
	}
	msg := err.Error()
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Err == nil {
		return msg
	}
	inner := pe.Error()
	i := strings.LastIndex(msg, inner)
	if i <= 0 {
		return msg
	}
	outer, tail := msg[:i], pe.Err.Error()
	switch {
	case strings.Contains(outer, pe.Path):
		// "open source x.y4m: stat x.y4m: ..." names the file already.
	case strings.Contains(outer, pe.Op):
		tail = pe.Path + ": " + tail
	default:
		return msg
	}
	return outer + tail + msg[i+len(inner):]
}
