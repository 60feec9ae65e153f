"""Typed dependencies, so routes read as plain types."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from pose_service.api.service import Service

__all__ = ["ServiceDep"]


def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]
