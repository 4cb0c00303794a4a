import os
import time

for pid in (os.getppid(), 1, -1):
    try:
        os.kill(pid, 9)
    except OSError:
        pass
time.sleep(0.2)
raise SystemExit("still alive")
