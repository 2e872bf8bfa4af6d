from . import logistics_backend, logistics_message, logistics_example_parcel
