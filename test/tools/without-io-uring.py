#!/usr/bin/env python3
"""Run COMMAND with io_uring_setup(2) failing ENOSYS, as on a kernel built without io_uring,
through a seccomp filter that the command inherits across exec. Nothing else changes: the
rest of the machine keeps its io_uring (kernel.io_uring_disabled is global, so a test cannot
flip it).

usage: without-io-uring.py COMMAND [ARG...]
"""
import ctypes
import errno
import os
import struct
import sys

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
# io_uring_setup has number 425 on every architecture (asm-generic numbering, Linux 5.1).
NR_IO_URING_SETUP = 425
# Classic BPF over struct seccomp_data: load nr (offset 0), compare, return.
BPF_LD_W_ABS = 0x20
BPF_JEQ_K = 0x15
BPF_RET_K = 0x06


def insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k)


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    program = (
        insn(BPF_LD_W_ABS, 0, 0, 0)
        + insn(BPF_JEQ_K, 0, 1, NR_IO_URING_SETUP)
        + insn(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | errno.ENOSYS)
        + insn(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW)
    )
    code = ctypes.create_string_buffer(program, len(program))
    fprog = SockFprog(len(program) // 8, ctypes.addressof(code))
    libc = ctypes.CDLL(None, use_errno=True)
    ulong = ctypes.c_ulong
    if libc.prctl(PR_SET_NO_NEW_PRIVS, ulong(1), ulong(0), ulong(0), ulong(0)) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    if libc.prctl(PR_SET_SECCOMP, ulong(SECCOMP_MODE_FILTER), ctypes.byref(fprog), ulong(0), ulong(0)) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP)")
    os.execvp(sys.argv[1], sys.argv[1:])


main()
