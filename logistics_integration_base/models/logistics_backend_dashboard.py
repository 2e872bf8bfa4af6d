from datetime import timedelta

from lxml import etree
from markupsafe import Markup, escape

from odoo import api, fields, models

CATEGORIES = ("technical", "business", "validation", "auth")


class LogisticsBackendDashboard(models.AbstractModel):
    """What the dashboard shows of a backend beyond its counters: exceptions by category,
    throughput and failure rate over the last hour and day with a chart of the last 24
    hours, and the business tiles that modules register (:meth:`_logistics_business_tiles`).
    Every figure opens the records behind it."""

    _name = "logistics.backend.dashboard"
    _description = "Integration dashboard figures of a partner backend"

    count_exc_technical = fields.Integer(
        compute="_compute_dashboard", string="Exceptions: connection or system problem"
    )
    count_exc_business = fields.Integer(
        compute="_compute_dashboard", string="Exceptions: business rule"
    )
    count_exc_validation = fields.Integer(
        compute="_compute_dashboard", string="Exceptions: data to correct"
    )
    count_exc_auth = fields.Integer(
        compute="_compute_dashboard", string="Exceptions: access refused"
    )
    done_1h = fields.Integer(compute="_compute_dashboard", string="Done in the last hour")
    failure_rate_1h = fields.Float(
        compute="_compute_dashboard", string="Failed attempts, last hour (%)", digits=(16, 1)
    )
    failure_rate_24h = fields.Float(
        compute="_compute_dashboard", string="Failed attempts, last 24 h (%)", digits=(16, 1)
    )
    activity_chart = fields.Html(
        compute="_compute_dashboard", sanitize=False, string="Last 24 hours"
    )
    dashboard_capabilities = fields.Char(
        compute="_compute_dashboard_capabilities",
        string="Dashboard tiles shown",
        help="What this backend does, as the dashboard needs it to choose its tiles "
        "(space-separated keys: parcels, fulfilment, customs, milestones, freight_invoices).",
    )

    def _logistics_dashboard_capabilities(self):
        """The set of keys naming what this backend does, for the business tiles: a tile
        shows on the backends whose capability it describes (no parcel tiles on a backend
        that only brings invoices). Extend with ``super()``."""
        self.ensure_one()
        return set()

    def _compute_dashboard_capabilities(self):
        for backend in self:
            backend.dashboard_capabilities = " ".join(
                sorted(backend._logistics_dashboard_capabilities())
            )

    def _compute_dashboard(self):
        now = fields.Datetime.now()
        hour_ago, day_ago = now - timedelta(hours=1), now - timedelta(hours=24)
        Message = self.env["logistics.message"]
        exc = {
            (backend.id, category): count
            for backend, category, count in Message._read_group(
                [("backend_id", "in", self.ids), ("state", "in", ("failed", "dead"))],
                ["backend_id", "error_category"],
                ["__count"],
            )
        }
        cr = self.env.cr
        # per backend and hour: messages finished (done_at index), attempts and failed ones
        cr.execute(
            "SELECT backend_id, date_trunc('hour', done_at), count(*) FROM logistics_message "
            "WHERE backend_id IN %s AND done_at >= %s GROUP BY 1, 2",
            [tuple(self.ids) or (0,), day_ago],
        )
        done = {}
        for backend_id, hour, count in cr.fetchall():
            done.setdefault(backend_id, {})[hour] = count
        cr.execute(
            "SELECT backend_id, date_trunc('hour', started_at), count(*), "
            "count(*) FILTER (WHERE outcome <> 'done'), "
            "count(*) FILTER (WHERE started_at >= %s), "
            "count(*) FILTER (WHERE started_at >= %s AND outcome <> 'done') "
            "FROM logistics_message_attempt "
            "WHERE backend_id IN %s AND started_at >= %s GROUP BY 1, 2",
            [hour_ago, hour_ago, tuple(self.ids) or (0,), day_ago],
        )
        tries = {}
        for backend_id, hour, total, failed, total_1h, failed_1h in cr.fetchall():
            tries.setdefault(backend_id, {})[hour] = (total, failed, total_1h, failed_1h)
        cr.execute(
            "SELECT backend_id, count(*) FROM logistics_message "
            "WHERE backend_id IN %s AND done_at >= %s GROUP BY 1",
            [tuple(self.ids) or (0,), hour_ago],
        )
        done_hour = dict(cr.fetchall())
        hours = [
            (now - timedelta(hours=23 - i)).replace(minute=0, second=0, microsecond=0)
            for i in range(24)
        ]
        for backend in self:
            for category in CATEGORIES:
                backend[f"count_exc_{category}"] = exc.get((backend.id, category), 0)
            backend.done_1h = done_hour.get(backend.id, 0)
            by_hour = tries.get(backend.id, {})
            total = sum(t[0] for t in by_hour.values())
            failed = sum(t[1] for t in by_hour.values())
            total_1h = sum(t[2] for t in by_hour.values())
            failed_1h = sum(t[3] for t in by_hour.values())
            backend.failure_rate_24h = round(100.0 * failed / total, 1) if total else 0.0
            backend.failure_rate_1h = round(100.0 * failed_1h / total_1h, 1) if total_1h else 0.0
            backend.activity_chart = self._activity_svg(
                [done.get(backend.id, {}).get(h, 0) for h in hours],
                [by_hour.get(h, (0, 0))[1] for h in hours],
            )

    def _logistics_attention_key(self):
        """Sort key of a dashboard card: what needs someone first (an open circuit, then
        exceptions, late messages, the backlog), then by name."""
        self.ensure_one()
        return (
            self.circuit_state == "closed",
            -self.count_exceptions,
            -self.count_late,
            -self.count_pending,
            (self.name or "").lower(),
        )

    @api.model
    def web_search_read(
        self, domain, specification, offset=0, limit=None, order=None, count_limit=None
    ):
        """The dashboard (context ``logistics_attention_order``) shows its cards in the
        order of what needs attention; backends are few, their counters computed anyway."""
        if not self.env.context.get("logistics_attention_order"):
            return super().web_search_read(domain, specification, offset, limit, order, count_limit)
        backends = self.search(domain).sorted(lambda b: b._logistics_attention_key())
        page = backends[offset : offset + limit if limit else None]
        return {"length": len(backends), "records": page.web_read(specification)}

    @api.model
    def _activity_svg(self, done, failed):
        """24 hourly bars: messages finished (grey) and failed attempts (red)."""
        top = max([*done, *failed, 1])
        width, height, bar = 240, 40, 10
        parts = []
        for i, (ok, bad) in enumerate(zip(done, failed, strict=True)):
            x = i * bar
            for value, colour, offset in ((ok, "#8f9ba8", 1), (bad, "#d44c59", 5)):
                if value:
                    h = max(1, round(height * value / top))
                    parts.append(
                        f'<rect x="{x + offset}" y="{height - h}" width="4" height="{h}" '
                        f'fill="{colour}"><title>{value}</title></rect>'
                    )
        title = escape(
            self.env._("Last 24 hours, by hour: messages finished (grey), failed attempts (red)")
        )
        return Markup(
            f'<svg xmlns="http://www.w3.org/2000/svg" class="o_logistics_activity" '
            f'width="100%" height="{height}" viewBox="0 0 {width} {height}" '
            f'preserveAspectRatio="none" role="img" '
            f'aria-label="{title}"><title>{title}</title>{"".join(parts)}</svg>'
        )

    # actions behind the figures --------------------------------------------------------------
    def action_view_exception_category(self):
        category = self.env.context.get("logistics_category")
        if category not in CATEGORIES:
            category = None
        label = dict(
            self.env["logistics.message"]._fields["error_category"]._description_selection(self.env)
        ).get(category)
        return self._action_messages(
            self.env._("Exceptions (%s)", label) if label else self.env._("Exceptions"),
            ["exceptions", f"category_{category}"] if category else ["exceptions"],
        )

    def action_view_done_1h(self):
        return self._action_messages(self.env._("Messages finished in the last hour"), ["done_1h"])

    def action_view_done_24h(self):
        return self._action_messages(
            self.env._("Messages finished in the last 24 hours"), ["done_24h"]
        )

    def action_view_failed_attempts(self):
        window = "1h" if self.env.context.get("logistics_window") == "1h" else "24h"
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "logistics_integration_base.action_logistics_message_attempt"
        )
        # the backend and the window are facets of the search bar, which the user may remove
        context = {"search_default_failed": 1, f"search_default_started_{window}": 1}
        if len(self) == 1:
            context["search_default_backend_id"] = self.id
            action["domain"] = []
        else:
            action["domain"] = [("backend_id", "in", self.ids)]
        action["context"] = context
        figure = (
            self.env._("Failed attempts in the last hour")
            if window == "1h"
            else self.env._("Failed attempts in the last 24 hours")
        )
        action["name"] = self._logistics_figure_title(figure)
        return action

    def _logistics_figure_title(self, figure):
        """The title of what a dashboard figure opens: "<figure> of <backend>"."""
        if len(self) != 1:
            return figure
        return self.env._("%(figure)s of %(backend)s", figure=figure, backend=self.name)

    # business tiles ---------------------------------------------------------------------------
    def _logistics_business_tiles(self):
        """Tiles modules add to the dashboard and to the metrics endpoint: a list of dicts
        with ``key``, ``label``, ``model``, ``domain`` (what is counted), ``filters`` (the
        names of filters of ``model``'s search view that select the same records: the tile
        opens its records with them turned on, facets the user sees and may remove; filters
        of one group of the search view are ORed, of different groups ANDed) and
        ``backend_field`` (the field of ``model`` naming the backend, searched on in its
        search view), and optionally ``aggregate`` (``"amount:sum"``, ``"days:avg"``: a
        figure instead of the count of records). Extend with ``super()`` and append; a
        field ``tile_<key> = fields.Integer(compute="_compute_tile_fields")``
        (``fields.Float`` for an aggregate) shows it on the dashboard card."""
        return []

    def _logistics_tile_counts(self):
        """``{tile key: {backend id: count or aggregate}}`` for these backends: one grouped
        query per tile."""
        counts = {}
        for tile in self._logistics_business_tiles():
            field = tile["backend_field"]
            aggregate = tile.get("aggregate") or "__count"
            counts[tile["key"]] = {
                backend.id: value or 0
                for backend, value in self.env[tile["model"]]
                .sudo()
                ._read_group(tile["domain"] + [(field, "in", self.ids)], [field], [aggregate])
            }
        return counts

    def _compute_tile_fields(self):
        """Compute method of the fields modules declare for their tiles: a field named
        ``tile_<key>`` computed by this method shows the count of tile ``<key>``."""
        counts = self._logistics_tile_counts()
        names = [
            name
            for name, field in self._fields.items()
            if name.startswith("tile_") and field.compute == "_compute_tile_fields"
        ]
        for backend in self:
            for name in names:
                backend[name] = counts.get(name.removeprefix("tile_"), {}).get(backend.id, 0)

    def action_open_business_tile(self):
        key = self.env.context.get("logistics_tile")
        tile = next(t for t in self._logistics_business_tiles() if t["key"] == key)
        field = tile["backend_field"]
        # the tile's conditions as filters of the search bar (facets the user may remove);
        # a tile naming none keeps them in the action's domain
        filters = tile.get("filters") or ()
        domain = [] if filters else list(tile["domain"])
        context = {"create": False} | {f"search_default_{name}": 1 for name in filters}
        if len(self) == 1 and self._logistics_search_field(tile["model"], field):
            # the backend as a facet of the search bar, which the user may remove
            context[f"search_default_{field}"] = self.id
        else:
            domain.append((field, "in", self.ids))
        return {
            "type": "ir.actions.act_window",
            "name": self._logistics_figure_title(tile["label"]),
            "res_model": tile["model"],
            "view_mode": "list,form",
            "views": [(False, "list"), (False, "form")],
            "domain": domain,
            "context": context,
        }

    @api.model
    def _logistics_search_field(self, model, field):
        """Whether the default search view of ``model`` searches on ``field``."""
        arch = self.env[model].get_view(view_type="search")["arch"]
        return bool(etree.fromstring(arch).xpath(f"//field[@name='{field}']"))
