from . import refund, tracking
