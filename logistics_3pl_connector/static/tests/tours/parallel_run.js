/** A manager reads a parallel run's differences, then cuts the backend over to live from
 * its Parallel run report. */
import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("logistics_parallel_run_differences", {
    steps: () => [
        {
            content: "Reporting › Parallel run lists the documents compared",
            trigger: ".o_data_row td[name=result]:contains('Matched')",
        },
        {
            content: "open the one that differs",
            trigger: ".o_data_row:has(td[name=result]:contains('Different')) td[name=business_key]",
            run: "click",
        },
        {
            content: "the difference in words",
            trigger:
                ".o_form_view .o_field_widget[name=differences]:contains('quantity 5 vs 4 for SKU CHAIR-1')",
        },
    ],
});

registry.category("web_tour.tours").add("logistics_parallel_run_cutover", {
    steps: () => [
        {
            content: "the backend says it runs in parallel",
            trigger: ".o_form_view .ribbon:contains('Parallel run')",
        },
        {
            content: "open its report",
            trigger: ".o_form_statusbar button[name=action_open_cutover]",
            run: "click",
        },
        {
            content: "the figures of the period",
            trigger: ".modal .o_field_widget[name=match_rate]:contains('50.00')",
        },
        {
            content: "a note for the record",
            trigger: ".modal .o_field_widget[name=note] textarea",
            run: "edit Quantities checked with the warehouse",
        },
        {
            content: "cut over to live",
            trigger: ".modal button[name=action_cutover]",
            run: "click",
        },
        {
            content: "confirm",
            trigger: ".modal-footer button:contains('Ok')",
            run: "click",
        },
        {
            content: "the backend is live: no ribbon",
            trigger: ".o_form_view .o_form_sheet:not(:has(.ribbon)) .o_notebook a[name=parallel_run]",
            run: "click",
        },
        {
            content: "its Parallel run page offers the way back",
            trigger: ".o_notebook button[name=action_rollback_to_shadow]",
        },
    ],
});
