-- Logistics Integration: a neutralized copy (staging, test, restored backup) must never
-- talk to a real partner. Every backend is archived rather than re-pointed or emptied:
-- an archived backend releases no order, its webhook route answers 404, the polling crons
-- skip it, and outbound messages already queued fail with "backend archived" instead of
-- being sent. Its settings are kept, so an operator can point one at the partner's
-- sandbox and unarchive it on purpose.
UPDATE logistics_backend
   SET active = false;

-- The tokens a user's sign-in at a partner gave (OAuth2 authorisation code) belong to the
-- original: a copy renewing them would spend the single-use refresh token the original
-- needs (HMRC rotates it at every renewal), and the original's connection would be lost.
-- The copy shows "Not connected"; a manager connects it to the partner's sandbox.
DELETE FROM logistics_backend_secret
 WHERE key IN ('oauth_access_token', 'oauth_refresh_token');

-- The base module's neutralization deactivates every cron; the suite's are named here too
-- so they stay off whatever that rule comes to exempt.
UPDATE ir_cron
   SET active = false
 WHERE id IN (
       SELECT res_id
         FROM ir_model_data
        WHERE model = 'ir.cron'
          AND module = 'logistics_integration_base'
);
