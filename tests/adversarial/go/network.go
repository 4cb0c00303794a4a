package main

import (
	"net"
	"testing"
	"time"
)

func TestNetwork(t *testing.T) {
	conn, err := net.DialTimeout("tcp", "127.0.0.1:__PORT__", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
}
