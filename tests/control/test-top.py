#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""`scx-ai-numactl top` on a terminal (a pty) against fake-daemon: it redraws
in place (cursor home and clear before each frame, one frame a second),
shows a row for every node of the Stats reply and the placed jobs' section,
leaves on q without Enter and on Ctrl-C, with status 0, and gives the
terminal back in canonical mode with echo.

usage: test-top.py CTL FAKE_DAEMON       (TAP on stdout)
"""
import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import tempfile
import termios
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from tap import ok, end as tap_end  # noqa: E402

CTL, FAKE = sys.argv[1], sys.argv[2]
CLEAR = b'\x1b[H\x1b[2J'


def run_top(sock, key, wait=2.5):
    """Start top on a pty, read for @wait s, send @key; (exit status, seconds to exit, output, lflag after)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(CTL, [CTL, '-s', sock, 'top'])
    out = b''
    end = time.monotonic() + wait
    while time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                out += os.read(fd, 65536)
            except OSError:
                break
    os.write(fd, key)
    t0 = time.monotonic()
    status = None
    while time.monotonic() - t0 < 5:
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = os.waitstatus_to_exitcode(st)
            break
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                out += os.read(fd, 65536)
            except OSError:
                pass
    took = time.monotonic() - t0
    lflag = termios.tcgetattr(fd)[3]
    if status is None:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    os.close(fd)
    return status, took, out, lflag


tmp = tempfile.mkdtemp()
sock = os.path.join(tmp, 'run', 'control.sock')
daemon = subprocess.Popen([FAKE, sock], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
try:
    if daemon.stdout.readline().strip() != b'ready':
        print('Bail out! fake-daemon did not start')
        sys.exit(2)
    stats = json.loads(subprocess.run([CTL, '-s', sock, '--json', 'stats'], capture_output=True,
                                      check=True).stdout)
    nodes = [nd['node'] for nd in stats['nodes']]

    status, took, out, lflag = run_top(sock, b'q')
    frames = out.count(CLEAR)
    ok(frames >= 2, f'top redraws in place, a frame a second ({frames} frames in 2.5 s)', out[-400:])
    last = out.rsplit(CLEAR, 1)[-1].decode(errors='replace')
    rows = [nd for nd in nodes if re.search(rf'^\s*{nd}\s+\d+/\d+\s', last, re.M)]
    ok(rows == nodes, f'a row for each node of the Stats reply ({nodes})', last)
    ok('LOCALITY' in last and 'FAR/s' in last and 'WAKE p99' in last and 'no placed jobs' in last,
       'with the locality, far-migration and wake-latency columns and the placed jobs', last)
    ok(status == 0 and took < 1.5, f'q leaves at once with status 0 (status {status}, {took:.2f} s)')
    ok(lflag & termios.ICANON and lflag & termios.ECHO, 'and the terminal is back in canonical mode with echo')

    status, took, out, lflag = run_top(sock, b'\x03', wait=1.2)
    ok(status == 0 and took < 1.5, f'Ctrl-C leaves with status 0 (status {status}, {took:.2f} s)')
    ok(lflag & termios.ICANON and lflag & termios.ECHO, 'and the terminal is restored after Ctrl-C too')
finally:
    daemon.terminate()
    daemon.wait()
    shutil.rmtree(tmp, ignore_errors=True)
tap_end()
