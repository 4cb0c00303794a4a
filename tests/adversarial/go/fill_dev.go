package main

import (
	"os"
	"testing"
)

func TestFillDev(t *testing.T) {
	for _, path := range []string{"/dev/octopack-fill", "/octopack-fill"} {
		if os.WriteFile(path, make([]byte, 1<<20), 0o644) == nil {
			return
		}
	}
	t.Fatal("contained")
}
