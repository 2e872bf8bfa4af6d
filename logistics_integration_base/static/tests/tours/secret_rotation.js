/** Rotating a webhook secret: the new secret is shown once in a dialog with a copy button,
 * with the date until which the previous one is accepted; closing the dialog, the backend
 * shows that date without a reload. */
import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("logistics_secret_rotation", {
    steps: () => [
        {
            trigger: ".o_notebook .nav-link:contains('Webhooks')",
            run: "click",
        },
        {
            content: "the backend has no previous secret yet",
            trigger:
                ".o_form_view:has(.o_field_widget[name=webhook_rotation_hours])" +
                ":not(:has(.o_field_widget[name=webhook_previous_valid_until]))",
            run() {
                window.__logisticsSecretNotReloaded = true;
            },
        },
        {
            trigger: ".o_form_statusbar button[name=action_generate_webhook_secret]",
            run: "click",
        },
        {
            content: "confirm the rotation",
            trigger: ".modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "the dialog has a title and shows the new secret with a copy button",
            trigger:
                ".modal .modal-title:contains('New webhook secret for Rotation partner')",
        },
        {
            trigger: ".modal .o_field_widget[name=secret]:contains('whsec_') .o_clipboard_button",
        },
        {
            trigger: ".modal .o_field_widget[name=previous_valid_until]:not(:empty)",
        },
        {
            content: "done",
            trigger: ".modal-footer button:contains('Done')",
            run: "click",
        },
        {
            trigger: ".o_form_view:not(:has(.modal)) .o_notebook .nav-link:contains('Webhooks')",
            run: "click",
        },
        {
            content: "the backend shows until when the previous secret is valid, no reload",
            trigger:
                ".o_form_view:not(:has(.modal)) .o_field_widget[name=webhook_previous_valid_until]" +
                ":not(:empty)",
            run() {
                if (!window.__logisticsSecretNotReloaded) {
                    throw new Error("the page was reloaded");
                }
            },
        },
    ],
});
