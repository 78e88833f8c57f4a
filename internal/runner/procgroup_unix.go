//go:build unix

package runner

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts the runner in a process group of its own, so that a
// kill also reaches the helper processes it spawned and a Ctrl-C aimed at
// the worker does not reach the runner before the worker shuts it down.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killProcessGroup sends SIGKILL to the runner's process group.
func killProcessGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
