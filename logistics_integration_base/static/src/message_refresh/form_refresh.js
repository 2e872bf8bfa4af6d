/** @odoo-module **/
/**
 * A form open on a logistics message, or on the record a message concerns (a delivery, a
 * declaration...), reloads when the server says the message changed state (its job
 * finished, a retry started): the operator sees the outcome without reloading the page.
 * A form with unsaved changes is left alone.
 */
import { onWillUnmount } from "@odoo/owl";
import { FormController } from "@web/views/form/form_controller";
import { patch } from "@web/core/utils/patch";

export const LOGISTICS_STATE_NOTICE = "logistics.message/state";

export function concernsRecord(notices, resModel, resId) {
    return notices.some(
        (notice) =>
            (resModel === "logistics.message" && notice.id === resId) ||
            (notice.res_model === resModel && notice.res_id === resId)
    );
}

patch(FormController.prototype, {
    setup() {
        super.setup(...arguments);
        const busService = this.env.services.bus_service;
        if (!busService) {
            return;
        }
        const onNotice = async (notices) => {
            const root = this.model.root;
            if (!root || root.isNew || !concernsRecord(notices, this.props.resModel, root.resId)) {
                return;
            }
            if (await root.isDirty()) {
                return;
            }
            await root.load();
        };
        busService.subscribe(LOGISTICS_STATE_NOTICE, onNotice);
        onWillUnmount(() => busService.unsubscribe(LOGISTICS_STATE_NOTICE, onNotice));
    },
});
