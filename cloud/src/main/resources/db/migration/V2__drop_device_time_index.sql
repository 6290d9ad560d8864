-- Tollgate billing ledger, version 2: drop records_device_time.
-- Every query that filters on a device also orders by (device_id, seq), which the unique records_device_seq index
-- serves (device_id is its prefix); the extra (device_id, wall_time_nanos) index cost every ingested row a third
-- index insert (about a tenth of the ingest time) and no query needed it. records_tenant_time stays: invoices
-- select one tenant's records by wall time.
DROP INDEX IF EXISTS records_device_time;
