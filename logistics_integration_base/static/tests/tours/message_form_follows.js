/** A form open on a message follows it without a page reload: when the message changes
 * state elsewhere (its job finished, another user acted), Odoo's bus tells the form, which
 * reloads its record. */
import { registry } from "@web/core/registry";
import { rpc } from "@web/core/network/rpc";

registry.category("web_tour.tours").add("logistics_message_form_follows", {
    steps: () => [
        {
            content: "the partner's refusal is headed as one",
            trigger: ".o_form_view .alert-danger:contains('Refused by Tour partner')",
            run() {
                window.__logisticsFormNotReloaded = true;
            },
        },
        {
            content: "the type reads as a person says it",
            trigger: ".o_form_view .o_field_widget[name=type_label]:contains('Connection check')",
        },
        {
            content: "someone ignores the message elsewhere",
            trigger: ".o_form_view",
            async run() {
                const id = Number(window.location.pathname.split("/").pop());
                await rpc("/web/dataset/call_kw/logistics.message/action_ignore", {
                    model: "logistics.message",
                    method: "action_ignore",
                    args: [[id]],
                    kwargs: { reason: "handled by phone with the partner" },
                });
                // A test server never commits, so it never sends the database notification
                // that wakes the websockets up; subscribing again makes the bus read what
                // was sent since, as that notification would have.
                await odoo.__WOWL_DEBUG__.root.env.services.bus_service.addChannel(
                    "logistics_tour_wake_up"
                );
            },
        },
        {
            content: "the form shows it, without a page reload",
            trigger: ".o_form_view .alert-secondary:contains('handled by phone with the partner')",
            timeout: 30000,
            run() {
                if (!window.__logisticsFormNotReloaded) {
                    throw new Error("the page was reloaded: the form did not follow by itself");
                }
            },
        },
    ],
});
