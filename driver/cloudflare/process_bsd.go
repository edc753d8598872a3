//go:build unix && !linux

package cloudflare

import "syscall"

// setParentDeathSignal does nothing: only Linux has a parent death
// signal.
func setParentDeathSignal(*syscall.SysProcAttr) {}
