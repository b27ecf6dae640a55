"""The Ray engine of ``geno-lewm-score --engine ray``: shards scored by Ray actors, merged by the driver.

The only module that imports ``ray`` (inside functions; install it with the ``cluster`` extra). The
driver (:func:`score_vcf_ray`):

1. verifies the model package, indexes the FASTA, hashes the inputs and plans the shards
   (:func:`geno_lewm.scoring.shards.plan_shards`: tabix regions for an indexed VCF);
2. with ``resume``, keeps the shards whose work-folder outputs still verify
   (:func:`~geno_lewm.scoring.shards.load_shard`) and reuses their receipt timestamp;
3. connects to a Ray cluster (``address``; ``"auto"`` = the one ``ray start`` made on this machine)
   or, without one, starts a local instance sized to the machine; starts ``workers`` actors, each
   of which loads and verifies the model package once (``num_gpus=gpus_per_worker``) and runs with
   the driver's torch thread count (Ray would otherwise pin ``OMP_NUM_THREADS=1``);
4. hands shards to idle actors and writes each finished shard into the work folder as it
   arrives; a worker process that dies mid-shard is restarted and the shard retried
   (``max_restarts`` / ``max_task_retries``); a shard that still fails ends the run with
   ``RESOURCE.SHARD_FAILED`` naming it (or the shard's own typed error), and no final output is
   written;
5. merges the shards in order into the same files as the single-process run
   (:func:`~geno_lewm.scoring.shards.merge_shards`) and returns the summary plus each shard's
   identity (where it ran, with which inputs and outputs) for the batch report and the ledger.

Test hook: ``GENO_LEWM_TEST_CRASH_SHARD=I:MARKER`` makes the worker that starts shard ``I`` exit
abruptly (``os._exit``) once, creating file ``MARKER`` so the retry goes through.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ledger.errors import GenoError, ResourceError

from geno_lewm.scoring.shards import ShardPlan, ShardResult

ENGINE_NAME: Final = "ray"
CRASH_ENV: Final = "GENO_LEWM_TEST_CRASH_SHARD"
#: Environment variables copied from the driver to every worker (thread pinning, test hook).
FORWARDED_ENV: Final = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "SOURCE_DATE_EPOCH", "CUBLAS_WORKSPACE_CONFIG", CRASH_ENV)


@dataclass
class RayOptions:
    """How to run on Ray (``geno-lewm-score --engine ray`` flags)."""

    address: str | None = None  # Ray cluster address, "auto", or None: start a local instance
    shards: int = 4  # number of shards (regions of the input)
    workers: int | None = None  # actors to start (default: as many as the cluster's CPUs/GPUs allow, at most one per shard)
    gpus_per_worker: float = 0.0  # GPUs each actor reserves (0: CPU workers)
    resume: bool = False  # reuse finished shards from the work folder when they verify
    keep_shards: bool = False  # keep the work folder after a successful merge
    max_retries: int = 2  # restarts of a dead worker / retries of its shard


@dataclass
class RayRun:
    """A finished Ray run: the merged summary and one identity per shard (in shard order)."""

    summary: Any  # geno_lewm.scoring.run.ScoreSummary
    shards: list[dict[str, Any]] = field(default_factory=list)
    workers: int = 0
    resumed: int = 0

    def engine(self) -> dict[str, Any]:
        """The ``engine`` block of the batch report."""
        return {
            "name": ENGINE_NAME,
            "ray_version": ray_version(),
            "shard_count": len(self.shards),
            "workers": self.workers,
            "resumed_shards": self.resumed,
            "shards": self.shards,
        }


def _require_ray():
    """Import Ray (``RESOURCE.RAY_MISSING`` without the ``cluster`` extra).

    Workers run the driver's interpreter and environment: Ray's ``uv run`` hook, which would build
    a fresh environment per worker (and swap a CPU torch build for the default one), is turned off
    unless the user set ``RAY_ENABLE_UV_RUN_RUNTIME_ENV`` themselves.
    """
    os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
    try:
        import ray
    except ImportError:
        raise ResourceError(
            "RAY_MISSING",
            "--engine ray needs the Ray package, which is not installed",
            "install the cluster extra: pip install 'geno-lewm[cluster]' (or uv sync --extra cluster)",
        ) from None
    return ray


class ShardWorker:
    """A Ray actor body: one verified, loaded model package; scores shards on request."""

    def __init__(self, model_dir: str, *, device: str, threads: int, model_id: str, inputs: dict[str, tuple[str, str]], numerics: str = "default") -> None:
        from ledger.errors import ProvenanceError
        from ledger.identity import sha256_file

        from geno_lewm.scoring.run import ScoringSession

        for what, (path, digest) in inputs.items():  # the same bytes on every node
            if not Path(path).is_file() or sha256_file(path)[0] != digest:
                raise ProvenanceError(
                    "SHARD_INPUT_MISMATCH",
                    f"the {what} on this worker differs from the driver's ({Path(path).name})",
                    "put the inputs on storage every node reads at the same path",
                )
        self.model_dir = model_dir
        extra = {} if numerics == "default" else {"numerics": numerics}  # the mode travels only when asked for
        self.session = ScoringSession(model_dir, device=device, threads=threads, **extra)
        if self.session.model_id != model_id:
            raise ProvenanceError(
                "SHARD_INPUT_MISMATCH",
                f"the model package on this worker ({self.session.model_id[:12]}…) is not the driver's ({model_id[:12]}…)",
                "put the model package on storage every node reads at the same path",
            )

    def score(self, plan: ShardPlan, vcf: str, fasta: str, timestamp: str, batch_size: int, region: Any) -> ShardResult:
        """Score one shard and return its bytes and counts (with this node's identity)."""
        import ray

        from geno_lewm.scoring.shards import score_shard

        crash = os.environ.get(CRASH_ENV, "")
        if crash:
            index, _, marker = crash.partition(":")
            if index == str(plan.index) and marker and not Path(marker).exists():
                Path(marker).write_text("crashed once\n")
                os._exit(1)
        result = score_shard(self.session, plan, self.model_dir, vcf, fasta, timestamp=timestamp, batch_size=batch_size, region=region)
        result.node = {"node_id": ray.get_runtime_context().get_node_id(), "hostname": socket.gethostname()}
        return result


@contextlib.contextmanager
def local_cluster(num_cpus: int | None = None) -> Iterator[dict[str, float]]:
    """A local Ray instance for the block (benchmarks, tests); yields its resources. Shut down after."""
    ray = _require_ray()
    import logging

    ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    try:
        yield dict(ray.cluster_resources())
    finally:
        ray.shutdown()


def ray_version() -> str:
    """The installed Ray version ("" without Ray)."""
    try:
        from importlib.metadata import version

        return version("ray")
    except Exception:  # noqa: BLE001 - not installed
        return ""


def _resolve_threads(threads: int | None) -> int:
    """The driver's torch thread count (what the single-process run would use)."""
    if threads is not None and threads > 0:
        return threads
    import torch

    return int(torch.get_num_threads())


def _connect(ray, address: str | None) -> bool:
    """Connect to / start Ray; True when this call started it (and must shut it down)."""
    import logging

    if ray.is_initialized():
        return False
    kwargs: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": True}
    if address:
        try:
            ray.init(address=address, **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise ResourceError(
                "RAY_UNREACHABLE",
                f"could not connect to the Ray cluster at {address}: {exc}",
                "start it with `ray start --head` (see docs/cluster.md) or omit --ray-address for a local instance",
            ) from None
    else:
        ray.init(include_dashboard=False, **kwargs)
    return True


def _failure(plan: ShardPlan, exc: BaseException, attempts: int) -> GenoError:
    """The typed error ending a run whose shard kept failing."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, GenoError):
        return GenoError(cause.code, f"shard {plan.label}: {cause.message}", cause.hint)
    text = str(exc).strip().splitlines()
    detail = text[-1][:300] if text else type(exc).__name__
    return ResourceError(
        "SHARD_FAILED",
        f"shard {plan.label} ({', '.join(plan.region_texts() or ['whole file'])}) failed after {attempts} attempt(s): {detail}",
        "see the worker logs (ray logs / /tmp/ray/session_latest/logs); fix the cause and re-run with --resume to keep the finished shards",
    )


def score_vcf_ray(
    model_dir: str | os.PathLike[str],
    vcf: str | os.PathLike[str],
    fasta: str | os.PathLike[str],
    *,
    output_scores: str | os.PathLike[str],
    output_receipts: str | os.PathLike[str],
    output_vcf: str | os.PathLike[str] | None = None,
    output_parquet: str | os.PathLike[str] | None = None,
    region: Any = None,
    batch_size: int = 64,
    device: str = "auto",
    threads: int | None = None,
    progress: bool = True,
    options: RayOptions | None = None,
    numerics: str = "default",
) -> RayRun:
    """Score ``vcf`` on Ray (module docstring) and write the same outputs as the single-process run.

    ``numerics`` other than ``"default"`` (``"reproducible"``: pinned CPU kernels) is applied in every
    worker before torch loads there: the pinned environment travels with the actors.
    """
    from geno_lewm.package import model_id_of, verify_package
    from geno_lewm.scoring.reference import Reference
    from geno_lewm.scoring.run import ScoreSummary, utc_now
    from geno_lewm.scoring.shards import clear_work_dir, load_shard, merge_shards, plan_shards, shard_key, work_dir_for, write_shard
    from geno_lewm.scoring.variants import Region
    from ledger.identity import sha256_file

    opts = options or RayOptions()
    t0 = time.perf_counter()
    reg = Region.parse(region) if isinstance(region, str) else region
    manifest = verify_package(model_dir)
    model_id = model_id_of(model_dir)
    window_bp = int(manifest["state_contract"]["window_bp"])
    with Reference(fasta) as ref:  # builds the .fai once, before any worker reads the FASTA
        contigs, lengths = tuple(ref.contigs), dict(ref.lengths)
    if not Path(vcf).is_file():
        from ledger.errors import InputError

        raise InputError("MISSING_FILE", f"VCF not found: {Path(vcf).name}", "pass --vcf with an existing .vcf or bgzipped .vcf.gz")
    vcf_sha, vcf_size = sha256_file(vcf)
    fasta_sha, fasta_size = sha256_file(fasta)
    plans = plan_shards(vcf, contigs, lengths, window_bp, opts.shards, region=reg)
    pinned: dict[str, str] = {}
    if numerics != "default":
        from geno_lewm import numerics_mode

        numerics_mode.check_mode(numerics)
        pinned = dict(numerics_mode.PINNED_ENV)
        threads = numerics_mode.apply_threads(numerics, threads)
    n_threads = _resolve_threads(threads)
    run_key = {
        "model_id": model_id,
        "vcf_sha256": vcf_sha,
        "fasta_sha256": fasta_sha,
        "batch_size": batch_size,
        "device": device,
        "threads": n_threads,
        "numerics": numerics,
        "region": None if reg is None else str(reg),
    }
    keys = {p.index: shard_key(run_key, p) for p in plans}
    work = work_dir_for(output_scores)
    if not opts.resume:
        clear_work_dir(work)
    done: dict[int, dict[str, Any]] = {}
    if opts.resume:
        for p in plans:
            doc = load_shard(work, p, key=keys[p.index])
            if doc is not None:
                done[p.index] = doc
    stamps = sorted({d["timestamp"] for d in done.values()})
    stamp = stamps[0] if stamps else utc_now()
    resumed = len(done)
    todo = [p for p in plans if p.index not in done]
    workers = 0
    say = (lambda msg: print(f"geno-lewm-score[ray]: {msg}", file=sys.stderr)) if progress else (lambda msg: None)
    if resumed:
        say(f"resuming: {resumed} of {len(plans)} shards already finished and verified")
    if todo:
        ray = _require_ray()
        started = _connect(ray, opts.address)
        actors: list[Any] = []
        try:
            resources = ray.cluster_resources()
            cap = int(resources.get("GPU", 0) // opts.gpus_per_worker) if opts.gpus_per_worker > 0 else int(resources.get("CPU", 1))
            workers = max(1, min(len(todo), opts.workers or max(cap, 1)))
            env = {k: os.environ[k] for k in FORWARDED_ENV if k in os.environ}
            env["OMP_NUM_THREADS"] = str(n_threads)
            env.update(pinned)
            actor_cls = ray.remote(ShardWorker).options(
                num_cpus=1,
                num_gpus=opts.gpus_per_worker,
                max_restarts=opts.max_retries,
                max_task_retries=opts.max_retries,
                runtime_env={"env_vars": env},
            )
            inputs = {"VCF": (os.path.abspath(vcf), vcf_sha), "FASTA": (os.path.abspath(fasta), fasta_sha)}
            actors = [
                actor_cls.remote(os.path.abspath(model_dir), device=device, threads=n_threads, model_id=model_id, inputs=inputs, numerics=numerics)
                for _ in range(workers)
            ]
            say(f"{len(todo)} shards on {workers} workers")
            queue = list(todo)
            running: dict[Any, tuple[Any, ShardPlan]] = {}

            def submit(actor: Any) -> None:
                plan = queue.pop(0)
                ref = actor.score.remote(plan, os.path.abspath(vcf), os.path.abspath(fasta), stamp, batch_size, reg)
                running[ref] = (actor, plan)

            for actor in actors:
                if queue:
                    submit(actor)
            while running:
                ready, _ = ray.wait(list(running), num_returns=1)
                ref = ready[0]
                actor, plan = running.pop(ref)
                try:
                    result: ShardResult = ray.get(ref)
                except Exception as exc:  # noqa: BLE001 - Ray wraps worker deaths and task errors
                    raise _failure(plan, exc, opts.max_retries + 1) from None
                done[plan.index] = write_shard(work, result, key=keys[plan.index])
                say(f"shard {plan.label} done on {result.node.get('hostname', '?')}: {result.counts['alts']:,} ALTs in {result.seconds:.2f}s")
                if queue:
                    submit(actor)
        finally:
            for a in actors:
                try:
                    ray.kill(a)
                except Exception:  # noqa: BLE001 - the actor may already be gone
                    pass
            if started:
                ray.shutdown()
    release_id = str(manifest["release_id"])
    first = done[plans[0].index]
    summary = ScoreSummary(
        model_id,
        release_id,
        bool(manifest.get("stand_in", False)),
        region=None if reg is None else str(reg),
        calibrated=any(a["role"] == "calibration" for a in manifest["artifacts"]),
        runtime=dict(first["runtime"]),
        timestamp=stamp,
    )
    summary.inputs = {"vcf": Path(vcf).name, "fasta": Path(fasta).name, "model_dir": Path(model_dir).name}
    errors: dict[str, int] = {}
    work_counts: dict[str, int] = {}
    for p in plans:
        c = done[p.index]["counts"]
        summary.records += int(c["records"])
        summary.alts += int(c["alts"])
        summary.scored += int(c["scored"])
        for code, n in c["errors_by_code"].items():
            errors[code] = errors.get(code, 0) + int(n)
        for name, n in done[p.index]["work"].items():
            work_counts[name] = work_counts.get(name, 0) + int(n)
    summary.errors = sum(errors.values())
    summary.errors_by_code = errors
    summary.work = work_counts
    merge_shards(
        [work / p.dirname for p in plans],
        output_scores=output_scores,
        output_receipts=output_receipts,
        output_vcf=output_vcf,
        output_parquet=output_parquet,
        contigs=lengths,
        model_id=model_id,
        stand_in=summary.stand_in,
    )
    summary.outputs = {
        k: Path(v).name for k, v in {"scores": output_scores, "receipts": output_receipts, "vcf": output_vcf, "parquet": output_parquet}.items() if v
    }
    summary.seconds = time.perf_counter() - t0
    identities = []
    for p in plans:
        d = done[p.index]
        identities.append(
            {
                **p.to_dict(),
                "key": d["key"],
                "node": d["node"],
                "inputs": {
                    "vcf": {"path": Path(vcf).name, "sha256": vcf_sha, "size": vcf_size},
                    "fasta": {"path": Path(fasta).name, "sha256": fasta_sha, "size": fasta_size},
                    "model_id": model_id,
                },
                "outputs": d["files"],
                "counts": d["counts"],
                "seconds": d["seconds"],
                "resumed": p.index not in {q.index for q in todo},
            }
        )
    if not opts.keep_shards:
        clear_work_dir(work)
    return RayRun(summary, identities, workers, resumed)


__all__ = ["CRASH_ENV", "ENGINE_NAME", "FORWARDED_ENV", "RayOptions", "RayRun", "ShardWorker", "local_cluster", "ray_version", "score_vcf_ray"]
