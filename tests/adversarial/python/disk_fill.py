chunk = b"\0" * (1 << 20)
with open("fill.bin", "wb") as f:  # one big file: stopped by the file-size limit or the scratch size
    while True:
        f.write(chunk)
