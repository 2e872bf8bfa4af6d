"""Returns (``return.received``) and receipts (``receipt.confirmed``, ``asn.release``).

The processors live in ``stock_returns.py`` (``_process_return_received``,
``_process_receipt_confirmed``, the ``stock.picking.logistics_return_ref`` field and the
disposition handling); ``stock_picking.py`` releases incoming transfers as ``asn.release``.
This module is kept, empty, so that nothing here shadows them: it is imported before
``stock_returns`` and a second definition would be silently overridden.
Tests: ``tests/test_returns.py`` and ``tests/test_returns_receipts.py``.
"""
