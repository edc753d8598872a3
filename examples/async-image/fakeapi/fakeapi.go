// Package fakeapi is a stand-in for an asynchronous image API and a
// synchronous image optimizer, served on loopback, so that the
// async-image example runs without an account or internet access.
//
// The image API accepts POST /v1/generate with a JSON body that carries
// callback_url and task_id, replies 202 Accepted with the task id, and
// later posts two callbacks to callback_url: first {"status":
// "processing"}, then {"status": "completed", "output": {...}}. The
// optimizer answers POST /optimize at once.
package fakeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server is the running stand-in. Close stops it and waits for the
// callbacks it is still sending.
type Server struct {
	// ImageURL is the base URL of the image API, such as
	// http://127.0.0.1:40123/v1.
	ImageURL string
	// OptimizerURL is the base URL of the optimizer.
	OptimizerURL string
	// Delay is the time between the 202 response and each callback.
	Delay time.Duration

	srv    *http.Server
	ln     net.Listener
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	client *http.Client
}

// Start serves the stand-in on a free loopback port.
func Start() (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the fake image API: %w", err)
	}
	base := "http://" + ln.Addr().String()
	s := &Server{
		ImageURL:     base + "/v1",
		OptimizerURL: base,
		Delay:        50 * time.Millisecond,
		ln:           ln,
		client:       &http.Client{Timeout: 10 * time.Second},
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/generate", s.generate)
	mux.HandleFunc("POST /optimize", s.optimize)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Close stops the server and the callbacks in flight.
func (s *Server) Close() error {
	s.cancel()
	err := s.srv.Close()
	s.wg.Wait()
	return err
}

type generateRequest struct {
	Prompt      string `json:"prompt"`
	Size        string `json:"size"`
	CallbackURL string `json:"callback_url"`
	TaskID      string `json:"task_id"`
}

func (s *Server) generate(w http.ResponseWriter, r *http.Request) {
	var req generateRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		http.Error(w, `{"error":"invalid JSON body"}`, http.StatusBadRequest)
		return
	}
	if req.CallbackURL == "" || req.TaskID == "" {
		http.Error(w, `{"error":"callback_url and task_id are required"}`, http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(map[string]any{"task_id": req.TaskID, "status": "queued"})

	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.sendLater(req.CallbackURL, map[string]any{"task_id": req.TaskID, "status": "processing"})
		s.sendLater(req.CallbackURL, map[string]any{
			"task_id": req.TaskID,
			"status":  "completed",
			"output": map[string]any{
				"url":       s.OptimizerURL + "/images/" + req.TaskID + ".png",
				"width":     1024,
				"height":    1024,
				"file_size": 1_482_752,
			},
		})
	}()
}

// sendLater posts one callback after Delay, unless the server closes
// first.
func (s *Server) sendLater(url string, body map[string]any) {
	select {
	case <-time.After(s.Delay):
	case <-s.ctx.Done():
		return
	}
	data, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, url, bytes.NewReader(data))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
}

func (s *Server) optimize(w http.ResponseWriter, r *http.Request) {
	var req struct {
		URL     string `json:"url"`
		Quality int    `json:"quality"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil || req.URL == "" {
		http.Error(w, `{"error":"send {\"url\": ..., \"quality\": ...}"}`, http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"url":             req.URL[:len(req.URL)-len(".png")] + "-optimized.png",
		"original_size":   1_482_752,
		"compressed_size": 412_160,
	})
}
