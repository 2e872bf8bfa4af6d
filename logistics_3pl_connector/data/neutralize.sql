-- Logistics 3PL Connector: a neutralized copy must never talk to a real 3PL. Backends are
-- archived (as logistics_integration_base's neutralization does; repeated so this module
-- does not rely on the order the files run in): nothing is released to an archived
-- backend, its webhook route answers 404, the polling crons skip it and its queued
-- outbound messages fail with "backend archived" instead of being sent.
UPDATE logistics_backend
   SET active = false;

-- The 3PL crons (release safety net, inventory pulls, ShipBob polling) are
-- switched off; the base module's neutralization also deactivates every cron.
UPDATE ir_cron
   SET active = false
 WHERE id IN (
       SELECT res_id
         FROM ir_model_data
        WHERE model = 'ir.cron'
          AND module = 'logistics_3pl_connector'
);
