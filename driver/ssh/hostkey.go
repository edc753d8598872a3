package ssh

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// hostKeyCheck returns the callback that checks the server's host key,
// and the host key algorithms to offer, preferring the key types that
// known_hosts lists for the server.
func hostKeyCheck(s settings, remote net.Addr, logger *slog.Logger) (ssh.HostKeyCallback, []string, error) {
	if s.insecureNoHost {
		logger.Warn("ssh: host key checking is off (insecure_ignore_host_key: true); "+
			"anyone between this machine and the server can pose as the server",
			"host", s.address())
		return ssh.InsecureIgnoreHostKey(), nil, nil
	}

	var files []string
	for _, f := range s.knownHosts {
		if _, err := os.Stat(f); err != nil {
			return nil, nil, fmt.Errorf("%w: read known_hosts file %s: %w; add the server with "+
				"\"ssh-keyscan -p %d %s >> %s\", or set known_hosts to another file",
				ErrHostKey, f, err, s.port, s.host, f)
		}
		files = append(files, f)
	}
	callback, err := knownhosts.New(files...)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: parse known_hosts: %w", ErrHostKey, err)
	}

	check := func(hostname string, addr net.Addr, key ssh.PublicKey) error {
		err := callback(hostname, addr, key)
		if err == nil {
			return nil
		}
		var keyErr *knownhosts.KeyError
		if errors.As(err, &keyErr) && len(keyErr.Want) == 0 {
			return fmt.Errorf("%w: %s is not in %s; check the server's %s key fingerprint %s and add it "+
				"(\"ssh-keyscan -p %d %s >> %s\"), or set known_hosts",
				ErrHostKey, s.address(), strings.Join(files, ", "), key.Type(), ssh.FingerprintSHA256(key),
				s.port, s.host, files[0])
		}
		if errors.As(err, &keyErr) {
			want := keyErr.Want[0]
			return fmt.Errorf("%w: the %s key of %s (%s) does not match the key in %s line %d (%s); "+
				"the server's key changed or someone is posing as the server",
				ErrHostKey, key.Type(), s.address(), ssh.FingerprintSHA256(key),
				want.Filename, want.Line, ssh.FingerprintSHA256(want.Key))
		}
		var revoked *knownhosts.RevokedError
		if errors.As(err, &revoked) {
			return fmt.Errorf("%w: the host key of %s is marked @revoked in %s line %d",
				ErrHostKey, s.address(), revoked.Revoked.Filename, revoked.Revoked.Line)
		}
		return fmt.Errorf("%w: %w", ErrHostKey, err)
	}

	return check, knownAlgorithms(callback, s.address(), remote), nil
}

// probeKey is a key that is in no known_hosts file. Checking it makes
// knownhosts list the keys it has for a host.
var probeKey, _ = ssh.NewPublicKey(ed25519.PublicKey(make([]byte, ed25519.PublicKeySize)))

// knownAlgorithms returns the host key algorithms for the key types that
// known_hosts lists for address, or nil to let the library choose.
func knownAlgorithms(callback ssh.HostKeyCallback, address string, remote net.Addr) []string {
	err := callback(address, remote, probeKey)
	var keyErr *knownhosts.KeyError
	if !errors.As(err, &keyErr) {
		return nil
	}
	var algorithms []string
	seen := map[string]bool{}
	for _, known := range keyErr.Want {
		for _, alg := range algorithmsFor(known.Key.Type()) {
			if !seen[alg] {
				seen[alg] = true
				algorithms = append(algorithms, alg)
			}
		}
	}
	return algorithms
}

// algorithmsFor maps a key type to the signature algorithms that verify
// it: an RSA key signs with SHA-2 or, on old servers, SHA-1.
func algorithmsFor(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}
