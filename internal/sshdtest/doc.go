//go:build unix

// Package sshdtest starts a real OpenSSH sshd on a free loopback port for
// tests, with generated host and client keys in a temporary directory.
//
// The server allows public-key login for the current user (root on CI
// machines), TCP forwarding and client-chosen bind addresses for remote
// forwards. It does not allow password login: sshd checks passwords
// against the system's account database, and this package does not
// change system accounts. Test password authentication against an
// in-process golang.org/x/crypto/ssh server instead.
//
// When /usr/sbin/sshd (or sshd on PATH) is missing, or the system is
// not Linux, [Start] skips the test, unless the environment variable CI is "true": then it fails, so
// that a missing server cannot hide behind a skip.
package sshdtest
