package metrics

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tether-go/tether/gateway"
	"github.com/tether-go/tether/listener"
	"github.com/tether-go/tether/waiter"
	"github.com/tether-go/tether/workflow"
)

// DefaultNamespace prefixes every metric name unless Options.Namespace
// sets another one.
const DefaultNamespace = "tether"

// DefaultWaitBuckets are the upper bounds, in seconds, of the wait and
// run duration histograms: from 100 ms to 1 hour, because asynchronous
// tasks take from seconds to tens of minutes.
var DefaultWaitBuckets = []float64{0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600}

// Options configures New. A nil *Options means the defaults.
type Options struct {
	// Namespace prefixes every metric name. Empty means
	// DefaultNamespace.
	Namespace string
	// Registerer receives the collectors. Nil means a new
	// prometheus.Registry, which Handler then serves.
	Registerer prometheus.Registerer
	// Gatherer is the source of the metrics that Handler serves. Nil
	// means Registerer when it is also a prometheus.Gatherer, such as a
	// *prometheus.Registry.
	Gatherer prometheus.Gatherer
	// WaitBuckets are the histogram buckets of wait and run durations,
	// in seconds. Nil means DefaultWaitBuckets.
	WaitBuckets []float64
}

// ErrNoGatherer is returned by Handler's requests when the Registerer
// given to New cannot be gathered from and Options.Gatherer is nil.
var ErrNoGatherer = errors.New("metrics: no gatherer; set Options.Gatherer or serve the registry yourself")

// Metrics is tether's Prometheus collector. Feed it by passing its
// observers to the listener, workflow and gateway packages, and its
// waiter gauges with WatchWaiter. All methods are safe for concurrent
// use.
type Metrics struct {
	gatherer prometheus.Gatherer
	reg      prometheus.Registerer
	ns       string

	pendingWaits      *prometheus.GaugeVec
	waitDuration      *prometheus.HistogramVec
	waitTimeouts      *prometheus.CounterVec
	callbacks         *prometheus.CounterVec
	signatureFailures *prometheus.CounterVec
	triggerRuns       *prometheus.CounterVec
	runs              *prometheus.CounterVec
	runDuration       *prometheus.HistogramVec
	tunnelUp          *prometheus.GaugeVec
}

// New creates the collectors and registers them with
// Options.Registerer. It fails when a metric of the same name is already
// registered there, for example by a second New on the same registry
// with the same namespace.
func New(opts *Options) (*Metrics, error) {
	if opts == nil {
		opts = &Options{}
	}
	m := &Metrics{reg: opts.Registerer, gatherer: opts.Gatherer, ns: opts.Namespace}
	if m.ns == "" {
		m.ns = DefaultNamespace
	}
	if m.reg == nil {
		r := prometheus.NewRegistry()
		m.reg = r
	}
	if m.gatherer == nil {
		m.gatherer, _ = m.reg.(prometheus.Gatherer)
	}
	buckets := opts.WaitBuckets
	if buckets == nil {
		buckets = DefaultWaitBuckets
	}

	m.pendingWaits = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: m.ns, Name: "pending_waits",
		Help: "Jobs waiting for a callback now.",
	}, []string{"workflow", "component"})
	m.waitDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: m.ns, Name: "wait_duration_seconds",
		Help:    "Time jobs waited for their callback, by how the wait ended (received, failed, timeout, cancelled).",
		Buckets: buckets,
	}, []string{"workflow", "component", "result"})
	m.waitTimeouts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: m.ns, Name: "wait_timeouts_total",
		Help: "Waits for a callback that reached their timeout.",
	}, []string{"workflow", "component"})
	m.callbacks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: m.ns, Name: "callbacks_total",
		Help: "Callbacks received, by endpoint path and result (delivered, stored, duplicate, ignored, rejected).",
	}, []string{"path", "result"})
	m.signatureFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: m.ns, Name: "signature_failures_total",
		Help: "Requests rejected because their signature or token did not verify.",
	}, []string{"listener", "path"})
	m.triggerRuns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: m.ns, Name: "trigger_runs_total",
		Help: "Webhook trigger results, by endpoint path and result (started, replayed, rejected).",
	}, []string{"path", "result"})
	m.runs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: m.ns, Name: "runs_total",
		Help: "Workflow runs that ended, by end state.",
	}, []string{"workflow", "state"})
	m.runDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: m.ns, Name: "run_duration_seconds",
		Help:    "Duration of workflow runs from creation to end.",
		Buckets: buckets,
	}, []string{"workflow", "state"})
	m.tunnelUp = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: m.ns, Name: "tunnel_up",
		Help: "1 while the gateway tunnel to the local port is open, else 0.",
	}, []string{"driver", "port"})

	for _, c := range []prometheus.Collector{
		m.pendingWaits, m.waitDuration, m.waitTimeouts, m.callbacks, m.signatureFailures,
		m.triggerRuns, m.runs, m.runDuration, m.tunnelUp,
	} {
		if err := m.reg.Register(c); err != nil {
			return nil, fmt.Errorf("register tether metrics: %w", err)
		}
	}
	return m, nil
}

