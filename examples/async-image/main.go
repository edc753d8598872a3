// Command async-image runs tether's main job end to end, with no account
// and no internet access: a workflow sends a request to an asynchronous
// image API, waits for its callback on an http-callback listener, then
// calls a synchronous optimizer, and prints the workflow output.
//
// It starts a stand-in for both APIs on loopback (package fakeapi), loads
// tether.yml from this folder (embedded in the binary), and points the
// YAML's ${env.IMAGE_AI_URL} and ${env.IMAGEOPTIM_URL} at the stand-in.
//
//	go run ./examples/async-image
//	go run ./examples/async-image -v        # with tether's logs on stderr
package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/tether-go/tether/compose"
	"github.com/tether-go/tether/examples/async-image/fakeapi"
)

//go:embed tether.yml
var config []byte

func main() {
	verbose := flag.Bool("v", false, "log what tether does to stderr")
	prompt := flag.String("prompt", "a lighthouse at dawn, watercolor", "the image prompt")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, os.Stderr, *verbose, *prompt); err != nil {
		fmt.Fprintln(os.Stderr, "async-image:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, stdout, stderr io.Writer, verbose bool, prompt string) error {
	api, err := fakeapi.Start()
	if err != nil {
		return err
	}
	defer api.Close()

	cfg, err := compose.Parse(config, "tether.yml")
	if err != nil {
		return err
	}
	// The workflow is run directly below; no controller is needed.
	cfg.Controller.Disabled = true

	env := map[string]string{"IMAGE_AI_URL": api.ImageURL, "IMAGEOPTIM_URL": api.OptimizerURL}
	opts := &compose.Options{
		LookupEnv: func(name string) (string, bool) {
			if v, ok := env[name]; ok {
				return v, true
			}
			return os.LookupEnv(name)
		},
	}
	if verbose {
		opts.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	project, err := compose.New(cfg, opts)
	if err != nil {
		return err
	}
	if err := project.Up(ctx); err != nil {
		_ = project.Close()
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = project.Shutdown(sctx)
	}()

	run, err := project.Run(ctx, "", map[string]any{"prompt": prompt, "size": "1024x1024"})
	if err != nil {
		return err
	}
	if run.Error != "" {
		return fmt.Errorf("run %s %s: %s", run.ID, run.State, run.Error)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(run.Output)
}
