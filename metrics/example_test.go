package metrics_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tether-go/tether/listener"
	"github.com/tether-go/tether/metrics"
	"github.com/tether-go/tether/waiter"
)

// ExampleNew counts the callbacks of a listener and serves them.
func ExampleNew() {
	m, err := metrics.New(&metrics.Options{Registerer: prometheus.NewRegistry()})
	if err != nil {
		fmt.Println(err)
		return
	}
	w := waiter.NewMemory(nil)
	defer w.Close()
	cb, err := listener.NewCallback(listener.CallbackConfig{
		Callbacks: []listener.Callback{{Path: "/done", IdentifyBy: "${body.id}"}},
	}, w, &listener.Options{Observer: m.ListenerObserver()})
	if err != nil {
		fmt.Println(err)
		return
	}

	for _, body := range []string{`{"id": "a"}`, `{"id": "a"}`, `{}`} {
		cb.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/done", strings.NewReader(body)))
	}

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if strings.HasPrefix(line, "tether_callbacks_total") {
			fmt.Println(line)
		}
	}
	// Output:
	// tether_callbacks_total{path="/done",result="duplicate"} 1
	// tether_callbacks_total{path="/done",result="rejected"} 1
	// tether_callbacks_total{path="/done",result="stored"} 1
}
