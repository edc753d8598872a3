package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/examples/async-image/fakeapi"
)

// The two tests below bind the listener's port 8090 from tether.yml, so
// they must not run in parallel.

func TestExamplePrintsWorkflowOutput(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), &stdout, &stderr, false, "a red kite")
	require.NoError(t, err, stderr.String())

	var out map[string]any
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &out), stdout.String())
	assertImageOutput(t, out)
}

func TestTetherRunOnExampleYAML(t *testing.T) {
	api, err := fakeapi.Start()
	require.NoError(t, err)
	t.Cleanup(func() { _ = api.Close() })

	bin := filepath.Join(t.TempDir(), "tether")
	build := exec.Command("go", "build", "-o", bin, "github.com/tether-go/tether/cmd/tether")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	cmd := exec.Command(bin, "run", "-f", "tether.yml", "--input", `{"prompt": "a red kite"}`)
	cmd.Env = append(os.Environ(), "IMAGE_AI_URL="+api.ImageURL, "IMAGEOPTIM_URL="+api.OptimizerURL)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), stderr.String())

	var out map[string]any
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &out), stdout.String())
	assertImageOutput(t, out)
}

func assertImageOutput(t *testing.T, out map[string]any) {
	t.Helper()
	assert.Contains(t, out["image_url"], "/images/")
	assert.Contains(t, out["final_url"], "-optimized.png")
	assert.EqualValues(t, 1024, out["width"])
	assert.EqualValues(t, 1024, out["height"])
	assert.EqualValues(t, 1482752, out["original_size"])
	assert.EqualValues(t, 412160, out["compressed_size"])
	assert.EqualValues(t, 1482752-412160, out["savings"])
}
