//go:build !linux

package main

import (
	"errors"
	"syscall"
)

func pinProcess(cpus ...int) error {
	return errors.New("pin to CPUs: supported on Linux only")
}

func childAttributes() *syscall.SysProcAttr { return nil }
