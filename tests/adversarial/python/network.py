import socket

socket.create_connection(("127.0.0.1", __PORT__), timeout=2).close()
