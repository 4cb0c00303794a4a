# Passes only if no SysV object an earlier job of its sandbox made (sysv_ipc_create) is still there.
import ctypes

libc = ctypes.CDLL(None)
assert libc.shmget(0x6F637431, 0, 0) == -1
assert libc.semget(0x6F637432, 0, 0) == -1
assert libc.msgget(0x6F637433, 0) == -1
