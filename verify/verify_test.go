package verify_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tether-go/tether/verify"
)

func TestReasonsMatchErrUnverified(t *testing.T) {
	reasons := map[error]string{
		verify.ErrMissingHeader:   "verify: missing header",
		verify.ErrMalformedHeader: "verify: malformed header",
		verify.ErrStale:           "verify: timestamp outside the window",
		verify.ErrMismatch:        "verify: no signature matched",
	}
	for reason, text := range reasons {
		assert.ErrorIs(t, reason, verify.ErrUnverified)
		assert.Equal(t, text, reason.Error())
	}
	assert.NotErrorIs(t, verify.ErrMismatch, verify.ErrStale)
	assert.NotErrorIs(t, verify.ErrUnverified, verify.ErrMismatch)
}

func TestVerifierFuncCallsFunction(t *testing.T) {
	rejection := errors.New("rejected by fake")
	var got []byte
	fake := verify.VerifierFunc(func(r *http.Request, body []byte) error {
		got = body
		return rejection
	})

	err := fake.Verify(httptest.NewRequest(http.MethodPost, "/", nil), []byte("payload"))
	assert.Equal(t, rejection, err)
	assert.Equal(t, []byte("payload"), got)
}
