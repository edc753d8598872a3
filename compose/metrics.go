package compose

import (
	"net/http"

	"github.com/tether-go/tether/gateway"
	"github.com/tether-go/tether/listener"
	"github.com/tether-go/tether/metrics"
	"github.com/tether-go/tether/workflow"
)

// initMetrics creates the project's collector, on a registry of its own,
// when the controller serves /metrics and Options.Metrics is nil. It
// must run before the engine, listeners and gateways are built, because
// they take their observers from it.
func (p *Project) initMetrics() error {
	if p.opts.Metrics != nil || !p.cfg.Controller.Metrics {
		return nil
	}
	m, err := metrics.New(nil)
	if err != nil {
		return err
	}
	p.opts.Metrics = m
	return nil
}

// workflowObserver returns the observer for workflow.Options, or nil
// without metrics.
func (p *Project) workflowObserver() *workflow.Observer {
	if p.opts.Metrics == nil {
		return nil
	}
	return p.opts.Metrics.WorkflowObserver()
}

// listenerObserver returns the observer for listener.Options, or nil
// without metrics.
func (p *Project) listenerObserver() *listener.Observer {
	if p.opts.Metrics == nil {
		return nil
	}
	return p.opts.Metrics.ListenerObserver()
}

// tunnelObserver returns the function for gateway.Options.OnTunnel, or
// nil without metrics.
func (p *Project) tunnelObserver() func(gateway.TunnelStatus) {
	if p.opts.Metrics == nil {
		return nil
	}
	return p.opts.Metrics.ObserveTunnel
}

// metricsHandler serves the project's metrics at the controller's
// /metrics. When the project was built without initMetrics, it creates
// the collector here; the waiter's gauges then work, but the observer
// metrics stay at zero.
func metricsHandler(p *Project) http.Handler {
	if p.opts.Metrics == nil {
		m, err := metrics.New(nil)
		if err != nil {
			p.log.Error("create metrics", "error", err)
			return http.NotFoundHandler()
		}
		p.opts.Metrics = m
	}
	if s, ok := p.waiter.(metrics.StatsSource); ok {
		if err := p.opts.Metrics.WatchWaiter(s); err != nil {
			p.log.Warn("watch waiter for metrics", "error", err)
		}
	}
	return p.opts.Metrics.Handler()
}
