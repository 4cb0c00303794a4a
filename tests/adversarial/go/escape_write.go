package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestEscapeWrite(t *testing.T) {
	removeErr := os.Remove("__CANARY__")
	writeErr := os.WriteFile(filepath.Join("__CANARY_DIR__", "intruder.txt"), []byte("escaped"), 0o644)
	if removeErr != nil && writeErr != nil {
		t.Fatal("contained")
	}
}
