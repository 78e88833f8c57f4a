//go:build !unix

package runner

import "os/exec"

// setProcessGroup is a no-op where process groups are not available.
func setProcessGroup(*exec.Cmd) {}

// killProcessGroup is a no-op where process groups are not available; the
// caller kills the process itself.
func killProcessGroup(*exec.Cmd) {}
