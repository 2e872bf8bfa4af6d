/** A release the 3PL refused is solved from the delivery: Release to 3PL (first part). Once
 * the release queued again went through, the refused one has left the exception queue by
 * itself, says by which message it was superseded, and the shipment's billing event it held
 * is billable (second part). */
import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("logistics_superseded_release", {
    steps: () => [
        {
            content: "the refused release is in the exception queue",
            trigger: ".o_data_row:contains('E3PL/OUT/') td[name=name]",
            run: "click",
        },
        {
            content: "its reason says what the 3PL refused",
            trigger: ".o_form_view .alert:contains('a delivery phone number is required')",
        },
        {
            content: "open the delivery it is about",
            trigger: ".o_field_widget[name=record_ref] a",
            run: "click",
        },
        {
            content: "the phone was fixed: release the delivery to the 3PL again",
            trigger: ".o_form_view button[name=action_logistics_release]",
            run: "click",
        },
        {
            content: "the delivery is released (its job sends it)",
            trigger: ".o_form_view:not(:has(button[name=action_logistics_release]))",
        },
    ],
});

registry.category("web_tour.tours").add("logistics_superseded_release_done", {
    steps: () => [
        {
            content: "the exception queue is empty: the refused release left it by itself",
            trigger: ".o_view_nocontent:contains('No exception')",
        },
    ],
});

registry.category("web_tour.tours").add("logistics_superseded_release_message", {
    steps: () => [
        {
            content: "it says by which message and keeps its reason",
            trigger:
                ".o_form_view .alert-info:contains('Superseded'):contains('LGX/')" +
                ":contains('needs nothing more')",
        },
        {
            trigger: ".o_form_view .alert:contains('a delivery phone number is required')",
        },
        {
            content: "no Retry on a settled failure",
            trigger: ".o_form_view:not(:has(.o_form_statusbar button[name=action_retry]))",
        },
    ],
});

registry.category("web_tour.tours").add("logistics_superseded_release_billing", {
    steps: () => [
        {
            content: "the shipment's billing event is billable, no longer held",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains('Billable')",
        },
        {
            trigger: ".o_form_view:not(:has(.alert-warning:contains('Waits for approval')))",
        },
        {
            content: "its chatter says why",
            trigger: ".o-mail-Message:contains('No longer held'):contains('was superseded by')",
        },
    ],
});
