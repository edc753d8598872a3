package sshdtest

import "syscall"

// processAttributes makes the kernel kill sshd if the test process dies.
func processAttributes() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
