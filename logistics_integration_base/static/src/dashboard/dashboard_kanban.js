/** The integration dashboard reloads its cards every few seconds while it is open, so the
 * counters follow the exchanges without a page reload. */
import { registry } from "@web/core/registry";
import { KanbanController } from "@web/views/kanban/kanban_controller";
import { kanbanView } from "@web/views/kanban/kanban_view";
import { onMounted, onWillUnmount } from "@odoo/owl";

export const REFRESH_MS = 5000;

export class LogisticsDashboardController extends KanbanController {
    setup() {
        super.setup();
        let timer = null;
        onMounted(() => {
            timer = setInterval(() => {
                if (!document.hidden) {
                    this.model.load();
                }
            }, REFRESH_MS);
        });
        onWillUnmount(() => clearInterval(timer));
    }
}

registry.category("views").add("logistics_dashboard_kanban", {
    ...kanbanView,
    Controller: LogisticsDashboardController,
});
