package main

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
)

// floor is the baseline that tether is measured against: a bare net/http
// handler that unmarshals the whole callback with encoding/json and wakes
// the goroutine waiting for its id through a channel kept in a sync.Map.
// It has none of tether's checks (content types, size limits, duplicate
// detection, early outcomes), so it is the least work a callback can
// cost in Go.
type floor struct {
	waits     sync.Map // task id -> chan floorCallback, buffered 1
	delivered atomic.Int64
}

// floorCallback is the callback body in full.
type floorCallback struct {
	TaskID    string         `json:"task_id"`
	Status    string         `json:"status"`
	SentAt    string         `json:"sent_at"`
	CreatedAt string         `json:"created_at"`
	Model     map[string]any `json:"model"`
	Output    map[string]any `json:"output"`
}

// expect registers id and returns the channel its callback arrives on.
func (f *floor) expect(id string) <-chan floorCallback {
	ch := make(chan floorCallback, 1)
	f.waits.Store(id, ch)
	return ch
}

// ServeHTTP delivers one callback.
func (f *floor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err != nil {
		http.Error(w, `{"error":"read body"}`, http.StatusBadRequest)
		return
	}
	var cb floorCallback
	if err := json.Unmarshal(body, &cb); err != nil {
		http.Error(w, `{"error":"invalid JSON"}`, http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if cb.Status != "completed" {
		_, _ = io.WriteString(w, `{"status":"ignored"}`)
		return
	}
	ch, ok := f.waits.LoadAndDelete(cb.TaskID)
	if !ok {
		_, _ = io.WriteString(w, `{"status":"ignored"}`)
		return
	}
	ch.(chan floorCallback) <- cb
	f.delivered.Add(1)
	_, _ = io.WriteString(w, `{"status":"delivered"}`)
}
