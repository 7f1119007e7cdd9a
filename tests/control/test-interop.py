#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The control socket against a standard varlink client: the reference
Python implementation (python3-varlink) parses both interface descriptions,
calls every method through its generated proxies, receives our errors, and
follows a "more" stream. Usage: test-interop.py FAKE_DAEMON (TAP on stdout)."""

import os
import shutil
import subprocess
import sys
import tempfile
import time

import varlink

IFACE = "io.scx-ai-numa"
count = 0
failed = 0


def check(ok, what):
    global count, failed
    count += 1
    if not ok:
        failed += 1
    print(f"{'ok' if ok else 'not ok'} {count} - {what}", flush=True)


def main():
    tmp = tempfile.mkdtemp()
    sock = os.path.join(tmp, "control.sock")
    daemon = subprocess.Popen([sys.argv[1], sock], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        if daemon.stdout.readline().strip() != b"ready":
            print("Bail out! fake-daemon did not start")
            return 1
        address = "unix:" + sock
        with varlink.Client(address) as client:
            with client.open("org.varlink.service") as svc:
                info = svc.GetInfo()
                check(IFACE in info["interfaces"], "GetInfo lists " + IFACE)
                for name in info["interfaces"]:
                    desc = svc.GetInterfaceDescription(name)["description"]
                    try:
                        parsed = varlink.Interface(desc)
                        check(parsed.name == name, f"the reference parser reads {name}'s description")
                    except Exception as e:  # the parser raises plain exceptions
                        check(False, f"the reference parser reads {name}'s description: {e}")

            with client.open(IFACE) as ctl:
                check(ctl.Status()["state"] == "running", "Status through the generated proxy")
                check(len(ctl.Topology()["nodes"]) == 2, "Topology")
                names = [t["name"] for t in ctl.ListTunables()["tunables"]]
                check("slice_ns" in names, "ListTunables")
                tun = ctl.GetTunable(name="slice_ns")["tunable"]
                before, allowed = tun["value"], f"{tun['min']}..{tun['max']}"
                r = ctl.SetTunable(name="slice_ns", value="5ms")
                check(r["tunable"]["value"] == 5000000 and r["previous"] == before, "SetTunable 5ms")
                try:
                    ctl.SetTunable(name="slice_ns", value="-5")
                    check(False, "SetTunable -5 is refused")
                except varlink.VarlinkError as e:
                    check(e.error() == IFACE + ".InvalidValue" and allowed in e.parameters()["message"],
                          "SetTunable -5 raises InvalidValue naming the range")
                try:
                    ctl.GetTunable(name="nope")
                    check(False, "GetTunable nope is refused")
                except varlink.VarlinkError as e:
                    check(e.error() == IFACE + ".UnknownTunable" and "steal" in e.parameters()["known"],
                          "GetTunable nope raises UnknownTunable with the known names")
                ctl.SetTunable(name="steal", value="off", _oneway=True)
                check(ctl.GetTunable(name="steal")["tunable"]["text"] == "off", "a oneway SetTunable applies")
                seen = []
                for reply in ctl.Stats(_more=True):
                    seen.append(reply["total"]["direct"])
                    if len(seen) == 3:
                        break
                check(len(seen) == 3 and seen[0] < seen[1] < seen[2],
                      f"a Stats stream delivers samples that move: {seen}")
        return 0
    finally:
        daemon.terminate()
        daemon.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    rc = main()
    print(f"1..{count}")
    sys.exit(rc or (1 if failed else 0))
