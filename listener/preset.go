package listener

import (
	"slices"
	"strings"
)

// Preset names for the Preset field of [Callback] and [Trigger]. Each
// preset adds the responses and idempotency key that a provider needs.
// The endpoint's own Responses are checked before the preset's, and its
// own IdempotencyKey and Reply take precedence.
const (
	// PresetSlackEvents replies to Slack's URL verification request
	// ({"type":"url_verification","challenge":...}) by echoing the
	// challenge. On triggers it uses the event id
	// (${body.event_id}) as the idempotency key, so Slack's retries
	// (marked by X-Slack-Retry-Num) start nothing twice.
	PresetSlackEvents = "slack-events"
	// PresetDiscordInteractions replies to Discord's PING ({"type":1}) with
	// {"type":1}. On triggers it uses the interaction id (${body.id}) as
	// the idempotency key and replies {"type":5}
	// (DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE), because Discord expects a
	// reply within 3 seconds. Autocomplete interactions (type 4) need a
	// type 8 reply instead, which the preset does not send.
	PresetDiscordInteractions = "discord-interactions"
	// PresetGitHub acknowledges GitHub's ping event without starting or
	// resuming anything. On triggers it uses the X-GitHub-Delivery header
	// as the idempotency key.
	PresetGitHub = "github"
	// PresetStripe uses the event id (${body.id}) as the idempotency key
	// on triggers.
	PresetStripe = "stripe"
	// PresetStandardWebhooks uses the webhook-id header of the Standard
	// Webhooks specification as the idempotency key on triggers.
	PresetStandardWebhooks = "standard-webhooks"
)

type preset struct {
	responses      []Response
	idempotencyKey string
	triggerReply   *Reply
}

var presets = map[string]preset{
	PresetSlackEvents: {
		responses: []Response{{
			When:   "${body.type}",
			Equals: []string{"url_verification"},
			Body:   map[string]any{"challenge": "${body.challenge}"},
		}},
		idempotencyKey: "${body.event_id}",
	},
	PresetDiscordInteractions: {
		responses: []Response{{
			When:   "${body.type}",
			Equals: []string{"1"},
			Body:   map[string]any{"type": 1},
		}},
		idempotencyKey: "${body.id}",
		triggerReply:   &Reply{Body: map[string]any{"type": 5}},
	},
	PresetGitHub: {
		responses: []Response{{
			When:   "${header.X-GitHub-Event}",
			Equals: []string{"ping"},
			Body:   map[string]any{"status": "ignored"},
		}},
		idempotencyKey: "${header.X-GitHub-Delivery}",
	},
	PresetStripe: {
		idempotencyKey: "${body.id}",
	},
	PresetStandardWebhooks: {
		idempotencyKey: "${header.webhook-id}",
	},
}

// Presets returns the names of the built-in presets, sorted.
func Presets() []string {
	names := make([]string, 0, len(presets))
	for name := range presets {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

func lookupPreset(field, name string) (preset, error) {
	if name == "" {
		return preset{}, nil
	}
	p, ok := presets[name]
	if !ok {
		return preset{}, invalid(field+".preset", "unknown preset %q; use one of %s", name, strings.Join(Presets(), ", "))
	}
	return p, nil
}