// Handler serves the gathered metrics in the Prometheus text format.
// When there is nothing to gather from (see Options.Gatherer), it
// replies 500 with ErrNoGatherer's message.
func (m *Metrics) Handler() http.Handler {
	if m.gatherer == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, ErrNoGatherer.Error(), http.StatusInternalServerError)
		})
	}
	return promhttp.HandlerFor(m.gatherer, promhttp.HandlerOpts{})
}

// ListenerObserver returns the observer to set in listener.Options:
// it counts callbacks by result, trigger results and signature failures.
func (m *Metrics) ListenerObserver() *listener.Observer {
	return &listener.Observer{
		Callback: func(path string, r listener.Result) {
			m.callbacks.WithLabelValues(path, string(r)).Inc()
		},
		Trigger: func(path string, r listener.Result) {
			m.triggerRuns.WithLabelValues(path, string(r)).Inc()
		},
		SignatureFailed: func(kind, path string) {
			m.signatureFailures.WithLabelValues(kind, path).Inc()
		},
	}
}

// WorkflowObserver returns the observer to set in workflow.Options: it
// tracks pending waits, wait durations, timeouts and run ends.
func (m *Metrics) WorkflowObserver() *workflow.Observer {
	return &workflow.Observer{
		WaitStarted: func(workflowID, componentID string) {
			m.pendingWaits.WithLabelValues(workflowID, componentID).Inc()
		},
		WaitEnded: func(workflowID, componentID string, d time.Duration, r workflow.WaitResult) {
			m.pendingWaits.WithLabelValues(workflowID, componentID).Dec()
			m.waitDuration.WithLabelValues(workflowID, componentID, string(r)).Observe(d.Seconds())
			if r == workflow.WaitTimeout {
				m.waitTimeouts.WithLabelValues(workflowID, componentID).Inc()
			}
		},
		RunEnded: func(workflowID string, s workflow.State, d time.Duration) {
			m.runs.WithLabelValues(workflowID, string(s)).Inc()
			m.runDuration.WithLabelValues(workflowID, string(s)).Observe(d.Seconds())
		},
	}
}

// ObserveTunnel records a tunnel's state. Pass it as
// gateway.Options.OnTunnel.
func (m *Metrics) ObserveTunnel(s gateway.TunnelStatus) {
	v := 0.0
	if s.Up {
		v = 1
	}
	m.tunnelUp.WithLabelValues(s.Driver, strconv.Itoa(s.Port)).Set(v)
}

// StatsSource is a waiter that reports its counts, such as
// *waiter.Memory.
type StatsSource interface {
	Stats() waiter.Stats
}

// WatchWaiter registers gauges that read w's counts at each scrape:
// early outcomes stored for a job that waits later, ids remembered for
// duplicate detection, and outcomes expired unclaimed. It fails when a
// waiter is already watched.
func (m *Metrics) WatchWaiter(w StatsSource) error {
	cs := []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: m.ns, Name: "waiter_stored_outcomes",
			Help: "Callback outcomes that arrived before their job waited, kept until it does.",
		}, func() float64 { return float64(w.Stats().Stored) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: m.ns, Name: "waiter_remembered_ids",
			Help: "Callback ids remembered to detect duplicates.",
		}, func() float64 { return float64(w.Stats().Remembered) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: m.ns, Name: "waiter_expired_outcomes_total",
			Help: "Stored callback outcomes dropped because no job waited for them within the retention period.",
		}, func() float64 { return float64(w.Stats().Expired) }),
	}
	for i, c := range cs {
		if err := m.reg.Register(c); err != nil {
			for _, done := range cs[:i] {
				m.reg.Unregister(done)
			}
			return fmt.Errorf("register waiter metrics: %w", err)
		}
	}
	return nil
}
