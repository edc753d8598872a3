package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/tether-go/tether/listener"
	"github.com/tether-go/tether/waiter"
)

// callbackPath is the path both servers take callbacks on.
const callbackPath = "/callback"

// appendCallback appends a JSON callback body of about 600 bytes for id,
// carrying sentAt (Unix nanoseconds) so that the waiter can compute the
// callback-to-wake latency.
func appendCallback(buf []byte, id string, sentAt int64) []byte {
	buf = append(buf, `{"task_id":"`...)
	buf = append(buf, id...)
	buf = append(buf, `","status":"completed","sent_at":"`...)
	buf = strconv.AppendInt(buf, sentAt, 10)
	buf = append(buf, `","created_at":"2026-12-04T15:50:00Z",`+
		`"model":{"name":"image-gen","version":"2.1.0","parameters":{"steps":30,"guidance":7.5,"seed":1318183058574413864,"sampler":"euler-a","negative_prompt":"blurry, low quality, watermark"}},`+
		`"usage":{"gpu_seconds":12.84,"queue_seconds":0.73,"tokens":77},`+
		`"output":{"url":"https://cdn.example.test/results/4f9c2a7e-8d1b-4c3e-9a6f-2b7d5e8c1a90/image.png",`+
		`"width":1024,"height":768,"file_size":348211,"format":"png","nsfw":false,`+
		`"thumbnails":["https://cdn.example.test/t/256.png","https://cdn.example.test/t/512.png"]}}`...)
	return buf
}

// tetherCallbackConfig is the http-callback listener under test: the id,
// the status and a two-field result, read from the body by templates.
func tetherCallbackConfig() listener.CallbackConfig {
	return listener.CallbackConfig{
		Host: "127.0.0.1",
		Callbacks: []listener.Callback{{
			Path:        callbackPath,
			IdentifyBy:  "${body.task_id}",
			Status:      "${body.status}",
			SuccessWhen: []string{"completed"},
			FailWhen:    []string{"failed"},
			Result: map[string]any{
				"url":     "${body.output.url}",
				"sent_at": "${body.sent_at}",
			},
		}},
	}
}

// startTether starts tether's callback listener on a loopback port,
// delivering to w.
func startTether(w waiter.Waiter) (*listener.CallbackListener, string, error) {
	l, err := listener.NewCallback(tetherCallbackConfig(), w, nil)
	if err != nil {
		return nil, "", fmt.Errorf("create listener: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	if err := l.StartOn(ln); err != nil {
		return nil, "", fmt.Errorf("start listener: %w", err)
	}
	return l, ln.Addr().String(), nil
}

// startFloor serves f on a loopback port with the same timeouts that
// tether's own server sets.
func startFloor(f *floor) (*http.Server, string, error) {
	mux := http.NewServeMux()
	mux.Handle("POST "+callbackPath, f)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	go func() { _ = srv.Serve(ln) }()
	return srv, ln.Addr().String(), nil
}

func shutdown(s interface{ Shutdown(context.Context) error }) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.Shutdown(ctx)
}
