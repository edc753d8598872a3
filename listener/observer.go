package listener

// Observer receives a listener's events, for metrics such as those of
// package metrics. Every field may be nil, and a nil *Observer in
// Options observes nothing at no cost. The functions are called
// synchronously from request goroutines, so they must be fast and safe
// for concurrent use.
type Observer struct {
	// Callback is called once for each callback outcome of an
	// http-callback endpoint (once per item in bulk mode), with the
	// endpoint's full path and one of the Result constants.
	Callback func(path string, result Result)
	// Trigger is called once for each run an http-trigger endpoint
	// starts or fails to start (once per item in bulk mode), and once
	// for a request replayed for a known idempotency key.
	Trigger func(path string, result Result)
	// SignatureFailed is called for each request whose Verify check
	// fails, with the listener kind ("http-callback" or "http-trigger")
	// and the endpoint's full path.
	SignatureFailed func(kind, path string)
}

// Result is the outcome of one callback or trigger item, as reported to
// an Observer.
type Result string

// Results reported to Observer.Callback and Observer.Trigger.
const (
	// ResultDelivered means a waiting job received the callback.
	ResultDelivered Result = "delivered"
	// ResultStored means no job waited yet, so the waiter kept the
	// outcome for a job that waits later.
	ResultStored Result = "stored"
	// ResultDuplicate means an outcome for the id was already accepted,
	// so this one was dropped.
	ResultDuplicate Result = "duplicate"
	// ResultIgnored means the status was in neither SuccessWhen nor
	// FailWhen.
	ResultIgnored Result = "ignored"
	// ResultRejected means the request or item changed nothing: its body
	// or signature was invalid, a template failed on it, or the waiter
	// or starter failed.
	ResultRejected Result = "rejected"
	// ResultStarted means a trigger started a run.
	ResultStarted Result = "started"
	// ResultReplayed means a trigger replied with the stored reply of an
	// earlier request with the same idempotency key and started nothing.
	ResultReplayed Result = "replayed"
)

// observeCallback reports a callback result when an observer is set.
func (c *core) observeCallback(path string, r Result) {
	if c.observer != nil && c.observer.Callback != nil {
		c.observer.Callback(path, r)
	}
}

// observeTrigger reports a trigger result when an observer is set.
func (c *core) observeTrigger(path string, r Result) {
	if c.observer != nil && c.observer.Trigger != nil {
		c.observer.Trigger(path, r)
	}
}

// observeRejected reports a request that prepare turned away, as a
// callback or trigger result depending on the listener kind.
func (c *core) observeRejected(path string) {
	if c.kind == "http-trigger" {
		c.observeTrigger(path, ResultRejected)
		return
	}
	c.observeCallback(path, ResultRejected)
}

// observeSignatureFailed reports a request that Verify rejected.
func (c *core) observeSignatureFailed(path string) {
	if c.observer != nil && c.observer.SignatureFailed != nil {
		c.observer.SignatureFailed(c.kind, path)
	}
}
