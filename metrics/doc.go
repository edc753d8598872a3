// Package metrics is an optional Prometheus collector for tether. It
// counts what the listener, workflow and gateway packages report through
// their observers:
//
//	tether_pending_waits{workflow,component}                 jobs waiting for a callback now
//	tether_wait_duration_seconds{workflow,component,result}  how long they waited (received, failed, timeout, cancelled)
//	tether_wait_timeouts_total{workflow,component}           waits that reached their timeout
//	tether_callbacks_total{path,result}                      callbacks: delivered, stored (early), duplicate, ignored, rejected
//	tether_signature_failures_total{listener,path}           requests whose signature did not verify
//	tether_trigger_runs_total{path,result}                   webhook triggers: started, replayed, rejected
//	tether_runs_total{workflow,state}                        runs that ended, by state
//	tether_run_duration_seconds{workflow,state}              their duration
//	tether_tunnel_up{driver,port}                            1 while a gateway tunnel is open
//
// and, with WatchWaiter, tether_waiter_stored_outcomes,
// tether_waiter_remembered_ids and tether_waiter_expired_outcomes_total.
//
// A project built by package compose feeds the collector itself: set
// compose.Options.Metrics, or write controller: {metrics: true} in the
// YAML, and the controller serves GET /metrics. A Go service that builds
// the pieces itself passes the observers along:
//
//	m, err := metrics.New(&metrics.Options{Registerer: prometheus.DefaultRegisterer})
//	engine := workflow.New(&workflow.Options{Observer: m.WorkflowObserver()})
//	cb, err := listener.NewCallback(cfg, w, &listener.Options{Observer: m.ListenerObserver()})
//	gw, err := gateway.New(gcfg, &gateway.Options{OnTunnel: m.ObserveTunnel})
//	mux.Handle("GET /metrics", m.Handler())
//
// Durations are measured on the engine's clock, so a fake clock in tests
// gives exact values. Label values come from the configuration
// (workflow, component and endpoint ids and paths, driver names and
// ports), never from requests, so their number stays bounded.
package metrics
