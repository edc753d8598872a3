package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tether-go/tether/driver"
	sshdriver "github.com/tether-go/tether/driver/ssh"
	"github.com/tether-go/tether/internal/sshdtest"
)

// sshBigSize is the response size of the throughput measurement.
const sshBigSize = 32 << 20

// runSSH is scenario 6: HTTP through tether's SSH gateway and through
// OpenSSH's "ssh -R", both to the same loopback sshd and the same local
// HTTP server.
func runSSH(cfg config, t *table) (err error) {
	if _, err := exec.LookPath("ssh"); err != nil {
		return errors.New("ssh client not found on PATH; install openssh-client")
	}
	tb := &harnessTB{}
	defer tb.cleanup()
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(harnessFailure)
			if !ok {
				panic(r)
			}
			err = errors.New(string(f))
		}
	}()
	sshd := sshdtest.Start(tb, nil)

	local, err := startPayloadServer()
	if err != nil {
		return err
	}
	defer local.Close()
	localPort := local.Addr().(*net.TCPAddr).Port

	session, err := sshdriver.New(nil).Open(context.Background(), driver.Config{Settings: map[string]any{
		"connection": map[string]any{
			"host": sshd.Host,
			"port": sshd.Port,
			"auth": map[string]any{"type": "keyfile", "username": sshd.User, "keyfile": sshd.ClientKeyFile},
		},
		"known_hosts": sshd.KnownHostsFile,
	}})
	if err != nil {
		return fmt.Errorf("open tether ssh session: %w", err)
	}
	defer session.Close()
	tetherPort := sshdtest.FreePort(tb)
	if _, err := session.Forward(context.Background(), driver.Forward{
		LocalPort: localPort, RemoteHost: "127.0.0.1", RemotePort: tetherPort,
	}); err != nil {
		return fmt.Errorf("open tether forward: %w", err)
	}

	// OpenSSH's client prefers chacha20-poly1305 and x/crypto/ssh
	// prefers aes128-gcm, so OpenSSH runs twice: with its default and
	// with tether's cipher.
	opensshPort := sshdtest.FreePort(tb)
	stop, err := startOpenSSH(sshd, opensshPort, localPort)
	if err != nil {
		return err
	}
	defer stop()
	gcmPort := sshdtest.FreePort(tb)
	stopGCM, err := startOpenSSH(sshd, gcmPort, localPort, "-c", "aes128-gcm@openssh.com")
	if err != nil {
		return err
	}
	defer stopGCM()

	requests, rounds := 500, 5
	if cfg.quick {
		requests, rounds = 100, 1
	}
	var lat, thr [3][]float64 // tether, OpenSSH, OpenSSH with aes128-gcm
	for range rounds {
		for i, port := range []int{tetherPort, opensshPort, gcmPort} {
			p50, err := measureLatency(port, requests)
			if err != nil {
				return err
			}
			mibps, err := measureThroughput(port)
			if err != nil {
				return err
			}
			lat[i] = append(lat[i], ms(p50))
			thr[i] = append(thr[i], mibps)
		}
	}
	t.compare("6 ssh", "throughput, 32 MiB response", "MiB/s", median(thr[0]), median(thr[1]), ratioAtLeast, 0.8)
	t.compare("6 ssh", "p50 round trip, 100-byte response", "ms", median(lat[0]), median(lat[1]), ratioAtMost, 1.2)
	t.compare("6 ssh", "throughput, both aes128-gcm", "MiB/s", median(thr[0]), median(thr[2]), ratioAtLeast, 0.8)
	t.compare("6 ssh", "p50 round trip, both aes128-gcm", "ms", median(lat[0]), median(lat[2]), ratioAtMost, 1.2)
	t.note("ssh: the floor column is OpenSSH's ssh -R (%s) against the same loopback sshd, with its default cipher"+
		" (chacha20-poly1305) and then with aes128-gcm, which tether's x/crypto/ssh client prefers;"+
		" %d sequential keep-alive requests and one 32 MiB download per round, median of %s",
		opensshVersion(), requests, countRounds(rounds))
	return nil
}

