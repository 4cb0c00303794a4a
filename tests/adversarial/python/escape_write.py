import posix  # the reference's reliability_guard disables os.remove; posix.unlink is what an attack would use

breached = False
try:
    posix.unlink("__CANARY__")
    breached = True
except OSError:
    pass
try:
    with open("__CANARY_DIR__/intruder.txt", "w") as f:
        f.write("escaped")
    breached = True
except OSError:
    pass
if not breached:
    raise RuntimeError("contained")
