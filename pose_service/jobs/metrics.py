"""Prometheus metrics of one server process, on their own registry (so tests can run several apps)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = ["ServiceMetrics"]


class _JobsByState(Collector):
    def __init__(self, counts: Callable[[], dict[str, int]]) -> None:
        self._counts = counts

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("pose_service_jobs", "jobs in the store, by state", labels=["state"])
        for state, n in self._counts().items():
            family.add_metric([state], n)
        yield family


class ServiceMetrics:
    """Jobs by state (read from the store at scrape time), stage durations, upload bytes, worker restarts."""

    def __init__(self, job_counts: Callable[[], dict[str, int]]) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(_JobsByState(job_counts))
        self.stage_seconds = Histogram(
            "pose_service_stage_seconds",
            "time a worker spent in each pipeline stage",
            ["stage"],
            buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600),
            registry=self.registry,
        )
        self.upload_bytes = Counter(
            "pose_service_upload_bytes", "bytes received in uploads", ["kind"], registry=self.registry
        )
        self.worker_restarts = Counter(
            "pose_service_worker_restarts", "worker runs cut off and queued again", ["reason"], registry=self.registry
        )
        self.job_outcomes = Counter(
            "pose_service_job_outcomes", "worker runs by how they ended", ["outcome"], registry=self.registry
        )
