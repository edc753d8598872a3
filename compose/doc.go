// Package compose loads a tether configuration and wires it into a
// running project: listeners, gateways, components, workflows and the
// controller API.
//
// The configuration is the YAML of model-compose's "System Integration"
// chapter (http-callback and http-trigger listeners, ngrok, Cloudflare
// and SSH gateways, http-client components and the workflows that use
// them). A file written for that chapter loads and behaves the same way.
//
// # Loading
//
// [Load] and [Parse] decode YAML into a [Config] and check its structure:
// unknown keys, value types and required fields. [New] checks the
// configuration as a whole (references between sections, templates,
// driver settings, ${gateway:PORT} references) and builds a [Project]
// without opening any socket. Both report every mistake at once as
// [Problems], each naming the YAML path, the file and the line:
//
//	tether.yml:12: listener.callbacks[1].path: required: the route of this endpoint, such as /callback
//	tether.yml:4: listener.runtime: docker is not supported: ...
//
// Each problem wraps [ErrInvalidConfig].
//
// Values needed when the project starts (ports, hosts, gateway settings,
// signature secrets, durations, the Redis URL) may be ${env.*} templates
// such as "${env.PORT | 8090}"; they are expanded by New. Every other
// template is compiled once by New and evaluated per request or run.
//
// # Running
//
// [Project.Up] starts the listeners, then the gateways, then the
// controller; [Project.Run] and [Project.Start] run workflows from Go;
// [Project.Shutdown] stops taking requests, lets running workflows finish
// until its context ends, and stops the rest. [Options.Ephemeral] binds
// every server to a free loopback port, for tests.
//
// # Sections
//
// The singular keys (listener, gateway, component, workflow) take one
// block and the plural keys a list. Components and workflows may also be
// a mapping from id to block. A workflow without an id is named
// [DefaultWorkflowID], and a component written under "component" without
// an id is named [DefaultComponentID].
//
// Components written in Go are passed in [Options.Components] and
// referred to by id from jobs, like http-client components from YAML.
//
// # Controller
//
// The controller serves the HTTP API that model-compose clients use, at
// 127.0.0.1:8080 under /api unless the controller section says otherwise:
// POST /api/workflows/runs, GET /api/tasks/{id}, POST
// /api/tasks/{id}/cancel, GET /api/tasks, GET /api/workflows and GET
// /api/health. Errors are JSON objects with a "detail" field.
package compose
