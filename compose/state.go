package compose

import "fmt"

// openSharedState opens the waiter and run store that Config.State
// selects when it is not the in-memory default.
func openSharedState(p *Project) error {
	return &Problem{Path: "state.type", Msg: fmt.Sprintf("unsupported state type %q", p.cfg.State.Type)}
}
