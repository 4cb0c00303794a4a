package main

import "testing"

func TestMemoryBomb(t *testing.T) {
	var hoard [][]byte
	for {
		block := make([]byte, 64<<20)
		for i := range block {
			block[i] = 1
		}
		hoard = append(hoard, block)
	}
}
