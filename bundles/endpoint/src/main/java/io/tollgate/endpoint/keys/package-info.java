/**
 * The appliance's API keys, for the endpoint and for offline tools ({@code bin/tollgate keys add|list|revoke},
 * module {@code tools/}): the key file ({@link io.tollgate.endpoint.keys.ApiKeyFile}, {@code conf/api-keys.json}),
 * its entries ({@link io.tollgate.endpoint.keys.ApiKey}) and how a presented key or client certificate is matched
 * against them ({@link io.tollgate.endpoint.keys.ApiKeyHash}). Plain Java, no OSGi framework needed; names no Netty
 * type. The file holds SHA-256 hashes, never a key (decision 2026-11-30 in docs/decisions.md).
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package io.tollgate.endpoint.keys;
