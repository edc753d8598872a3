package all

import (
	_ "github.com/tether-go/tether/driver/cloudflare"
	_ "github.com/tether-go/tether/driver/local"
	_ "github.com/tether-go/tether/driver/ngrok"
	_ "github.com/tether-go/tether/driver/ssh"
	_ "github.com/tether-go/tether/driver/static"
)
