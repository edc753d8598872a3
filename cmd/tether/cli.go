package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tether-go/tether/compose"
	"github.com/tether-go/tether/workflow"

	// Every built-in tunnel driver that the YAML can name.
	_ "github.com/tether-go/tether/driver/all"
)

// exitError carries a process exit code through cobra.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

type globalFlags struct {
	file      string
	logLevel  string
	logFormat string
}

// Main runs the CLI with args and returns the process exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:           "tether",
		Short:         "Wait for callbacks, start workflows from webhooks, and expose local ports through tunnels",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVarP(&g.file, "file", "f", "", "configuration file (default tether.yml, else model-compose.yml)")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(upCommand(g, stderr), runCommand(g, stdout, stderr), validateCommand(g, stdout))
	root.SetArgs(args)

	err := root.Execute()
	var ee *exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	default:
		fmt.Fprintln(stderr, "tether:", err)
		return 1
	}
}

func (g *globalFlags) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		return nil, fmt.Errorf("invalid --log-level %q: use debug, info, warn or error", g.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch g.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("invalid --log-format %q: use text or json", g.logFormat)
}

func (g *globalFlags) load() (*compose.Config, error) {
	if g.file == "" {
		file, err := compose.FindFile()
		if err != nil {
			return nil, err
		}
		g.file = file
	}
	return compose.Load(g.file)
}

func upCommand(g *globalFlags, stderr io.Writer) *cobra.Command {
	var grace time.Duration
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start the listeners, gateways and controller and run until SIGINT or SIGTERM",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := g.logger(stderr)
			if err != nil {
				return err
			}
			cfg, err := g.load()
			if err != nil {
				return err
			}
			p, err := compose.New(cfg, &compose.Options{Logger: log})
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if err := p.Up(ctx); err != nil {
				_ = p.Close()
				return err
			}
			log.Info("tether is up; press Ctrl+C to stop")
			<-ctx.Done()
			stop()
			log.Info("shutting down", "grace", grace)
			sctx, cancel := context.WithTimeout(context.Background(), grace)
			defer cancel()
			return p.Shutdown(sctx)
		},
	}
	cmd.Flags().DurationVar(&grace, "shutdown-timeout", 30*time.Second, "how long running workflows may go on after SIGINT or SIGTERM before they are cancelled")
	return cmd
}

func runCommand(g *globalFlags, stdout, stderr io.Writer) *cobra.Command {
	var input string
	cmd := &cobra.Command{
		Use:   "run [WORKFLOW]",
		Short: "Run one workflow once, print its output as JSON, and exit non-zero if it fails",
		Long: "run starts the listeners and gateways the workflow needs (not the controller),\n" +
			"runs the workflow once with --input, prints its output as JSON on stdout,\n" +
			"and exits 1 when the run fails. WORKFLOW defaults to the default workflow.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := g.logger(stderr)
			if err != nil {
				return err
			}
			var in any
			if input != "" {
				dec := json.NewDecoder(strings.NewReader(input))
				dec.UseNumber()
				err := dec.Decode(&in)
				if err == nil && dec.More() {
					err = errors.New("data after the first JSON value")
				}
				if err != nil {
					return fmt.Errorf("invalid --input: %v; pass one JSON value such as '{\"prompt\": \"a cat\"}'", err)
				}
			}
			cfg, err := g.load()
			if err != nil {
				return err
			}
			cfg.Controller.Disabled = true
			p, err := compose.New(cfg, &compose.Options{Logger: log})
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if err := p.Up(ctx); err != nil {
				_ = p.Close()
				return err
			}
			id := ""
			if len(args) == 1 {
				id = args[0]
			}
			run, runErr := p.Run(ctx, id, in)
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = p.Shutdown(sctx)
			if run == nil {
				if errors.Is(runErr, workflow.ErrUnknownWorkflow) {
					var ids []string
					for _, info := range p.Engine().Workflows() {
						ids = append(ids, info.ID)
					}
					return fmt.Errorf("%w; the workflows in %s are: %s", runErr, g.file, strings.Join(ids, ", "))
				}
				return runErr
			}
			if run.State != workflow.StateCompleted {
				fmt.Fprintf(stderr, "tether: run %s of workflow %q %s: %s\n", run.ID, run.WorkflowID, run.State, run.Error)
				return &exitError{code: 1}
			}
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(run.Output)
		},
	}
	cmd.Flags().StringVar(&input, "input", "", "the workflow input as JSON")
	return cmd
}

func validateCommand(g *globalFlags, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "validate",
		Short: "Check a configuration and print its problems, or ok",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := g.load()
			if err == nil {
				for _, w := range cfg.Warnings(nil) {
					fmt.Fprintln(stdout, "warning: "+w)
				}
				var p *compose.Project
				if p, err = compose.New(cfg, nil); err == nil {
					_ = p.Close()
				}
			}
			if err != nil {
				fmt.Fprintln(stdout, err)
				return &exitError{code: 1}
			}
			fmt.Fprintln(stdout, "ok")
			return nil
		},
	}
}
