package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// printer is a stand-in for an asynchronous label-printing API: POST
// /jobs replies 202 at once, then the printer posts a "printing" and a
// "printed" callback to the job's callback_url.
type printer struct {
	URL string

	srv    *http.Server
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // tracks the goroutines that send callbacks
}

// startPrinter serves the printer on a free 127.0.0.1 port.
func startPrinter() (*printer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	p := &printer{URL: "http://" + ln.Addr().String()}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	mux := http.NewServeMux()
	mux.HandleFunc("POST /jobs", p.createJob)
	p.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

func (p *printer) createJob(w http.ResponseWriter, r *http.Request) {
	var job struct {
		JobID       string `json:"job_id"`
		Text        string `json:"text"`
		CallbackURL string `json:"callback_url"`
	}
	if err := json.NewDecoder(r.Body).Decode(&job); err != nil || job.JobID == "" || job.CallbackURL == "" {
		http.Error(w, `{"error": "job_id and callback_url are required"}`, http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(map[string]any{"job_id": job.JobID, "state": "queued"})

	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.callBack(job.CallbackURL, map[string]any{"job_id": job.JobID, "state": "printing"})
		p.callBack(job.CallbackURL, map[string]any{
			"job_id":    job.JobID,
			"state":     "printed",
			"label_url": p.URL + "/labels/" + job.JobID + ".pdf",
			"pages":     1,
		})
	}()
}

func (p *printer) callBack(url string, body map[string]any) {
	data, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(p.ctx, http.MethodPost, url, bytes.NewReader(data))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	_ = resp.Body.Close()
}

// Close stops sending callbacks and stops the server.
func (p *printer) Close() error {
	p.cancel()
	p.wg.Wait()
	return p.srv.Close()
}
