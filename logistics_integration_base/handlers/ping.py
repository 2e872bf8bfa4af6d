"""``integration.ping``: a partner checks that its webhooks reach Odoo."""

from .base import MessageHandler, register_handler


@register_handler("integration.ping")
class PingHandler(MessageHandler):
    def process(self, data, record):
        return f"pong: {data.get('message')}"
