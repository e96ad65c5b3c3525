package testutil

import (
	"bufio"
	"io"
	"os/exec"
)

// StartLines starts cmd, a server a test runs, with its standard output
// and error joined into one pipe, and calls line, from one goroutine, for
// each line the process writes (lines up to 1 MiB). The channel it
// returns is closed once the process has exited and all its output was
// read; cmd.ProcessState is set by then.
func StartLines(cmd *exec.Cmd, line func(string)) (exited <-chan struct{}, err error) {
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line(sc.Text())
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		pw.Close()
		<-scanned
		close(done)
	}()
	return done, nil
}
