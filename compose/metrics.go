package compose

import "net/http"

func metricsHandler(p *Project) http.Handler {
	return http.NotFoundHandler()
}
