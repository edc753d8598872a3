// Package waiter matches asynchronous outcomes to the code that waits for
// them, by id.
//
// A workflow job that sends work to an asynchronous API registers interest
// in the callback id first, then sends the request, then waits:
//
//	p, err := w.Expect(ctx, taskID)
//	if err != nil {
//		return err // waiter.ErrAlreadyWaiting: another job waits for taskID
//	}
//	defer p.Cancel()
//	if err := send(ctx, taskID); err != nil {
//		return err
//	}
//	outcome, err := p.Wait(ctx) // ends with the outcome, ctx, Cancel or Close
//	if err != nil {
//		return err
//	}
//	if err := outcome.Err(); err != nil {
//		return err // *waiter.RemoteError with the status and payload
//	}
//
// The callback listener hands each parsed callback to Deliver:
//
//	d, err := w.Deliver(ctx, taskID, waiter.Outcome{Result: result})
//
// Deliver reports what it did. [Delivered]: a registration received the
// outcome. [Stored]: the id had no registration yet, because the callback
// overtook Expect or the job retries later, so the next Expect for the id
// gets the outcome at once. [Duplicate]: an outcome for the id was already
// accepted, so this one was dropped. All three deserve a 2xx reply to the
// sender. An error, such as [ErrFull], means the outcome was not kept and
// the sender should retry.
//
// # Lifetimes
//
// A registration is live from Expect until Wait returns or Cancel is
// called, and a second Expect for a live id fails with
// [ErrAlreadyWaiting]. Afterwards the id may be expected again, which is
// how a retried job reuses its id. An early outcome is kept for a
// retention period (10 minutes by default) and a delivered id is
// remembered for duplicate detection for the same time, both bounded in
// count. [Memory] also bounds the early outcomes in bytes
// (MemoryOptions.MaxStoredBytes).
//
// # Implementations
//
// [Memory] serves one process and is the default. The waiter/redis
// package shares waits between replicas, so that a callback received by
// any replica wakes the job on the replica that waits. Both pass the
// waiter/waitertest conformance suite.
package waiter
