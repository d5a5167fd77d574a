//go:build !linux

package greet

import (
	"errors"
	"fmt"
	"net"
)

func listenFull(addr string) (net.Listener, func(), error) {
	return nil, nil, stepError(StepListen, addr, fmt.Errorf("the syn-drop scenario: %w here", errors.ErrUnsupported))
}
