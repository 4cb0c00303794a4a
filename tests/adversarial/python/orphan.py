import subprocess

subprocess.Popen(
    ["sh", "-c", "sleep 60; echo __MARKER__"],
    start_new_session=True,
    stdin=subprocess.DEVNULL,
    stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL,
)
raise SystemExit("spawned an orphan")
