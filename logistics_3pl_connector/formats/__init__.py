from . import csv_format, x12
