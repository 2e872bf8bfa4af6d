from . import edifact_sftp
