package main

import (
	"net"
	"strings"
	"testing"
)

func TestUnixSocket(t *testing.T) {
	for _, path := range strings.Split("__SOCKETS__", ":") {
		if conn, err := net.Dial("unix", path); err == nil {
			conn.Close()
			return
		}
	}
	t.Fatal("contained")
}
