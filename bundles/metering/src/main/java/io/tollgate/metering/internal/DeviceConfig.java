package io.tollgate.metering.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Configuration of the device identity (PID {@code io.tollgate.metering.device}). */
@ObjectClassDefinition(name = "Tollgate device identity",
        description = "The device's Ed25519 key pair and id, used to sign usage seals")
public @interface DeviceConfig {
    @AttributeDefinition(name = "Key directory",
            description = "Where device.key.pem and device.pub.pem live; empty = <tollgate.data>/device, or data/device")
    String directory() default "";

    @AttributeDefinition(name = "Device id",
            description = "Empty = derive \"tg-\" + 16 hex digits of SHA-256 of the public key")
    String device_id() default "";
}
