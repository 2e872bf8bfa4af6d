from . import http, sftp, signatures
