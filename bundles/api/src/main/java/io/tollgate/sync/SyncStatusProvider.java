package io.tollgate.sync;

import org.osgi.annotation.versioning.ProviderType;

/** Registered by the sync bundle: the uplink's current state, cheap enough to call on every /metrics scrape. */
@ProviderType
public interface SyncStatusProvider {
    /** A snapshot of the uplink's state. Thread-safe; never blocks on the network. */
    SyncStatus syncStatus();
}
