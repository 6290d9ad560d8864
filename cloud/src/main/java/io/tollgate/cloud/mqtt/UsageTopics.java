package io.tollgate.cloud.mqtt;

/** The MQTT topics of docs/sync-protocol.md the billing endpoint uses: where batches come from, where replies go. */
final class UsageTopics {
    /** Every device's usage batches, shared among the billing instances of group {@code tollgate-billing}. */
    static final String SHARED = shared("tollgate-billing");
    private static final String PREFIX = "tollgate/v1/";

    private UsageTopics() {
    }

    /** Every device's usage batches, shared among the billing instances of {@code group}. */
    static String shared(String group) {
        return "$share/" + group + "/tollgate/v1/+/usage";
    }

    /** The device id of {@code tollgate/v1/{device}/usage}, or null for any other topic. */
    static String deviceOf(String topic) {
        if (!topic.startsWith(PREFIX) || !topic.endsWith("/usage")) {
            return null;
        }
        String device = topic.substring(PREFIX.length(), topic.length() - "/usage".length());
        return device.isEmpty() || device.contains("/") ? null : device;
    }

    static String ack(String device) {
        return PREFIX + device + "/ack";
    }

    /** Where the cloud's commands to a device go (licenses, revocation lists). */
    static String cmd(String device) {
        return PREFIX + device + "/cmd";
    }

    static String resend(String device) {
        return PREFIX + device + "/resend";
    }
}
