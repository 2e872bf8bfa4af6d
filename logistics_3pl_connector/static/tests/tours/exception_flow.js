/** An operator handles a release the 3PL refused: Exceptions, the refused release, its
 * reason in business words, Retry (first part); once the 3PL acknowledged it, the message
 * says so and lists both attempts (second part). */
import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("logistics_exception_flow", {
    steps: () => [
        {
            content: "the Exceptions list is open, grouped by partner, groups expanded",
            trigger: ".o_group_header:contains('Acme Fulfilment')",
        },
        {
            content: "open the refused release",
            trigger:
                ".o_data_row:contains('E3PL/OUT/') td[name=type_label]:contains('Release to 3PL')",
            run: "click",
        },
        {
            content: "the reason names the partner, the delivery and what to do",
            trigger:
                ".o_form_view .alert-danger:contains('Acme Fulfilment refused delivery E3PL/OUT/')" +
                ":contains('paused for the yearly stock count'):contains('then press Retry')",
        },
        {
            content: "the attempt is listed with the partner's answer",
            trigger: ".o_notebook .nav-link:contains('Attempts')",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=attempt_ids] .o_data_row:contains('409')",
        },
        {
            content: "retry",
            trigger: ".o_form_statusbar button[name=action_retry]",
            run: "click",
        },
        {
            content: "the message waits for its job",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains('Pending')",
        },
    ],
});

registry.category("web_tour.tours").add("logistics_exception_flow_acknowledged", {
    steps: () => [
        {
            content: "the 3PL acknowledged the release",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains('Acknowledged')",
        },
        {
            content: "no error is shown any more",
            trigger: ".o_form_view:not(:has(.alert-danger:visible))",
        },
        {
            trigger: ".o_notebook .nav-link:contains('Attempts')",
            run: "click",
        },
        {
            content: "both attempts: refused, then done",
            trigger:
                ".o_field_widget[name=attempt_ids] .o_data_row:contains('Done')" +
                " ~ .o_data_row:contains('Failed')",
        },
    ],
});
