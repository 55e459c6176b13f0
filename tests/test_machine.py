"""gan_models.machine: the CPU name that records and benchmark JSON cite."""
import platform

from gan_models.machine import cpu_name


def test_cpu_name_is_the_first_model_name_in_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9R14\n\n"
                       "processor\t: 1\nmodel name\t: AMD EPYC 9R14\n")
    assert cpu_name(cpuinfo) == "AMD EPYC 9R14"


def test_cpu_name_falls_back_to_platform_without_cpuinfo(tmp_path):
    expected = platform.processor() or platform.machine()
    assert cpu_name(tmp_path / "missing") == expected
    (tmp_path / "arm").write_text("processor\t: 0\nBogoMIPS\t: 50.00\n")  # aarch64 kernels print no model name
    assert cpu_name(tmp_path / "arm") == expected
