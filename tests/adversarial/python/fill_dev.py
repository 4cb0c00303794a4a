written = False
for path in ("/dev/octopack-fill", "/octopack-fill"):
    try:
        with open(path, "wb") as f:
            f.write(b"x" * (1 << 20))
        written = True
    except OSError:
        pass
if not written:
    raise RuntimeError("contained")
