"""The name of the CPU a measurement ran on, for the records and benchmark JSON that cite it.

`platform.processor()` is empty on most Linux systems and `platform.machine()` says only "x86_64",
which does not tell an AVX2 machine from an AVX-512 one; /proc/cpuinfo's model name does.
"""
import platform
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")


def cpu_name(cpuinfo: Path = CPUINFO) -> str:
    """The first "model name" in `cpuinfo` (e.g. "AMD EPYC"), else platform's processor or machine type."""
    try:
        lines = cpuinfo.read_text().splitlines()
    except OSError:
        lines = []
    names = (line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    return next(names, None) or platform.processor() or platform.machine()
