package io.tollgate.tools.device;

import io.tollgate.metering.files.DeviceFiles;
import java.io.IOException;
import java.nio.file.Path;

/** The device commands' work, through metering's exported {@link DeviceFiles}. */
final class DeviceReports {
    private DeviceReports() {
    }

    static String init(Path data) throws IOException {
        return DeviceFiles.of(data).init();
    }

    static String id(Path data) throws IOException {
        return DeviceFiles.of(data).id();
    }

    static String publicKeyPem(Path data) throws IOException {
        return DeviceFiles.of(data).publicKeyPem();
    }
}
