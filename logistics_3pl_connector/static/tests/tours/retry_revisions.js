/** Recovery that works: the operator fixes what the 3PL refused (the customer's phone) on
 * the customer, then presses *Retry selected* on the refused releases, which are rebuilt
 * from the deliveries and sent as new revisions; and a manager's *Edit payload and retry*
 * goes as a new revision, under a new key. */
import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("logistics_fix_the_customer", {
    steps: () => [
        {
            content: "the customer the 3PL needs a phone for",
            trigger: ".o_form_view .o_field_widget[name=name] input",
        },
        {
            content: "add the phone",
            trigger: ".o_field_widget[name=phone] input",
            run: "edit +1 555 0199",
        },
        {
            content: "save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "saved",
            trigger: ".o_form_view:not(:has(.o_form_status_indicator_buttons:not(.invisible)))",
        },
    ],
});

registry.category("web_tour.tours").add("logistics_retry_selected_rebuilds", {
    steps: () => [
        {
            content: "the refused releases are in the Exceptions list",
            trigger: ".o_data_row:contains('E3PL/OUT/')",
        },
        {
            content: "select them all",
            trigger: "thead .o_list_record_selector input",
            run: "click",
        },
        {
            content: "open the Actions menu",
            trigger: ".o_cp_action_menus button",
            run: "click",
        },
        {
            content: "Retry selected",
            trigger: ".o-dropdown--menu span:contains('Retry selected')",
            run: "click",
        },
        {
            content: "the operator reads that they were rebuilt and sent as new revisions",
            trigger: ".o_notification:contains('rebuilt from their records and sent as new revisions')",
        },
    ],
});

registry.category("web_tour.tours").add("logistics_edit_payload_new_key", {
    steps: () => [
        {
            content: "the refused release",
            trigger: ".o_form_view .alert-danger:contains('ship_to.phone')",
        },
        {
            content: "Edit payload and retry",
            trigger: ".o_form_statusbar button[name=action_open_edit_payload]",
            run: "click",
        },
        {
            content: "add the phone to the ship-to address",
            trigger: ".modal .o_field_widget[name=payload] textarea",
            async run(helpers) {
                const data = JSON.parse(this.anchor.value);
                data.ship_to.phone = "+1 555 0142";
                await helpers.edit(JSON.stringify(data, null, 2));
            },
        },
        {
            content: "save and retry",
            trigger: ".modal button[name=action_confirm]",
            run: "click",
        },
        {
            content: "the new revision is shown, linked to the one it replaces",
            trigger: ".o_form_view .o_field_widget[name=replaces_id]:contains('LGX/')",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=revision]:contains('2')",
        },
        {
            content: "it waits for its job",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains('Pending')",
        },
        {
            content: "with its own key",
            trigger: ".o_notebook .nav-link:contains('Tracing')",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=idempotency_key]:contains('-r2')",
        },
    ],
});
