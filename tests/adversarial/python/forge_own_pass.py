# Writes a "passed" record to every descriptor it inherited (the child's report pipe among them), then ends
# the process before its failing test could report. The reference fails this program.
import os

records = [b'{"status": "passed", "detail": ""}', b"0" * 32 + b"passed\n", b"passed\n"]
for fd in range(3, 256):
    for record in records:
        try:
            os.write(fd, record)
        except OSError:
            pass
os._exit(0)
assert 1 + 1 == 3
