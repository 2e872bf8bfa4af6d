from . import csv_format, legacy_orders, x12
