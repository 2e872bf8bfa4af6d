/** A customer in the portal: their order is listed, the other customer's is not; on the
 * order's page each parcel shows its status in words, last scan, signer and proof of
 * delivery. */
import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("logistics_carrier_portal_timeline", {
    steps: () => [
        {
            content: "the customer's orders list one order, theirs: open it",
            trigger: ".o_portal_my_doc_table tbody:not(:has(tr ~ tr)) td a",
            run: "click",
        },
        {
            content: "the parcel is delivered, in words",
            trigger: ".o_logistics_parcel .o_logistics_parcel_status:contains('Delivered')",
        },
        {
            content: "its last scan says where",
            trigger: ".o_logistics_parcel_last_scan:contains('Springfield, US')",
        },
        {
            content: "who signed for it",
            trigger: ".o_logistics_parcel_signed_by:contains('J. DOE')",
        },
        {
            content: "the proof of delivery can be downloaded",
            trigger: "a.o_logistics_parcel_pod:contains('Proof of delivery')",
        },
        {
            content: "nothing of the other customer's parcel",
            trigger: "body:not(:contains('1Z-BETH-0002')):not(:contains('B. NEIGHBOUR'))",
        },
    ],
});
