package main

import (
	"os"
	"testing"
)

func TestDiskFill(t *testing.T) {
	f, err := os.Create("fill.bin")
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for {
		if _, err := f.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
}
