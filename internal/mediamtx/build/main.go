// Command build builds mediamtx into the cache internal/mediamtx's tests
// use (see mediamtx.Binary) and prints the binary's path. It is what
// scripts/mediamtx.sh runs, so CI can build the server before the tests
// instead of inside one test's time budget.
package main

import (
	"fmt"
	"os"

	"github.com/p2pcam/p2pcam/internal/mediamtx"
)

func main() {
	bin, err := mediamtx.Binary(os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mediamtx: %v\n", err)
		os.Exit(1)
	}
	fmt.Println(bin)
}
