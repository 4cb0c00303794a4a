package main

// Leaves a child holding its standard output and error for 30 s, then passes. The reference
// (go test under subprocess.run with capture_output and a timeout) waits for the end of output.

import (
	"os"
	"os/exec"
	"testing"
)

func TestStrayStdoutHolder(t *testing.T) {
	cmd := exec.Command("/bin/sleep", "30")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	_ = cmd.Start()
}
