"""Registries of the suite's extension points: adapters by provider, handlers by message
type, transports by protocol, webhook signature schemes by key.

A module registers its plug-ins when Python imports it; several databases with different
modules installed may share one server process, so a lookup that is given an ``env`` only
returns plug-ins whose Odoo module is installed in that database.
"""


def _odoo_module(obj):
    parts = (getattr(obj, "__module__", "") or "").split(".")
    return parts[2] if len(parts) > 2 and parts[:2] == ["odoo", "addons"] else None


class PluginRegistry:
    def __init__(self, what):
        self.what = what  # "adapter", "handler"... for error messages
        self._entries = {}

    def add(self, key, plugin):
        self._entries[key] = plugin
        return plugin

    def register(self, key):
        """Decorator form of :meth:`add`."""

        def decorator(plugin):
            return self.add(key, plugin)

        return decorator

    def get(self, key, env=None):
        plugin = self._entries.get(key)
        if plugin is None or env is None:
            return plugin
        module = _odoo_module(plugin)
        registry = env.registry
        installed = getattr(registry, "_init_modules", None)
        # While the registry loads, modules are installed one by one: no filter then.
        if module and registry.ready and installed is not None and module not in installed:
            return None
        return plugin

    def keys(self, env=None):
        return sorted(k for k in self._entries if self.get(k, env) is not None)

    def __contains__(self, key):
        return key in self._entries

    def __getitem__(self, key):
        return self._entries[key]
