"""Durable jobs and the supervised workers that run them."""

from pose_service.jobs.store import STATES, TERMINAL, Job, JobStore, Upload, new_id

__all__ = ["STATES", "TERMINAL", "Job", "JobStore", "Upload", "new_id"]
