package main

import (
	"os"
	"strings"
	"testing"
)

func TestOutputFlood(t *testing.T) {
	line := []byte(strings.Repeat("x", 1000) + "\n")
	for {
		os.Stdout.Write(line)
	}
}
