"""A worker's CPU budget is re-armed before every file, however many it has read.

A process may not raise its hard CPU limit once it has set one, so re-arming must
move only the soft limit; otherwise a worker that had read a few thousand returns
died on an ordinary one (seen at 10,000 returns: one file per worker reported as
too slow)."""
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX limits")

SCRIPT = """
import resource, types
from xltool.reading import isolation
limits = isolation.Limits(cpu_seconds=1)
isolation._arm_cpu_limit(limits)
first = resource.getrlimit(resource.RLIMIT_CPU)
real = resource.getrusage
resource.getrusage = lambda who: types.SimpleNamespace(ru_utime=100.0, ru_stime=0.0)
isolation._arm_cpu_limit(limits)  # as after 100 s of reading other files
resource.getrusage = real
print(first[0], resource.getrlimit(resource.RLIMIT_CPU)[0])
"""


def test_the_budget_moves_with_the_files_read():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True)
    first, later = map(int, out.stdout.split())
    assert first <= 3  # one second from now, give or take start-up
    assert later == 102  # 100 s used + 1 s of budget + the rounding up
