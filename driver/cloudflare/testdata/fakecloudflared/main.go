// Command fakecloudflared stands in for cloudflared in tests. It accepts
// cloudflared's command line, serves /quicktunnel and /ready on the
// --metrics address, and behaves as FAKE_CF_MODE says:
//
//	new      prints the quick tunnel URL in the current console format (default)
//	old      prints it in the logfmt format of releases before 2021
//	metrics  prints no URL; only the metrics endpoint has it (in the
//	         other modes /quicktunnel returns an empty hostname)
//	nourl    prints error lines that mention api.trycloudflare.com, then exits 1
//	hang     prints nothing useful and runs until stopped
//	flood    prints 200 KB of log lines (one of them 20 KB long) on both pipes, then the URL
//	crash    prints the URL, then exits 300 ms later, on the first run only
//	named    prints "Registered tunnel connection" and serves /ready
//	proxy    like new, and also proxies HTTP from a loopback port to the
//	         --url origin; the URL is https://run-N-pPORT.trycloudflare.com
//
// Each run writes its pid to FAKE_CF_DIR/pid-N and its arguments and
// whether TUNNEL_TOKEN was set to FAKE_CF_DIR/args-N, where N counts the
// runs from 1. The URL of run N is https://run-N-fake.trycloudflare.com.
package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	dir := os.Getenv("FAKE_CF_DIR")
	mode := os.Getenv("FAKE_CF_MODE")
	if mode == "" {
		mode = "new"
	}
	run := nextRun(dir)
	host := fmt.Sprintf("run-%d-fake.trycloudflare.com", run)
	if mode == "proxy" {
		port, err := startProxy(flagValue("--url"))
		if err != nil {
			fmt.Fprintf(os.Stderr, "ERR proxy failed: %v\n", err)
			os.Exit(1)
		}
		host = fmt.Sprintf("run-%d-p%d.trycloudflare.com", run, port)
	}
	_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("pid-%d", run)), []byte(strconv.Itoa(os.Getpid())), 0o600)
	_, tokenSet := os.LookupEnv("TUNNEL_TOKEN")
	record := strings.Join(os.Args[1:], " ") + "\ntoken=" + strconv.FormatBool(tokenSet) + "\n"
	_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("args-%d", run)), []byte(record), 0o600)

	metrics := flagValue("--metrics")
	if metrics != "" && mode != "nourl" {
		go serveMetrics(metrics, host, mode)
	}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	ts := time.Now().UTC().Format(time.RFC3339)

	switch mode {
	case "new", "crash", "proxy":
		fmt.Fprintf(os.Stderr, "%s INF Requesting new quick Tunnel on trycloudflare.com...\n", ts)
		box(os.Stderr, ts+" INF ", "https://"+host)
	case "old":
		fmt.Fprintf(os.Stderr, "time=%q level=info msg=\"Requesting new quick Tunnel on trycloudflare.com...\"\n", ts)
		fmt.Fprintf(os.Stderr, "time=%q level=info msg=\"|  https://%s  |\"\n", ts, host)
	case "metrics":
		fmt.Fprintf(os.Stderr, "%s INF Starting metrics server on %s/metrics\n", ts, metrics)
	case "nourl":
		fmt.Fprintf(os.Stderr, "%s ERR Error unmarshaling QuickTunnel response: error code: 1015 url=https://api.trycloudflare.com\n", ts)
		fmt.Fprintf(os.Stderr, "%s ERR failed to request quick Tunnel: Post \"https://api.trycloudflare.com/tunnel\": dial tcp: i/o timeout\n", ts)
		fmt.Fprintf(os.Stdout, "%s INF see https://api.trycloudflare.com for status\n", ts)
		os.Exit(1)
	case "flood":
		flood(ts)
		box(os.Stdout, ts+" INF ", "https://"+host)
	case "named":
		fmt.Fprintf(os.Stderr, "%s INF Starting tunnel tunnelID=6ff42ae2-765d-4adf-8112-31c55c1551ef\n", ts)
		fmt.Fprintf(os.Stderr, "%s INF Registered tunnel connection connIndex=0 connection=x event=0 ip=198.41.200.13 location=ams01 protocol=quic\n", ts)
	}

	if mode == "crash" && run == 1 {
		time.Sleep(300 * time.Millisecond)
		fmt.Fprintf(os.Stderr, "%s ERR simulated crash\n", ts)
		os.Exit(2)
	}
	<-stop
}

func box(f *os.File, prefix, url string) {
	title := "Your quick Tunnel has been created! Visit it at (it may take some time to be reachable):"
	width := len(title) + 4
	fmt.Fprintf(f, "%s+%s+\n", prefix, strings.Repeat("-", width))
	fmt.Fprintf(f, "%s|  %s  |\n", prefix, title)
	fmt.Fprintf(f, "%s|  %s%s  |\n", prefix, url, strings.Repeat(" ", len(title)-len(url)))
	fmt.Fprintf(f, "%s+%s+\n", prefix, strings.Repeat("-", width))
}

func flood(ts string) {
	line := ts + " DBG " + strings.Repeat("x", 200) + "\n"
	for written := 0; written < 100*1024; written += len(line) {
		fmt.Fprint(os.Stdout, line)
		fmt.Fprint(os.Stderr, line)
	}
	fmt.Fprintf(os.Stderr, "%s INF %s\n", ts, strings.Repeat("y", 20*1024))
}

func nextRun(dir string) int {
	for n := 1; ; n++ {
		f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("run-%d", n)), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			_ = f.Close()
			return n
		}
	}
}

func flagValue(name string) string {
	for i, arg := range os.Args {
		if arg == name && i+1 < len(os.Args) {
			return os.Args[i+1]
		}
	}
	return ""
}

func serveMetrics(addr, host, mode string) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ERR metrics listener failed: %v\n", err)
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/quicktunnel", func(w http.ResponseWriter, r *http.Request) {
		// Real cloudflared always serves the hostname here. The fake does
		// so only in metrics mode, so that the other modes test the log.
		if mode != "metrics" {
			fmt.Fprint(w, `{"hostname":""}`)
			return
		}
		fmt.Fprintf(w, `{"hostname":%q}`, host)
	})
	mux.HandleFunc("/ready", func(w http.ResponseWriter, r *http.Request) {
		if mode != "named" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	_ = http.Serve(l, mux)
}

// startProxy serves HTTP on a loopback port and forwards every request to
// origin, as Cloudflare's edge does through a real tunnel.
func startProxy(origin string) (int, error) {
	target, err := url.Parse(origin)
	if err != nil {
		return 0, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	go func() { _ = http.Serve(l, httputil.NewSingleHostReverseProxy(target)) }()
	return l.Addr().(*net.TCPAddr).Port, nil
}
