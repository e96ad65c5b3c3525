package view

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine outlives them: every
// goroutine a component starts is joined by the Close that owns it.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
