from . import canonical, secrets
