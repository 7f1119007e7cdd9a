#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Hostile clients on the scx_stats endpoint of fake-daemon (the real
transport around a fake scheduler): malformed JSON and unknown requests get
an errno reply and the connection stays usable; a 1 MB line is refused and
the connection closed; a client that pipelines and never reads neither
stalls others nor keeps its slot past the idle timeout; 1,000 connections
are capped, the refused told EBUSY, and meanwhile the control socket and,
afterwards, the endpoint answer as before. And a world-writable socket
directory is refused, as the control socket's is.

usage: test-scxstats-abuse.py CTL FAKE_DAEMON       (TAP on stdout)
"""
import errno
import json
import os
import resource
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from tap import ok, end as tap_end  # noqa: E402

CTL, FAKE = sys.argv[1], sys.argv[2]
MAX_CLIENTS = 32          # SXS_MAX_CLIENTS
IDLE_MS = 3000            # the endpoint's idle timeout for this run


def connect(path, timeout=5):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # Blocking: a non-blocking Unix connect fails with EAGAIN when the backlog is full.
    s.connect(path)
    s.settimeout(timeout)
    return s


def read_line(s, deadline=5):
    """One reply line, or None at EOF / timeout."""
    buf = b''
    end = time.monotonic() + deadline
    while b'\n' not in buf:
        left = end - time.monotonic()
        if left <= 0:
            return None
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except (socket.timeout, ConnectionResetError):
            return None
        if not chunk:
            return None
        buf += chunk
    return json.loads(buf.split(b'\n', 1)[0])


def ask(s, line):
    s.sendall(line + b'\n')
    return read_line(s)


def stats_ok(path):
    try:
        with connect(path) as s:
            r = ask(s, b'{"req":"stats","args":{"target":"top"}}')
            return r is not None and r['errno'] == 0 and 'nodes' in r['args']['resp']
    except OSError:
        return False


tmp = tempfile.mkdtemp()
# Whoever may write the socket's directory could swap the socket: such a directory is refused.
open_dir = os.path.join(tmp, 'open')
os.mkdir(open_dir)
os.chmod(open_dir, 0o777)
r = subprocess.run([FAKE, os.path.join(tmp, 'c0.sock'), '--stats-socket', os.path.join(open_dir, 'stats')],
                   capture_output=True, timeout=10)
ok(r.returncode != 0 and b'scx_stats: socket directory' in r.stderr and b'writable by group or others' in r.stderr,
   'a world-writable directory for the endpoint is refused, and said why', r.stderr.decode())

ctl_sock = os.path.join(tmp, 'run', 'control.sock')
path = os.path.join(tmp, 'scx', 'root', 'stats')
env = dict(os.environ, SCX_STATS_IDLE_MS=str(IDLE_MS))
daemon = subprocess.Popen([FAKE, ctl_sock, '--stats-socket', path], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, env=env)
try:
    if daemon.stdout.readline().strip() != b'ready':
        print('Bail out! fake-daemon did not start')
        sys.exit(2)
    ok(stats_ok(path), 'a well-behaved client gets stats')

    # Malformed JSON, a non-object, unknown req and target: EINVAL, and the connection goes on.
    with connect(path) as s:
        for line, what in ((b'{"req":', 'malformed JSON'), (b'[1,2]', 'a JSON array'),
                           (b'{"req":"reboot","args":{}}', 'an unknown req'),
                           (b'{"req":"stats","args":{"target":"nope"}}', 'an unknown target'),
                           (b'{"req":"stats","args":{"target":1}}', 'args that are not strings'),
                           (b'{"req":"stats","req":"stats_meta"}', 'a duplicate key')):
            r = ask(s, line)
            ok(r is not None and r['errno'] == errno.EINVAL and isinstance(r['args']['resp'], str),
               f'{what} gets errno EINVAL and a message', r)
        r = ask(s, b'{"req":"stats_meta","args":{}}')
        ok(r is not None and r['errno'] == 0, 'the same connection still answers stats_meta', r)

    # A 1 MB line: refused with EMSGSIZE and closed, long before the daemon read it all.
    with connect(path) as s:
        try:
            s.sendall(b'{"req":"' + b'x' * (1 << 20) + b'"}\n')
        except OSError:
            pass            # closed under our feet: what should happen
        r = read_line(s)
        ok(r is not None and r['errno'] == errno.EMSGSIZE, 'a 1 MB line gets errno EMSGSIZE', r)
        ok(read_line(s, 2) is None, 'and the connection is closed')
    ok(stats_ok(path), 'the endpoint answers after the 1 MB line')

    # Pipelines thousands of requests and never reads.
    hog = connect(path)
    hog.setblocking(False)
    req = b'{"req":"stats_meta","args":{}}\n' * 1000
    sent = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < 2:
        try:
            sent += hog.send(req)
        except BlockingIOError:
            time.sleep(0.05)
        except OSError:
            break
    t1 = time.monotonic()
    alive = stats_ok(path)
    ok(alive and time.monotonic() - t1 < 2,
       f'while a client that never reads has {sent} bytes of requests queued, another is answered at once')
    # The slot comes back after the idle timeout: the hog sees EOF (what it gets is bounded).
    got, eof, end = 0, False, time.monotonic() + IDLE_MS / 1000 * 3 + 2
    time.sleep(IDLE_MS / 1000 + 0.5)
    while time.monotonic() < end and not eof:
        select.select([hog], [], [], 0.5)
        try:
            chunk = hog.recv(1 << 20)
            got += len(chunk)
            eof = not chunk
        except BlockingIOError:
            pass
        except OSError:
            eof = True
    hog.close()
    ok(eof, 'the client that never reads is closed after the idle timeout')
    ok(got < 4 << 20, f'and what was computed for it is bounded ({got} bytes of replies)')

    # 1,000 connections at once.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    socks = []
    why = ''
    for _ in range(1000):
        try:
            socks.append(connect(path, timeout=10))
        except OSError as e:
            why = str(e)
            break
    ok(len(socks) == 1000, f'1,000 connections are made ({len(socks)})', why)
    time.sleep(0.5)
    refused = held = 0
    for s in socks:
        s.setblocking(False)
        try:
            data = s.recv(4096)
        except BlockingIOError:
            held += 1
            continue
        except OSError:
            continue
        if data and json.loads(data.split(b'\n')[0]).get('errno') == errno.EBUSY:
            refused += 1
    ok(held <= MAX_CLIENTS, f'at most {MAX_CLIENTS} are served at once ({held} held)')
    ok(refused >= len(socks) - MAX_CLIENTS, f'the rest are told EBUSY ({refused} refused)')
    t0 = time.monotonic()
    st = subprocess.run([CTL, '-s', ctl_sock, 'status'], capture_output=True, timeout=10)
    ok(st.returncode == 0 and time.monotonic() - t0 < 3,
       'meanwhile the control socket answers', st.stderr.decode())
    for s in socks:
        s.close()
    time.sleep(0.3)
    ok(stats_ok(path), 'once they are gone, a new client gets stats')
    ok(daemon.poll() is None, 'the daemon is still running')
finally:
    daemon.terminate()
    daemon.wait()
    shutil.rmtree(tmp, ignore_errors=True)
tap_end()
