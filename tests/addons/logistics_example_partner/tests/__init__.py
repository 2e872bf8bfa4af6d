from . import test_extension_points
