package expr_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/expr"
)

func TestFailedSourceFailsEvaluation(t *testing.T) {
	notReady := errors.New("tunnel not ready after 1m0s")
	r := expr.Sources{"gateway:8090": expr.Failed(notReady)}
	for _, text := range []string{
		"${gateway:8090.public_url}/callback",
		"${gateway:8090.public_url | http://fallback}",
		"${gateway:8090.port + 1}",
	} {
		tmpl, err := expr.Compile(text)
		require.NoError(t, err)
		_, err = tmpl.Eval(r)
		require.Error(t, err, text)
		assert.ErrorIs(t, err, notReady, text)
		assert.ErrorIs(t, err, expr.ErrEval, text)
		assert.Contains(t, err.Error(), "read gateway:8090: tunnel not ready", text)
	}
}
