package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// pinProcess restricts every thread of this process to the given CPUs
// and sets GOMAXPROCS to their count. Threads created later inherit the
// mask of the thread that creates them, so the whole process stays on
// those CPUs. With no CPUs it allows every CPU again.
func pinProcess(cpus ...int) error {
	var set unix.CPUSet
	if len(cpus) == 0 {
		for i := range runtime.NumCPU() {
			set.Set(i)
		}
	}
	for _, c := range cpus {
		set.Set(c)
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return fmt.Errorf("list threads: %w", err)
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		// A thread may exit between the listing and this call.
		if err := unix.SchedSetaffinity(tid, &set); err != nil && err != unix.ESRCH {
			return fmt.Errorf("set CPU affinity of thread %d: %w", tid, err)
		}
	}
	runtime.GOMAXPROCS(set.Count())
	return nil
}

// childAttributes makes the kernel kill a child server if this process
// dies, so that no server outlives the run.
func childAttributes() *unix.SysProcAttr {
	return &unix.SysProcAttr{Pdeathsig: unix.SIGKILL}
}
