"""How long one job may run: a limit that follows the clip, for the local pool and the Celery workers alike.

    expected = overhead + seconds per video second x the clip's duration   (Settings.remote_job_overhead_s,
                                                                            Settings.remote_seconds_per_video_s)
    limit    = 1.5 x expected                                               the supervisor kills the worker
    cap      = Settings.job_timeout_s, when set: the shorter of the two wins

A clip whose duration cannot be read (the probe failed: the worker will fail on it with the probe's own error)
gets the limit of the longest accepted clip (`max_duration_s`). The Celery path adds its soft and hard limits on
top of the same numbers (`pose_service.jobs.remote.celery_app`).
"""

from __future__ import annotations

from dataclasses import dataclass

from pose_service.config import Settings

__all__ = ["RUN_FACTOR", "JobLimit", "expected_seconds", "human_duration", "job_limit"]

RUN_FACTOR = 1.5
CAP_SETTING = "POSE_SERVICE_JOB_TIMEOUT_S"


def expected_seconds(settings: Settings, duration_s: float) -> float:
    """The worker time a job on a clip of `duration_s` seconds is expected to take."""
    return settings.remote_job_overhead_s + settings.remote_seconds_per_video_s * max(0.0, duration_s)


def human_duration(seconds: float) -> str:
    """45 s, 1.5 s, 12 min 5 s, 7 h 33 min."""
    if seconds < 10:
        return f"{round(seconds, 1):g} s"
    if seconds < 60:
        return f"{round(seconds):.0f} s"
    if seconds < 3600:
        m, s = divmod(round(seconds), 60)
        return f"{m} min" + (f" {s} s" if s else "")
    h, m = divmod(round(seconds / 60), 60)
    return f"{h} h" + (f" {m} min" if m else "")


def _num(value: float) -> str:
    return f"{round(value, 1):g}"


@dataclass(frozen=True)
class JobLimit:
    """The wall-clock limit of one job, and where it comes from."""

    seconds: float  # the limit in force
    clip_s: float  # the clip's own limit: RUN_FACTOR x expected
    duration_s: float  # the clip's duration (the longest accepted when it could not be read)
    measured: bool  # whether duration_s was read from the clip
    overhead_s: float
    per_video_s: float
    cap_s: float | None = None  # job_timeout_s (or, on a remote worker, the API server's limit)
    cap_name: str = CAP_SETTING

    @property
    def capped(self) -> bool:
        """Whether the cap, not the clip, set the limit."""
        return self.cap_s is not None and self.cap_s < self.clip_s

    def formula(self) -> str:
        """How the clip's limit was computed: "1.5 x (120 s + 30 s/s x 600 s) = 7 h 33 min"."""
        return (f"{RUN_FACTOR:g} x ({_num(self.overhead_s)} s + {_num(self.per_video_s)} s/s x "
                f"{_num(self.duration_s)} s) "
                f"= {human_duration(self.clip_s)}")

    def describe(self) -> str:
        """Which limit is in force and why, one clause."""
        clip = (f"a {human_duration(self.duration_s)} clip" if self.measured
                else "a clip of unknown length (as for the longest accepted)")
        if self.capped:
            return (f"the limit is the cap {self.cap_name} = {human_duration(self.cap_s or 0.0)}, shorter than the "
                    f"limit for {clip}, {self.formula()}")
        return f"the limit for {clip} is {self.formula()}"

    def message(self, elapsed_s: float, stage: str) -> str:
        """The job's error when the limit stopped it."""
        return f"stopped after {human_duration(elapsed_s)} during stage {stage}: {self.describe()}"

    def hint(self) -> str:
        if self.capped:
            return f"raise or unset {self.cap_name}, or send a shorter clip"
        return ("raise POSE_SERVICE_REMOTE_SECONDS_PER_VIDEO_S (time per second of video) or "
                "POSE_SERVICE_REMOTE_JOB_OVERHEAD_S, or send a shorter clip")


def job_limit(settings: Settings, duration_s: float | None, *, cap_name: str = CAP_SETTING) -> JobLimit:
    """The limit of a job on a clip of `duration_s` seconds (None: unknown, the longest accepted clip's)."""
    known = duration_s if duration_s is not None else settings.max_duration_s
    clip = RUN_FACTOR * expected_seconds(settings, known)
    cap = settings.job_timeout_s
    return JobLimit(seconds=min(clip, cap) if cap is not None else clip, clip_s=clip, duration_s=known,
                    measured=duration_s is not None, overhead_s=settings.remote_job_overhead_s, per_video_s=settings.remote_seconds_per_video_s,
                    cap_s=cap, cap_name=cap_name)
