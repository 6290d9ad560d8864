package io.tollgate.tools.device;

import io.tollgate.metering.files.DeviceFiles;
import io.tollgate.tools.DeviceHost;
import java.io.IOException;
import java.nio.file.Path;

/** The device commands' work, through metering's exported {@link DeviceFiles}. */
final class DeviceReports {
    private DeviceReports() {
    }

    static String init(Path data) throws IOException {
        String id = DeviceFiles.of(data).init();
        // which host made the key: run refuses a key copied to another box (docs/operations.md, "Install and run")
        DeviceHost.recordIfMissing(data, DeviceHost.current());
        io.tollgate.guard.DeviceWrapKey.ensure(data.resolve("device"));
        return id;
    }

    static String id(Path data) throws IOException {
        return DeviceFiles.of(data).id();
    }

    static String publicKeyPem(Path data) throws IOException {
        return DeviceFiles.of(data).publicKeyPem();
    }
}
