from . import message_edit_payload, message_ignore
