"""Scale-out: jobs run by Celery workers on other machines, through a Redis broker and the HTTP API.

    server (`serve --queue celery`)              worker (`pose-service worker`, any machine)
      CeleryQueue: publishes one task per           Celery task `pose_service.analyze_job(job_id)`:
      queued job, watches attempts' heartbeats  ->    claim -> attempt n (HTTP)
      job store + files stay here                     download the input (Range, resumable)
      /api/v1/workers/...: claim, progress,           run the supervised pipeline subprocess
      result upload, finish, worker health            post progress + heartbeat, upload results, finish

The API server owns job state and files; the broker only carries "job X wants running". Attempt numbers,
handed out by the server at claim time, decide which run's results count: a run whose attempt is no longer
the job's current one is refused (409) everywhere, so a task redelivered after a lost worker can never
overwrite a newer attempt.
"""

from pose_service.jobs.remote.celery_app import TASK_NAME, Limits, job_limits, make_celery

__all__ = ["TASK_NAME", "Limits", "job_limits", "make_celery"]
