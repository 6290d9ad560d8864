-- Tollgate billing ledger, version 3 (issue 9, "Trust"): only sealed records are billed; devices are bound to tenants.
-- pending is now keyed by (device, seq, hash): a forged unsealed record for seq N never blocks the genuine record N.
-- Its old rows (records beyond a gap, never acked) are dropped: every device re-sends from its acked seq + 1.
DROP TABLE pending;

CREATE TABLE pending (
    device_id       VARCHAR(255) NOT NULL,
    seq             BIGINT NOT NULL,
    hash            CHAR(64) NOT NULL,
    prev_hash       CHAR(64) NOT NULL,
    kind            VARCHAR(8) NOT NULL,
    -- for a seal whose signature verified with the device key on arrival: what it vouches for
    sealed_seq      BIGINT,
    sealed_hash     CHAR(64),
    bytes           BYTEA NOT NULL,
    received_at     TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pending_device_seq_hash UNIQUE (device_id, seq, hash)
);

-- the tenants a device may bill; a USAGE record naming another tenant is quarantined (sealed, acked, never billed)
CREATE TABLE device_tenants (
    device_id       VARCHAR(255) NOT NULL,
    tenant          VARCHAR(255) NOT NULL,
    CONSTRAINT device_tenants_pk PRIMARY KEY (device_id, tenant)
);

-- existing devices keep billing the tenants they already billed (upgrades change no invoice), plus "default"
INSERT INTO device_tenants (device_id, tenant)
    SELECT DISTINCT device_id, tenant FROM records WHERE kind = 'usage' AND tenant IS NOT NULL AND LENGTH(tenant) <= 255;

INSERT INTO device_tenants (device_id, tenant)
    SELECT id, 'default' FROM devices WHERE id NOT IN (SELECT device_id FROM device_tenants WHERE tenant = 'default');

-- a sealed USAGE record naming a tenant its device is not bound to: kept in the chain, never billed
ALTER TABLE records ADD COLUMN billable BOOLEAN DEFAULT TRUE NOT NULL;
