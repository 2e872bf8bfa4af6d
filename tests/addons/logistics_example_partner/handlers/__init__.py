from . import parcel_scan
