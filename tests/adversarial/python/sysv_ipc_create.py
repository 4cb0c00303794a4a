# Leaves a SysV shared memory segment, semaphore set and message queue behind (sysv_ipc_check looks for them).
import ctypes

libc = ctypes.CDLL(None)
IPC_CREAT = 0o1000
assert libc.shmget(0x6F637431, 1 << 20, IPC_CREAT | 0o600) >= 0
assert libc.semget(0x6F637432, 1, IPC_CREAT | 0o600) >= 0
assert libc.msgget(0x6F637433, IPC_CREAT | 0o600) >= 0
