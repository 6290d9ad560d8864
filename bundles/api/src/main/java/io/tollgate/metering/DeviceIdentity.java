package io.tollgate.metering;

import org.osgi.annotation.versioning.ProviderType;

/** Who this appliance is: the id its usage records carry and the public key that verifies its seals. */
@ProviderType
public interface DeviceIdentity {
    /** The stable device id, e.g. "tg-" followed by 16 hex digits of the public key's SHA-256. */
    String deviceId();

    /** The device's Ed25519 public key as an X.509 SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----"). */
    String publicKeyPem();
}
