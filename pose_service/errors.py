"""Errors that pose-service raises on purpose, each with a code, a message and a hint.

    PoseServiceError                 code, message (for a person), hint (what to do)
    ├── InputError                   the user's input is unusable; CLI exit code 2
    │   ├── FileMissing              no such file, or a folder instead of a file
    │   ├── EmptyFile                zero bytes
    │   ├── NotAVideo                text, image, audio-only, unknown container
    │   ├── TruncatedVideo           the file stops before its own index or data ends
    │   ├── UnsupportedCodec         a video stream FFmpeg here cannot decode
    │   ├── TooLarge                 frame size or duration over the configured limits
    │   └── BadOption                a command-line or job option out of range
    ├── EnvironmentProblem           a model, package or codec is missing; `doctor` names the fix
    └── PipelineError                a stage failed on input that passed the probe; exit code 1

A message is one sentence; when several things are wrong at once (a not-ready install), `parts_message` puts
that sentence on the first line and one line per missing part, each with its fix, below it.

HTTP status codes are chosen by the API layer, not here.
"""

from __future__ import annotations

__all__ = [
    "PoseServiceError",
    "InputError",
    "FileMissing",
    "EmptyFile",
    "NotAVideo",
    "TruncatedVideo",
    "UnsupportedCodec",
    "TooLarge",
    "BadOption",
    "EnvironmentProblem",
    "PipelineError",
    "parts_message",
]


def parts_message(headline: str, parts: list[tuple[str, str]]) -> str:
    """`headline` (what is wrong, one short sentence) on the first line, then one line per part: what is
    missing and, when known, its fix. Used by the 4D-Humans preflight (CLI, job error) and fit for /readyz."""
    lines = [headline]
    for what, fix in parts:
        what = what.strip().rstrip(".")
        lines.append(f"- {what}. Fix: {fix.strip().rstrip('.')}." if fix.strip() else f"- {what}.")
    return "\n".join(lines)


class PoseServiceError(Exception):
    """Base of every error raised on purpose; `str()` is the one-line message."""

    code = "error"
    default_hint = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = self.default_hint if hint is None else hint

    def one_line(self) -> str:
        """The message and hint on one line, for stderr and job errors."""
        return f"{self.message}. {self.hint[0].upper()}{self.hint[1:]}." if self.hint else self.message

    def text(self) -> str:
        """For a person (the CLI's stderr): `one_line()`, or, for a message that lists parts one per line
        (`parts_message`), those lines with the hint on a line of its own at the end."""
        if "\n" not in self.message:
            return self.one_line()
        return self.message + (f"\n{self.hint[0].upper()}{self.hint[1:]}." if self.hint else "")


class InputError(PoseServiceError):
    code = "bad_input"


class FileMissing(InputError):
    code = "file_missing"
    default_hint = "check the path"


class EmptyFile(InputError):
    code = "empty_file"
    default_hint = "the upload or copy probably failed; send the file again"


class NotAVideo(InputError):
    code = "not_a_video"
    default_hint = "send a video file such as MP4, MOV, WebM, MKV or AVI"


class TruncatedVideo(InputError):
    code = "truncated_video"
    default_hint = "the file was cut short; copy or upload the whole file again"


class UnsupportedCodec(InputError):
    code = "unsupported_codec"
    default_hint = "re-encode the clip to H.264 MP4"


class TooLarge(InputError):
    code = "too_large"
    default_hint = "trim or downscale the clip, or raise the limit in the settings"


class BadOption(InputError):
    code = "bad_option"


class EnvironmentProblem(PoseServiceError):
    code = "environment"
    default_hint = "run `pose-service doctor` to see what is missing and how to fix it"


class PipelineError(PoseServiceError):
    code = "pipeline_failed"
