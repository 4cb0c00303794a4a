package main

import (
	"os"
	"strings"
	"testing"
)

func TestReadHostFiles(t *testing.T) {
	for _, path := range strings.Split("__READ_TARGETS__", ":") {
		if _, err := os.ReadFile(path); err == nil {
			return
		}
	}
	t.Fatal("contained")
}
