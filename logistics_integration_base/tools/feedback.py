"""What a button says it did: Odoo's notification, then the view reloaded."""


def notification(title, message, kind="success", sticky=False, reload=True):
    """The client action showing ``title`` and ``message`` (``kind``: success, info,
    warning, danger) and, when ``reload``, reloading the view so that it shows the change."""
    params = {"title": title, "message": message, "type": kind, "sticky": sticky}
    if reload:
        params["next"] = {"type": "ir.actions.client", "tag": "soft_reload"}
    return {"type": "ir.actions.client", "tag": "display_notification", "params": params}
