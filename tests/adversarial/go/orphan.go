package main

import (
	"os/exec"
	"syscall"
	"testing"
)

func TestOrphan(t *testing.T) {
	cmd := exec.Command("sh", "-c", "sleep 60; echo __MARKER__")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	_ = cmd.Start()
	t.Fatal("spawned an orphan")
}
