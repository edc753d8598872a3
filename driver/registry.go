package driver

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Registry maps driver names to drivers. The zero value is an empty
// registry ready to use. A Registry is safe for concurrent use.
//
// Most programs use the default registry through the package-level
// [Register] and [Open], in which the built-in drivers register
// themselves when their packages are imported. Tests and programs that
// want no global state build their own Registry.
type Registry struct {
	mu      sync.RWMutex
	drivers map[string]Driver // guarded by mu; keyed by normalized name
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{} }

var defaultRegistry Registry

// Default returns the registry that [Register], [Lookup], [Open] and
// [Drivers] use.
func Default() *Registry { return &defaultRegistry }

// NormalizeName returns the form under which a driver name is stored:
// trimmed and lower-case, so that "Ngrok" and "ngrok" name one driver.
func NormalizeName(name string) string {
	return strings.ToLower(strings.TrimSpace(name))
}

// Register makes d available under name. It panics if name is empty, if
// d is nil or if a driver is already registered under the name, because
// each of these is a programming mistake found at init time.
func (r *Registry) Register(name string, d Driver) {
	key := NormalizeName(name)
	if key == "" {
		panic("driver: Register called with an empty name")
	}
	if d == nil {
		panic("driver: Register driver " + key + " is nil")
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.drivers[key]; dup {
		panic("driver: Register called twice for driver " + key)
	}
	if r.drivers == nil {
		r.drivers = make(map[string]Driver)
	}
	r.drivers[key] = d
}

// Lookup returns the driver registered under name. For an unknown name
// it returns an error that wraps [ErrUnknownDriver] and lists the known
// names.
func (r *Registry) Lookup(name string) (Driver, error) {
	key := NormalizeName(name)

	r.mu.RLock()
	d, ok := r.drivers[key]
	r.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w %q (known drivers: %s; a custom driver must be registered before use)",
			ErrUnknownDriver, name, strings.Join(r.Drivers(), ", "))
	}
	return d, nil
}

// Open looks the driver up by name and calls its Open method.
func (r *Registry) Open(ctx context.Context, name string, cfg Config) (Session, error) {
	d, err := r.Lookup(name)
	if err != nil {
		return nil, err
	}
	return d.Open(ctx, cfg)
}

// Drivers returns the sorted names of the registered drivers.
func (r *Registry) Drivers() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()

	names := make([]string, 0, len(r.drivers))
	for name := range r.drivers {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Register makes d available under name in the default registry. It
// panics on an empty name, a nil driver or a duplicate name.
func Register(name string, d Driver) { defaultRegistry.Register(name, d) }

// Lookup returns the driver registered under name in the default
// registry.
func Lookup(name string) (Driver, error) { return defaultRegistry.Lookup(name) }

// Open opens a session with the driver registered under name in the
// default registry.
func Open(ctx context.Context, name string, cfg Config) (Session, error) {
	return defaultRegistry.Open(ctx, name, cfg)
}

// Drivers returns the sorted names of the drivers in the default
// registry.
func Drivers() []string { return defaultRegistry.Drivers() }
