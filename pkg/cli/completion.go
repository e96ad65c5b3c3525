package cli

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// addCompletions registers the values shell completion offers for the
// flags of offer and answer; cameras lists the camera names for --source.
func addCompletions(cmd *cobra.Command, cameras func() []string) {
	_ = cmd.RegisterFlagCompletionFunc("source", sourceCompletion(cameras))
	_ = cmd.RegisterFlagCompletionFunc("interface", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		ifs, err := net.Interfaces()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var names []string
		for _, ifc := range ifs {
			names = append(names, ifc.Name)
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	})
	if cmd.Flags().Lookup("blob-format") != nil {
		_ = cmd.RegisterFlagCompletionFunc("blob-format", cobra.FixedCompletions([]string{"p2pcam", "pion"}, cobra.ShellCompDirectiveNoFileComp))
	}
}

// sourceCompletion offers what --source takes: the keywords, camera:NAME
// for each camera found (none found: none offered), and .y4m files, named
// pipes and the directories that may hold them.
func sourceCompletion(cameras func() []string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		out := append([]string(nil), sourceWords...)
		for _, name := range cameras() {
			out = append(out, "camera:"+name)
		}
		dirs := false
		matches, _ := filepath.Glob(globEscape(toComplete) + "*")
		for _, m := range matches {
			fi, err := os.Stat(m)
			switch {
			case err != nil:
			case fi.IsDir():
				out = append(out, m+string(filepath.Separator))
				dirs = true
			case strings.EqualFold(filepath.Ext(m), ".y4m"), fi.Mode()&os.ModeNamedPipe != 0:
				out = append(out, m)
			}
		}
		directive := cobra.ShellCompDirectiveNoFileComp
		if dirs {
			directive |= cobra.ShellCompDirectiveNoSpace
		}
		return out, directive
	}
}

// globEscape quotes the characters filepath.Glob treats as a pattern.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// bashCompletion replaces the script of `p2pcam completion bash` with one
// that also works without the bash-completion package. cobra's script
// calls that package's _get_comp_words_by_ref, and without it every Tab
// printed "command not found"; this one falls back to a small function of
// its own that splits the line at blanks only, as the package is asked to
// (not at = and :).
func bashCompletion(root *cobra.Command) {
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		for _, sh := range c.Commands() {
			if sh.Name() != "bash" {
				continue
			}
			noDesc := sh.Flags().Lookup("no-descriptions")
			sh.Long = strings.Replace(sh.Long, "This script depends on the 'bash-completion' package.\nIf it is not installed already, you can install it via your OS's package manager.",
				"The script works with or without the bash-completion package (apt-get install bash-completion,\nbrew install bash-completion@2); with it, completion also handles quoting fully.", 1)
			sh.RunE = func(cmd *cobra.Command, _ []string) error {
				var buf bytes.Buffer
				if err := root.GenBashCompletionV2(&buf, noDesc == nil || noDesc.Value.String() != "true"); err != nil {
					return err
				}
				script, err := withWordsFallback(buf.String(), root.Name())
				if err != nil {
					return err
				}
				_, err = fmt.Fprint(cmd.OutOrStdout(), script)
				return err
			}
		}
	}
}

// withWordsFallback edits cobra's bash script for name so that it calls
// __NAME_comp_words instead of _get_comp_words_by_ref, and adds that
// function: the package's when it is loaded, else a fallback.
func withWordsFallback(script, name string) (string, error) {
	call := `_get_comp_words_by_ref "$@" cur prev words cword`
	if strings.Count(script, call) != 1 {
		return "", fmt.Errorf("generate bash completion: cobra's script changed: no single %q to replace", call)
	}
	fn := "__" + name + "_comp_words"
	script = strings.Replace(script, call, fn+` "$@"`, 1)
	return script + strings.ReplaceAll(bashWordsFallback, "__NAME_comp_words", fn), nil
}

// bashWordsFallback sets cur, prev, words and cword in its caller (bash
// scoping is dynamic) from the line up to the cursor, split at blanks.
// It is written for bash 3.2 too, as macOS ships it.
const bashWordsFallback = `
__NAME_comp_words()
{
    if declare -F _get_comp_words_by_ref >/dev/null 2>&1; then
        _get_comp_words_by_ref "$@" cur prev words cword
        return
    fi
    local __line="${COMP_LINE:0:COMP_POINT}"
    local -a __ws
    read -r -a __ws <<<"$__line"
    if [[ ${#__ws[@]} -eq 0 || $__line == *[[:space:]] ]]; then
        __ws[${#__ws[@]}]=""
    fi
    words=("${__ws[@]}")
    cword=$((${#__ws[@]} - 1))
    cur="${__ws[cword]}"
    prev=""
    if [[ $cword -gt 0 ]]; then
        prev="${__ws[cword-1]}"
    fi
}
`
