package main

import "fmt"

// runIntake is scenario 1: callbacks with a new id each over 64
// keep-alive connections, the server pinned to CPU 0 and the load
// generator to CPU 1. Rounds alternate which implementation goes first.
func runIntake(cfg config, t *table) error {
	warm, count := 5_000, 50_000
	if cfg.quick {
		warm, count = 2_000, 20_000
	}
	unpin := pinLoadGenerator(&t.notes)
	defer unpin()

	figures := map[string]*[3][]float64{"floor": {}, "tether": {}} // req/s, p50 ms, p99 ms
	for round := range cfg.rounds {
		order := []string{"floor", "tether"}
		if round%2 == 1 {
			order = []string{"tether", "floor"}
		}
		for _, impl := range order {
			r, err := intakeRound(impl, warm, count)
			if err != nil {
				return err
			}
			f := figures[impl]
			f[0] = append(f[0], r.perSecond())
			f[1] = append(f[1], ms(r.percentile(50)))
			f[2] = append(f[2], ms(r.percentile(99)))
		}
	}
	fl, te := figures["floor"], figures["tether"]
	t.compare("1 intake", "callbacks/s", "req/s", median(te[0]), median(fl[0]), ratioAtLeast, 1.0)
	t.compare("1 intake", "p50 latency", "ms", median(te[1]), median(fl[1]), noTarget, 0)
	t.compare("1 intake", "p99 latency", "ms", median(te[2]), median(fl[2]), ratioAtMost, 1.2)
	t.note("intake: %s callbacks after %s warm-up ones per round, median of %s; server pinned to CPU 0, load generator to CPU 1",
		groupDigits(float64(count)), groupDigits(float64(warm)), countRounds(cfg.rounds))
	return nil
}

// runDelivery is scenario 2: 10,000 goroutines wait, one callback each.
func runDelivery(cfg config, t *table) error {
	const n = 10_000
	unpin := pinLoadGenerator(&t.notes)
	defer unpin()

	figures := map[string]*[3][]float64{"floor": {}, "tether": {}} // total ms, p99 ms, peak RSS MiB
	for round := range cfg.rounds {
		order := []string{"floor", "tether"}
		if round%2 == 1 {
			order = []string{"tether", "floor"}
		}
		for _, impl := range order {
			r, err := deliveryRound(impl, n)
			if err != nil {
				return err
			}
			f := figures[impl]
			f[0] = append(f[0], ms(r.total))
			f[1] = append(f[1], ms(r.p99))
			f[2] = append(f[2], float64(r.peakRSSKiB)/1024)
		}
	}
	fl, te := figures["floor"], figures["tether"]
	t.compare("2 delivery", fmt.Sprintf("%d waiters: last woke after", n), "ms", median(te[0]), median(fl[0]), ratioAtMost, 1.1)
	t.compare("2 delivery", "p99 callback→wake", "ms", median(te[1]), median(fl[1]), noTarget, 0)
	t.compare("2 delivery", "peak RSS of the server", "MiB", median(te[2]), median(fl[2]), noTarget, 0)
	return nil
}
