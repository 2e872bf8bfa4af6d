/** The integration dashboard follows the exchanges without a page reload: an exception
 * handled elsewhere (here by an RPC, as another user's Ignore would) leaves its card. */
import { registry } from "@web/core/registry";
import { rpc } from "@web/core/network/rpc";

const CARD = ".o_kanban_record:contains('Tour partner')";

registry.category("web_tour.tours").add("logistics_dashboard_live", {
    steps: () => [
        {
            content: "the card shows the partner's one exception",
            trigger: `${CARD} a[name=action_view_exceptions] .fs-4:contains('1')`,
            run() {
                window.__logisticsDashboardNotReloaded = true;
            },
        },
        {
            content: "someone ignores that exception elsewhere",
            trigger: CARD,
            async run() {
                const ids = await rpc("/web/dataset/call_kw/logistics.message/search", {
                    model: "logistics.message",
                    method: "search",
                    args: [[["state", "=", "failed"], ["backend_id.code", "=", "tour-partner"]]],
                    kwargs: {},
                });
                await rpc("/web/dataset/call_kw/logistics.message/action_ignore", {
                    model: "logistics.message",
                    method: "action_ignore",
                    args: [ids],
                    kwargs: { reason: "handled by phone with the partner" },
                });
            },
        },
        {
            content: "the card follows, without a reload",
            trigger: `${CARD} a[name=action_view_exceptions] .fs-4:contains('0')`,
            timeout: 30000,
            run() {
                if (!window.__logisticsDashboardNotReloaded) {
                    throw new Error("the dashboard page was reloaded");
                }
            },
        },
    ],
});
