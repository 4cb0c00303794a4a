import socket

connected = False
for path in "__SOCKETS__".split(":"):
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        client.connect(path)
        connected = True
    except OSError:
        pass
    finally:
        client.close()
if not connected:
    raise RuntimeError("contained")
