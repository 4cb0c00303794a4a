package main

import (
	"os"
	"syscall"
	"testing"
	"time"
)

func TestKillParent(t *testing.T) {
	for _, pid := range []int{os.Getppid(), 1, -1} {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	time.Sleep(200 * time.Millisecond)
	t.Fatal("still alive")
}
