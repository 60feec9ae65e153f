"""Video in and out: probe, streaming decode, streaming encode."""

from pose_service.video.core import Frame, VideoInfo
from pose_service.video.decode import VideoReader, frame_pts, upright
from pose_service.video.encode import VideoWriter
from pose_service.video.probe import probe

__all__ = ["Frame", "VideoInfo", "VideoReader", "VideoWriter", "frame_pts", "probe", "upright"]
