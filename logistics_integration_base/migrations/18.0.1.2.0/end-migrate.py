"""Failures a later success already solved leave the exception queue: every failed or dead
message for which a later message of the same operation for the same record succeeded
becomes superseded by it, its reason kept, and the record it concerns is told (billing held
by it is released). See logistics.message._supersede_solved_failures.

An *end* script, run once every module of the upgrade is loaded: which message types make
one operation is declared by the modules owning them (tools/operations.py), and the records
told (a delivery's billing) are extended by modules loaded after this one."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["logistics.message"]._supersede_solved_failures()
