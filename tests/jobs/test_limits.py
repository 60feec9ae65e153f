"""The local job's time limit: from the clip's duration, as the Celery path computes it, with an optional cap."""

from __future__ import annotations

import pytest

from pose_service.config import Settings
from pose_service.jobs.limits import human_duration, job_limit
from pose_service.jobs.remote.celery_app import job_limits


def test_the_limit_is_one_and_a_half_times_the_expected_time() -> None:
    s = Settings(remote_job_overhead_s=120, remote_seconds_per_video_s=30)
    limit = job_limit(s, 600.0)
    assert limit.seconds == pytest.approx(1.5 * (120 + 30 * 600)) == pytest.approx(27180)
    assert not limit.capped and limit.measured
    assert limit.describe() == "the limit for a 10 min clip is 1.5 x (120 s + 30 s/s x 600 s) = 7 h 33 min"
    assert limit.message(4320, "pose") == ("stopped after 1 h 12 min during stage pose: the limit for a 10 min "
                                           "clip is 1.5 x (120 s + 30 s/s x 600 s) = 7 h 33 min")
    # The same numbers as the Celery path's supervisor limit.
    for duration in (0.0, 4.2, 600.0, 7200.0):
        assert job_limit(s, duration).seconds == pytest.approx(job_limits(s, duration).run_s)
    # A 2-hour clip is no longer cut off at a fixed 3 hours.
    assert job_limit(s, 7200.0).seconds > 4 * 3600


def test_job_timeout_s_caps_the_limit_and_the_shorter_wins() -> None:
    capped = job_limit(Settings(job_timeout_s=3 * 3600.0), 7200.0)
    assert capped.capped and capped.seconds == 3 * 3600.0
    assert capped.describe().startswith("the limit is the cap POSE_SERVICE_JOB_TIMEOUT_S = 3 h, shorter than the "
                                        "limit for a 2 h clip, 1.5 x (120 s + 30 s/s x 7200 s) = ")
    assert "POSE_SERVICE_JOB_TIMEOUT_S" in capped.hint()
    loose = job_limit(Settings(job_timeout_s=10 * 3600.0), 60.0)  # a cap longer than the clip's limit: the clip's
    assert not loose.capped and loose.seconds == pytest.approx(1.5 * (120 + 30 * 60))
    assert "SECONDS_PER_VIDEO_S" in loose.hint()


def test_a_clip_that_cannot_be_read_gets_the_longest_clips_limit() -> None:
    s = Settings(max_duration_s=3600.0)
    limit = job_limit(s, None)
    assert not limit.measured and limit.seconds == pytest.approx(1.5 * (120 + 30 * 3600))
    assert "a clip of unknown length" in limit.describe()


@pytest.mark.parametrize(("seconds", "text"), [(1.44, "1.4 s"), (45, "45 s"), (60, "1 min"), (725, "12 min 5 s"),
                                               (3600, "1 h"), (27180, "7 h 33 min")])
def test_durations_read_as_a_person_says_them(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text
