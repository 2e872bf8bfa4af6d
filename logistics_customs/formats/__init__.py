"""Customs formats, pure Python (no ORM): UN/EDIFACT CUSDEC out and CUSRES in."""

from . import edifact
from .edifact import EdifactError, build_cusdec, parse_cusres
