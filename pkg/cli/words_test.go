package cli

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestPipelineSpeaksNoProductWords: the packages below the command line
// return typed errors and events; only pkg/cli (and the copy-paste
// exchange, which talks to the person) may name a flag or a command. This
// reads the string literals of their non-test files.
func TestPipelineSpeaksNoProductWords(t *testing.T) {
	var words []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.HasParent() {
			words = append(words, c.CommandPath())
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) { words = append(words, "--"+f.Name) })
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(&env{verbosity: new(int)}))
	for _, dir := range []string{"../session", "../capture", "../peer", "../record", "../measure", "../serve", "../../signal/whip"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", dir, err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, _ := strconv.Unquote(lit.Value)
				for _, w := range words {
					if containsWord(s, w) {
						t.Errorf("%s: %q names %s: return a typed error or event, and let pkg/cli word it", path, s, w)
					}
				}
				return true
			})
		}
	}
}

// containsWord reports whether w stands in s as a whole word.
func containsWord(s, w string) bool {
	for i := strings.Index(s, w); i >= 0; {
		end := i + len(w)
		if end == len(s) || !isWordChar(s[end]) {
			return true
		}
		j := strings.Index(s[end:], w)
		if j < 0 {
			return false
		}
		i = end + j
	}
	return false
}

func isWordChar(c byte) bool {
	return c == '-' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
