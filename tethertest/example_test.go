package tethertest_test

import (
	"fmt"
	"time"

	"github.com/tether-go/tether/tethertest"
)

func ExampleClock() {
	c := tethertest.NewClock()
	done := make(chan struct{})
	c.AfterFunc(5*time.Minute, func() { close(done) })

	c.Advance(5 * time.Minute) // fires the timer without sleeping
	<-done
	fmt.Println(c.Now().Sub(tethertest.Epoch))
	// Output: 5m0s
}

func ExampleBehavior() {
	b := tethertest.Complete(map[string]any{"url": "https://cdn.test/cat.png"}).Duplicated().OutOfOrder()
	for _, c := range b.Callbacks {
		fmt.Println(c.Status)
	}
	fmt.Println(b.When)

	fmt.Println(tethertest.Fail("out of memory").Early().When)
	// Output:
	// completed
	// completed
	// processing
	// AfterResponse
	// BeforeResponse
}
