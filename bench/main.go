package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// scenario is one benchmark scenario. run appends its rows and notes.
type scenario struct {
	name string
	run  func(cfg config, t *table) error
}

var scenarios = []scenario{
	{"intake", runIntake},
	{"delivery", runDelivery},
	{"scale", runScale},
	{"triggers", runTriggers},
	{"expr", runExpr},
	{"ssh", runSSH},
}

// config holds the command-line settings of a run.
type config struct {
	quick  bool
	rounds int
}

func main() {
	var (
		only    = flag.String("scenario", "", "comma-separated scenarios to run: "+scenarioNames()+" (default all)")
		quick   = flag.Bool("quick", false, "smaller counts and one round, to check that the harness works (under a minute)")
		rounds  = flag.Int("rounds", 3, "rounds of the intake and delivery scenarios; the median round is reported")
		profile = flag.String("profile", "", "directory in which the server processes write CPU and heap profiles (default none)")

		role       = flag.String("child", "", "internal: run as a server child in this role")
		impl       = flag.String("impl", "", "internal: implementation the child serves, floor or tether")
		n          = flag.Int("n", 0, "internal: number of ids or runs the child registers")
		goroutines = flag.Bool("goroutines", false, "internal: give each registered id a waiting goroutine")
		cpu        = flag.Int("cpu", -1, "internal: CPU the child pins itself to; -1 leaves it unpinned")
	)
	flag.Parse()
	profileDir = *profile
	if *role != "" {
		if err := runChild(*role, *impl, *n, *goroutines, *cpu); err != nil {
			fmt.Fprintf(os.Stderr, "bench child %s: %v\n", *role, err)
			os.Exit(1)
		}
		return
	}

	cfg := config{quick: *quick, rounds: max(1, *rounds)}
	if cfg.quick {
		cfg.rounds = 1
	}
	selected, err := selectScenarios(*only)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}

	t := &table{}
	start := time.Now()
	failed := false
	for _, s := range selected {
		fmt.Fprintf(os.Stderr, "running %s\n", s.name)
		if err := s.run(cfg, t); err != nil {
			failed = true
			t.note("%s: not measured: %v", s.name, err)
		}
	}
	fmt.Fprintf(os.Stderr, "all scenarios took %s\n", time.Since(start).Round(time.Second))
	t.print(os.Stdout)
	if failed {
		os.Exit(1)
	}
}

func runChild(role, impl string, n int, goroutines bool, cpu int) error {
	if cpu >= 0 && numCPU() >= 2 {
		if err := pinProcess(cpu); err != nil {
			return err
		}
	}
	switch role {
	case "callbacks":
		return serveCallbacks(impl, n, goroutines)
	case "triggers":
		return serveTriggers(n)
	case "scale":
		return runScaleChild(n)
	}
	return fmt.Errorf("unknown role %q", role)
}

func scenarioNames() string {
	var names []string
	for _, s := range scenarios {
		names = append(names, s.name)
	}
	return strings.Join(names, ", ")
}

func selectScenarios(list string) ([]scenario, error) {
	if list == "" {
		return scenarios, nil
	}
	var out []scenario
	for name := range strings.SplitSeq(list, ",") {
		i := slices.IndexFunc(scenarios, func(s scenario) bool { return s.name == strings.TrimSpace(name) })
		if i < 0 {
			return nil, fmt.Errorf("unknown scenario %q; the scenarios are %s", name, scenarioNames())
		}
		out = append(out, scenarios[i])
	}
	return out, nil
}

func numCPU() int { return runtime.NumCPU() }

// targetKind selects how a row's figures are checked.
type targetKind int

const (
	noTarget     targetKind = iota
	ratioAtLeast            // tether / floor ≥ limit
	ratioAtMost             // tether / floor ≤ limit
	valueAtMost             // tether ≤ limit
)

// row is one line of the result table. Floor is NaN when the row has
// no baseline.
type row struct {
	scenario string
	metric   string
	unit     string
	tether   float64
	floor    float64
	kind     targetKind
	limit    float64
}

func (r row) ratio() float64 { return r.tether / r.floor }

func (r row) target() string {
	switch r.kind {
	case ratioAtLeast:
		return fmt.Sprintf("≥ %.1f×", r.limit)
	case ratioAtMost:
		return fmt.Sprintf("≤ %.1f×", r.limit)
	case valueAtMost:
		return "≤ " + formatValue(r.limit, r.unit)
	}
	return ""
}

func (r row) verdict() string {
	var met bool
	switch r.kind {
	case ratioAtLeast:
		met = r.ratio() >= r.limit
	case ratioAtMost:
		met = r.ratio() <= r.limit
	case valueAtMost:
		met = r.tether <= r.limit
	default:
		return ""
	}
	if met {
		return "met"
	}
	return "MISSED"
}

// table collects rows and notes and prints them as Markdown.
type table struct {
	rows  []row
	notes []string
}

func (t *table) add(r row) { t.rows = append(t.rows, r) }

// compare adds a row with a floor figure.
func (t *table) compare(scenario, metric, unit string, tether, floor float64, kind targetKind, limit float64) {
	t.add(row{scenario, metric, unit, tether, floor, kind, limit})
}

// single adds a row without a floor figure.
func (t *table) single(scenario, metric, unit string, tether float64, kind targetKind, limit float64) {
	t.add(row{scenario, metric, unit, tether, math.NaN(), kind, limit})
}

func (t *table) note(format string, args ...any) {
	t.notes = append(t.notes, fmt.Sprintf(format, args...))
}

func (t *table) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.Debug)
	fmt.Fprintln(tw, "| scenario\t metric\t tether\t floor\t ratio\t target\t result\t")
	fmt.Fprintln(tw, "|---\t---\t---:\t---:\t---:\t---\t---\t")
	for _, r := range t.rows {
		floor, ratio := "—", "—"
		if !math.IsNaN(r.floor) {
			floor = formatValue(r.floor, r.unit)
			ratio = fmt.Sprintf("%.2f×", r.ratio())
		}
		fmt.Fprintf(tw, "| %s\t %s\t %s\t %s\t %s\t %s\t %s\t\n",
			r.scenario, r.metric, formatValue(r.tether, r.unit), floor, ratio, r.target(), r.verdict())
	}
	_ = tw.Flush()
	if len(t.notes) > 0 {
		fmt.Fprintln(w)
	}
	for _, n := range t.notes {
		fmt.Fprintf(w, "- %s\n", n)
	}
}

// formatValue formats v in unit: "req/s", "runs/s", "ms", "ns",
// "s", "KiB", "MiB", "MiB/s" or "allocs".
func formatValue(v float64, unit string) string {
	switch unit {
	case "req/s", "runs/s", "allocs", "ns", "B":
		return fmt.Sprintf("%s %s", groupDigits(v), unit)
	case "ms":
		if v < 1 {
			return fmt.Sprintf("%.3f %s", v, unit)
		}
		return fmt.Sprintf("%.2f %s", v, unit)
	case "s", "KiB", "MiB", "MiB/s":
		return fmt.Sprintf("%.2f %s", v, unit)
	}
	return fmt.Sprintf("%g %s", v, unit)
}

// groupDigits rounds v and separates thousands with commas.
func groupDigits(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// countRounds returns "1 round" or "N rounds".
func countRounds(n int) string {
	if n == 1 {
		return "1 round"
	}
	return fmt.Sprintf("%d rounds", n)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// median returns the median of xs, sorting a copy.
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
