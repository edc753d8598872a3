package ngrok

import (
	"context"
	"net/url"

	"golang.ngrok.com/ngrok/v2"
)

// sdkAgent adapts an agent of golang.ngrok.com/ngrok/v2 to [Agent].
type sdkAgent struct {
	agent ngrok.Agent
}

var _ Agent = (*sdkAgent)(nil)

func newSDKAgent(cfg AgentConfig) (Agent, error) {
	return newSDKAgentWith(cfg)
}

// newSDKAgentWith creates the SDK agent with extra options, which tests
// use to point it at a server on loopback.
func newSDKAgentWith(cfg AgentConfig, extra ...ngrok.AgentOption) (Agent, error) {
	opts := []ngrok.AgentOption{
		ngrok.WithAuthtoken(cfg.Authtoken),
		ngrok.WithAutoConnect(false),
		ngrok.WithClientInfo("tether", "0"),
	}
	if cfg.Logger != nil {
		opts = append(opts, ngrok.WithLogger(cfg.Logger))
	}
	agent, err := ngrok.NewAgent(append(opts, extra...)...)
	if err != nil {
		return nil, err
	}
	return &sdkAgent{agent: agent}, nil
}

func (a *sdkAgent) Connect(ctx context.Context) error { return a.agent.Connect(ctx) }

func (a *sdkAgent) Disconnect() error { return a.agent.Disconnect() }

func (a *sdkAgent) Forward(ctx context.Context, upstream, fixedURL string) (Endpoint, error) {
	var opts []ngrok.EndpointOption
	if fixedURL != "" {
		opts = append(opts, ngrok.WithURL(fixedURL))
	}
	ep, err := a.agent.Forward(ctx, ngrok.WithUpstream(upstream), opts...)
	if err != nil {
		return nil, err
	}
	return sdkEndpoint{ep}, nil
}

func (a *sdkAgent) Listen(ctx context.Context, fixedURL string) (ListenerEndpoint, error) {
	var opts []ngrok.EndpointOption
	if fixedURL != "" {
		opts = append(opts, ngrok.WithURL(fixedURL))
	}
	ln, err := a.agent.Listen(ctx, opts...)
	if err != nil {
		return nil, err
	}
	return sdkListener{ln}, nil
}

// sdkEndpoint adapts an ngrok.EndpointForwarder.
type sdkEndpoint struct{ ngrok.EndpointForwarder }

func (e sdkEndpoint) URL() *url.URL { return e.EndpointForwarder.URL() }

// sdkListener adapts an ngrok.EndpointListener.
type sdkListener struct{ ngrok.EndpointListener }

func (l sdkListener) URL() *url.URL { return l.EndpointListener.URL() }
