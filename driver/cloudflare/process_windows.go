package cloudflare

import "os/exec"

// NOTE: on Windows, Close kills cloudflared itself but not processes it
// started, because there is no process group here.
func setProcessGroup(*exec.Cmd) {}

func terminate(cmd *exec.Cmd) { _ = cmd.Process.Kill() }

func forceKill(cmd *exec.Cmd) { _ = cmd.Process.Kill() }
