from . import sftp
