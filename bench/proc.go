package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// child is a server process started by running this binary again with
// -child. It writes "ready ADDR" on its standard output once it listens,
// and one JSON line with its measurements when it is done, which is when
// its standard input is closed or, for some roles, when its own work
// ends.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines *bufio.Scanner
	addr  string
}

// startChild runs this binary as a child in role with args and waits for
// its "ready" line.
func startChild(role string, args ...string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable: %w", err)
	}
	args = append([]string{"-child", role, "-profile", profileDir}, args...)
	cmd := exec.Command(exe, args...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = childAttributes()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start child %s: %w", role, err)
	}

	c := &child{cmd: cmd, stdin: stdin, lines: bufio.NewScanner(stdout)}
	c.lines.Buffer(make([]byte, 64<<10), 16<<20)
	if !c.lines.Scan() {
		c.kill()
		return nil, fmt.Errorf("start child %s: exited before it was ready", role)
	}
	addr, ok := strings.CutPrefix(c.lines.Text(), "ready ")
	if !ok {
		c.kill()
		return nil, fmt.Errorf("start child %s: unexpected first line %q", role, c.lines.Text())
	}
	c.addr = addr
	return c, nil
}

// finish closes the child's standard input, decodes its JSON line into
// v and waits for it to exit. It kills the child after timeout.
func (c *child) finish(v any, timeout time.Duration) error {
	_ = c.stdin.Close()
	timer := time.AfterFunc(timeout, c.kill)
	defer timer.Stop()
	var err error
	if c.lines.Scan() {
		err = json.Unmarshal(c.lines.Bytes(), v)
	} else {
		err = errors.New("child exited without a result")
	}
	if werr := c.cmd.Wait(); werr != nil && err == nil {
		err = fmt.Errorf("wait for child: %w", werr)
	}
	return err
}

func (c *child) kill() { _ = c.cmd.Process.Kill() }

// childIO is the child's side of the protocol.
type childIO struct{}

func (childIO) ready(addr string) { fmt.Printf("ready %s\n", addr) }

func (childIO) result(v any) {
	b, _ := json.Marshal(v)
	fmt.Printf("%s\n", b)
}

// waitForStdinClose blocks until the parent closes the child's standard
// input.
func waitForStdinClose() { _, _ = io.Copy(io.Discard, os.Stdin) }

// memoryStatus returns VmRSS and VmHWM (peak RSS) of this process in
// KiB, from /proc/self/status.
func memoryStatus() (rssKiB, peakKiB int64) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	for line := range bytes.Lines(data) {
		fields := strings.Fields(string(line))
		if len(fields) < 2 {
			continue
		}
		n, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "VmRSS:":
			rssKiB = n
		case "VmHWM:":
			peakKiB = n
		}
	}
	return rssKiB, peakKiB
}
