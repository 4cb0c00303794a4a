import posix  # bypasses the reference's reliability_guard (subprocess.Popen is None)

posix.system("setsid sh -c 'sleep 60; echo __MARKER__' </dev/null >/dev/null 2>&1 &")
raise RuntimeError("spawned an orphan")
