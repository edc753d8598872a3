package verify

import (
	"crypto/ed25519"
	"encoding/hex"
	"net/http"
)

// Discord signs timestamp + body with the application's Ed25519 key and
// sends the signature in hex.
const (
	headerDiscordSignature = "X-Signature-Ed25519"
	headerDiscordTimestamp = "X-Signature-Timestamp"
)

// discordVerifier checks Discord interaction requests.
type discordVerifier struct {
	publicKey ed25519.PublicKey
	window    window
}

func (c *checker) newDiscord(opts *Options) Verifier {
	c.unused(withHMACFields("secret", "secrets")...)
	v := &discordVerifier{window: c.window(opts)}
	switch key, err := hex.DecodeString(c.cfg.PublicKey); {
	case c.cfg.PublicKey == "":
		c.fail("public_key", "required for type discord; copy the application's "+
			"public key (64 hex digits) from the Discord developer portal")
	case err != nil || len(key) != ed25519.PublicKeySize:
		c.fail("public_key", "expected %d hex digits (an Ed25519 public key), got %d characters",
			2*ed25519.PublicKeySize, len(c.cfg.PublicKey))
	default:
		v.publicKey = key
	}
	return v
}

// Verify checks the timestamp window, then the Ed25519 signature.
//
// NOTE: Discord documents no timestamp window. The window is applied
// anyway to limit replays, on the assumption that Discord signs each
// request just before it sends it.
func (v *discordVerifier) Verify(r *http.Request, body []byte) error {
	const t rejecter = TypeDiscord
	value, err := t.header(r.Header, headerDiscordSignature)
	if err != nil {
		return err
	}
	timestamp, err := t.header(r.Header, headerDiscordTimestamp)
	if err != nil {
		return err
	}
	seconds, ok := parseUnixSeconds(timestamp)
	if !ok {
		return t.malformed(headerDiscordTimestamp, "expected a Unix time in whole seconds")
	}
	signature, err := hex.DecodeString(value)
	if err != nil || len(signature) != ed25519.SignatureSize {
		return t.malformed(headerDiscordSignature, "expected %d hex digits", 2*ed25519.SignatureSize)
	}
	if err := v.window.check(t, headerDiscordTimestamp, seconds); err != nil {
		return err
	}
	message := make([]byte, 0, len(timestamp)+len(body))
	message = append(message, timestamp...)
	message = append(message, body...)
	if !ed25519.Verify(v.publicKey, message, signature) {
		return t.mismatch(headerDiscordSignature)
	}
	return nil
}
