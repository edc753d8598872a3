//go:build unix

package cloudflare

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts cloudflared in its own process group, so that
// stopping it reaches any process it started. On Linux it also sets a
// parent death signal, so the kernel kills cloudflared if this process
// dies first.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setParentDeathSignal(cmd.SysProcAttr)
}

func terminate(cmd *exec.Cmd) { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }

func forceKill(cmd *exec.Cmd) { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
