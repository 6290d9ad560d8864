package io.tollgate.metering.internal;

import io.tollgate.metering.DeviceIdentity;

/** The device identity plus the private half the journal signs seals with. Private to this bundle. */
public interface DeviceKey extends DeviceIdentity {
    /** Ed25519 (RFC 8032, pure) signature of {@code message} with the device's private key: 64 bytes. */
    byte[] sign(byte[] message);

    /** The public key, for checking seals this process writes. */
    DevicePublicKey publicKey();
}
