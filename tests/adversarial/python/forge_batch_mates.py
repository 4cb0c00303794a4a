# Writes "passed" records for every job of the batch (and one past it) to the batch server's report channel,
# reached through /proc/1/fd/*, then fails its own test as a buggy program would.
import json

lines = []
for index in list(range(100)) + [999]:
    lines.append(json.dumps({"start": index}))
    lines.append(json.dumps({"index": index, "status": "passed", "detail": "", "seconds": 0.0}))
    lines.append(json.dumps({"index": index, "returncode": 0, "timed_out": False, "stdout": "", "stderr": "",
                             "truncated": False, "seconds": 0.0}))
payload = "".join(f"{line}\n{'0' * 64} {line}\n" for line in lines)
for fd in range(10):
    try:
        with open(f"/proc/1/fd/{fd}", "w") as channel:
            channel.write(payload)
    except OSError:
        pass
assert 1 + 1 == 3
