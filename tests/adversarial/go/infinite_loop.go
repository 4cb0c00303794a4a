package main

import "testing"

func TestInfiniteLoop(t *testing.T) {
	for {
	}
}
