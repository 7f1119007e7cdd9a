# SPDX-License-Identifier: GPL-2.0
"""TAP for the Python tests: numbered ok/not ok lines, the failed check's
detail as comments, and end() for the plan and the exit status."""
import sys

_n = _failed = 0


def ok(cond, what, detail=''):
    global _n, _failed
    _n += 1
    _failed += not cond
    print(('ok' if cond else 'not ok'), _n, '-', what)
    if not cond and detail:
        for line in str(detail).splitlines()[-20:]:
            print('#  ', line)
    sys.stdout.flush()


def end():
    print(f'1..{_n}')
    sys.exit(1 if _failed else 0)
