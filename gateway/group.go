package gateway

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Group is several gateways used together, as a "gateways:" list
// configures them. It finds the gateway that serves a port, so that
// ${gateway:PORT...} works across the list. Its methods are safe for
// concurrent use.
type Group struct {
	gateways []Gateway
	byPort   map[int]Gateway // fixed after NewGroup
}

// NewGroup returns a group of the given gateways. It fails when two of
// them serve the same local port, because ${gateway:PORT...} would be
// ambiguous.
func NewGroup(gateways ...Gateway) (*Group, error) {
	g := &Group{gateways: slices.Clone(gateways), byPort: map[int]Gateway{}}
	for i, gw := range gateways {
		for _, port := range gw.Ports() {
			if other, dup := g.byPort[port]; dup {
				return nil, fmt.Errorf("%w: local port %d is served by two gateways (%s and gateways[%d], %s); "+
					"each port may have one tunnel", ErrInvalidPort, port, other.Driver(), i, gw.Driver())
			}
			g.byPort[port] = gw
		}
	}
	return g, nil
}

// Start starts every gateway in order. When one fails, it shuts down
// those already started and returns the error.
func (g *Group) Start(ctx context.Context) error {
	for i, gw := range g.gateways {
		if err := gw.Start(ctx); err != nil {
			for _, started := range g.gateways[:i] {
				_ = started.Close()
			}
			return err
		}
	}
	return nil
}

// Endpoint returns the endpoint of the tunnel to the local port, from
// the gateway that serves it, as [Gateway.Endpoint] does.
func (g *Group) Endpoint(ctx context.Context, port int) (Endpoint, error) {
	gw, ok := g.byPort[port]
	if !ok {
		return Endpoint{}, fmt.Errorf("%w %d (the gateways serve ports %v)", ErrUnknownPort, port, g.Ports())
	}
	return gw.Endpoint(ctx, port)
}

// Ports returns the local ports of all gateways, sorted.
func (g *Group) Ports() []int {
	ports := make([]int, 0, len(g.byPort))
	for port := range g.byPort {
		ports = append(ports, port)
	}
	slices.Sort(ports)
	return ports
}

// Shutdown shuts every gateway down, concurrently, until ctx ends, and
// returns their errors joined. Gateways already closed are skipped.
func (g *Group) Shutdown(ctx context.Context) error {
	errs := make(chan error, len(g.gateways))
	for _, gw := range g.gateways {
		go func() {
			err := gw.Shutdown(ctx)
			if errors.Is(err, ErrClosed) {
				err = nil
			}
			errs <- err
		}()
	}
	var all []error
	for range g.gateways {
		all = append(all, <-errs)
	}
	return errors.Join(all...)
}

// Close is Shutdown without a deadline.
func (g *Group) Close() error { return g.Shutdown(context.Background()) }
