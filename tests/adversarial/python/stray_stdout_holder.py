# Leaves a child (forked through libc: os.fork is disabled) that keeps the inherited streams for 30 s, then
# passes. The reference runs Python in-process and never waits for such a child: passed.
import ctypes
import time

if ctypes.CDLL(None).fork() == 0:
    time.sleep(30)
