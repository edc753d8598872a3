package main

import (
	"os"
	"path/filepath"
	"runtime/pprof"
)

// profileDir is the directory in which the server processes write CPU
// and heap profiles, or empty for none. The -profile flag sets it, and
// startChild passes it on.
var profileDir string

// startCPUProfile starts a CPU profile named name.cpu.pprof in
// profileDir and returns the function that stops it.
func startCPUProfile(name string) (stop func(), err error) {
	if profileDir == "" {
		return func() {}, nil
	}
	f, err := os.Create(filepath.Join(profileDir, name+".cpu.pprof"))
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }, nil
}

// writeHeapProfile writes the live heap to name.heap.pprof in profileDir.
func writeHeapProfile(name string) error {
	if profileDir == "" {
		return nil
	}
	f, err := os.Create(filepath.Join(profileDir, name+".heap.pprof"))
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.Lookup("heap").WriteTo(f, 0)
}
