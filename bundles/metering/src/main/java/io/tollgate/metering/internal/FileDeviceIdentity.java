package io.tollgate.metering.internal;

import io.tollgate.config.ConfigurationKeys;
import java.util.Map;
import io.tollgate.metering.DeviceIdentity;
import java.io.IOException;
import java.nio.file.Path;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.Designate;

/**
 * The device identity as a service: loads the key pair from the key directory, creating it on first start.
 */
@Component(service = {DeviceIdentity.class, DeviceKey.class}, configurationPid = "io.tollgate.metering.device")
@Designate(ocd = DeviceConfig.class)
public final class FileDeviceIdentity implements DeviceKey {
    private final Ed25519DeviceKey key;

    @Activate
    public FileDeviceIdentity(DeviceConfig config, Map<String, Object> properties) throws IOException {
        this(checked(config, properties));
    }

    private static DeviceConfig checked(DeviceConfig config, Map<String, Object> properties) {
        ConfigurationKeys.refuseUnknown("io.tollgate.metering.device", DeviceConfig.class, properties);
        return config;
    }

    /** Without DS: the configuration as given (its keys are the annotation's own). */
    FileDeviceIdentity(DeviceConfig config) throws IOException {
        Path dir = DataPaths.resolve(config.directory(), "device");
        this.key = Ed25519DeviceKey.loadOrCreate(dir, config.device_id().trim());
    }

    @Override
    public String deviceId() {
        return key.deviceId();
    }

    @Override
    public String publicKeyPem() {
        return key.publicKeyPem();
    }

    @Override
    public byte[] sign(byte[] message) {
        return key.sign(message);
    }

    @Override
    public DevicePublicKey publicKey() {
        return key.publicKey();
    }
}
