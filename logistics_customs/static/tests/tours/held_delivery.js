/** A delivery customs hold: the banner says why and what happens next, Validate is not the
 * primary button, and the declaration is one click away. */
import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("logistics_customs_held_delivery", {
    steps: () => [
        {
            content: "the banner says customs hold the delivery, and why",
            trigger:
                ".o_form_view .alert-warning:contains('Held by customs.')" +
                ":contains('is waiting for customs release: customs ask for documents')",
        },
        {
            content: "and what happens next",
            trigger:
                ".o_form_view .alert-warning:contains('Certificate of origin EUR.1')" +
                ":contains('the goods move once customs release them')",
        },
        {
            content: "Validate is there, but not as the primary button",
            trigger:
                ".o_form_statusbar button[name=button_validate]:not(.btn-primary):visible",
        },
        {
            content: "no primary Validate",
            trigger: ".o_form_statusbar:not(:has(button[name=button_validate].btn-primary))",
        },
        {
            content: "open the declaration from the banner",
            trigger: ".alert-warning button[name=action_logistics_customs_declaration]",
            run: "click",
        },
        {
            content: "the declaration is held for documents",
            trigger:
                ".o_statusbar_status .o_arrow_button_current:contains('Documents required')",
        },
    ],
});
