from . import logistics_backend, logistics_example_parcel
