//go:build unix && !linux

package sshdtest

import "syscall"

func processAttributes() *syscall.SysProcAttr { return nil }
