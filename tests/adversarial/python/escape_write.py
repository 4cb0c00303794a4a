import os

breached = False
try:
    os.remove("__CANARY__")
    breached = True
except OSError:
    pass
try:
    with open(os.path.join("__CANARY_DIR__", "intruder.txt"), "w") as f:
        f.write("escaped")
    breached = True
except OSError:
    pass
if not breached:
    raise SystemExit("contained")