// startPayloadServer serves /small (100 bytes) and /big (sshBigSize
// bytes) on a loopback port.
func startPayloadServer() (net.Listener, error) {
	small := bytes.Repeat([]byte("s"), 100)
	big := bytes.Repeat([]byte("b"), sshBigSize)
	mux := http.NewServeMux()
	mux.HandleFunc("/small", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(small) })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(big) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() { _ = http.Serve(ln, mux) }()
	return ln, nil
}

// startOpenSSH runs "ssh -N -R" binding remotePort on sshd's loopback
// to localPort, and waits until the forward carries a request.
func startOpenSSH(sshd *sshdtest.Server, remotePort, localPort int, extra ...string) (stop func(), err error) {
	args := append([]string{"-N", "-F", "/dev/null"}, extra...)
	cmd := exec.Command("ssh", append(args,
		"-o", "BatchMode=yes",
		"-o", "IdentitiesOnly=yes",
		"-o", "StrictHostKeyChecking=yes",
		"-o", "UserKnownHostsFile="+sshd.KnownHostsFile,
		"-o", "ExitOnForwardFailure=yes",
		"-i", sshd.ClientKeyFile,
		"-p", strconv.Itoa(sshd.Port),
		"-R", fmt.Sprintf("127.0.0.1:%d:127.0.0.1:%d", remotePort, localPort),
		sshd.User+"@"+sshd.Host)...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = childAttributes()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start ssh: %w", err)
	}
	stop = func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := measureLatency(remotePort, 1); err == nil {
			return stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("ssh -R forward on port %d not working after 10s", remotePort)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// opensshVersion returns the first line of "ssh -V", such as
// "OpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL 3.0.19 27 Jan 2026".
func opensshVersion() string {
	out, _ := exec.Command("ssh", "-V").CombinedOutput()
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line)
}

// measureLatency sends n sequential GETs of /small on one keep-alive
// connection and returns the median round trip.
func measureLatency(port, n int) (time.Duration, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}, Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	url := fmt.Sprintf("http://127.0.0.1:%d/small", port)
	lat := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		resp, err := client.Get(url)
		if err != nil {
			return 0, err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			return 0, err
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	return percentile(lat, 50), nil
}

// measureThroughput downloads /big once and returns MiB/s.
func measureThroughput(port int) (float64, error) {
	client := &http.Client{Timeout: 60 * time.Second}
	defer client.CloseIdleConnections()
	start := time.Now()
	resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/big", port))
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if err != nil || n != sshBigSize {
		return 0, fmt.Errorf("read %d of %d bytes through port %d: %v", n, sshBigSize, port, err)
	}
	return float64(n) / (1 << 20) / time.Since(start).Seconds(), nil
}

// harnessTB lets the harness use sshdtest, which reports through a
// testing.TB, outside a test. Only the methods sshdtest calls are
// implemented; the embedded nil TB makes any other call panic, which a
// change to sshdtest would show at once.
type harnessTB struct {
	testing.TB
	cleanups []func()
}

// harnessFailure is the panic value of Fatal and Skip, recovered by
// runSSH.
type harnessFailure string

func (tb *harnessTB) Helper()                   {}
func (tb *harnessTB) Cleanup(f func())          { tb.cleanups = append(tb.cleanups, f) }
func (tb *harnessTB) Fatal(args ...any)         { panic(harnessFailure(fmt.Sprint(args...))) }
func (tb *harnessTB) Fatalf(f string, a ...any) { panic(harnessFailure(fmt.Sprintf(f, a...))) }
func (tb *harnessTB) Skip(args ...any)          { panic(harnessFailure(fmt.Sprint(args...))) }
func (tb *harnessTB) Errorf(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }
func (tb *harnessTB) Logf(f string, a ...any)   { fmt.Fprintf(os.Stderr, f+"\n", a...) }

func (tb *harnessTB) TempDir() string {
	dir, err := os.MkdirTemp("", "tether-bench-")
	if err != nil {
		tb.Fatalf("create temporary directory: %v", err)
	}
	tb.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

func (tb *harnessTB) cleanup() {
	for _, f := range slices.Backward(tb.cleanups) {
		f()
	}
}
