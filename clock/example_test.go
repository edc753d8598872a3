package clock_test

import (
	"fmt"
	"time"

	"github.com/tether-go/tether/clock"
)

// Or falls back to the wall clock, so that options structs can leave
// their Clock field nil.
func ExampleOr() {
	c := clock.Or(nil)
	fired := make(chan struct{})
	c.AfterFunc(time.Millisecond, func() { close(fired) })
	<-fired
	fmt.Println(c.Now().IsZero())
	// Output: false
}
