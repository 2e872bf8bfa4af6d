from . import freight_files
