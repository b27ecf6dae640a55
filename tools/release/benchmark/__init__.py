"""Benchmark release inputs: the benchmark command graph (:mod:`.suite`), release-input readiness
from its executed report (:mod:`.readiness`) and an accepted re-scope of a failed rollout-speed
target (:mod:`.speed_scope`). The steps keep their public paths (``tools.release.v02_benchmark_suite``,
``tools.release.v02_benchmark_readiness``, ``tools.release.rollout_speed_scope``).
"""
