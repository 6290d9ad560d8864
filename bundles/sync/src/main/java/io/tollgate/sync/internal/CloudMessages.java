package io.tollgate.sync.internal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/** The JSON messages of docs/sync-protocol.md: acks and resend requests in, status out. */
final class CloudMessages {
    private static final JsonFactory JSON = new JsonFactory();

    private CloudMessages() {
    }

    /**
     * An ack from the cloud.
     *
     * @param signature base64 Ed25519 signature, "" when absent
     */
    record Ack(String device, long ackedSeq, long cloudTimeNanos, boolean hasCloudTime, String signature) {
        /** The bytes the cloud signs: {@code TG-ACK1|{device}|{acked_seq}|{cloud_time_nanos}}. */
        byte[] signedBytes() {
            return ("TG-ACK1|" + device + "|" + ackedSeq + "|" + cloudTimeNanos).getBytes(StandardCharsets.US_ASCII);
        }
    }

    /** A request to send again from {@code fromSeq}. */
    record Resend(long fromSeq, String reason) {
    }

    static Ack parseAck(byte[] payload) {
        Map<String, Object> f = flatObject(payload, "ack");
        Object device = f.get("device");
        Object acked = f.get("acked_seq");
        Object time = f.get("cloud_time_nanos");
        Object sig = f.get("signature");
        if (!(device instanceof String)) {
            throw new IllegalArgumentException("ack without a string \"device\"");
        }
        if (!(acked instanceof Long) || (Long) acked < 0) {
            throw new IllegalArgumentException("ack without a non-negative integer \"acked_seq\"");
        }
        if (time != null && !(time instanceof Long)) {
            throw new IllegalArgumentException("ack \"cloud_time_nanos\" is not an integer");
        }
        if (sig != null && !(sig instanceof String)) {
            throw new IllegalArgumentException("ack \"signature\" is not a string");
        }
        return new Ack((String) device, (Long) acked, time == null ? 0 : (Long) time, time != null,
                sig == null ? "" : (String) sig);
    }

    static Resend parseResend(byte[] payload) {
        Map<String, Object> f = flatObject(payload, "resend");
        Object from = f.get("from_seq");
        Object reason = f.get("reason");
        if (!(from instanceof Long) || (Long) from < 1) {
            throw new IllegalArgumentException("resend without a positive integer \"from_seq\"");
        }
        return new Resend((Long) from, reason instanceof String s ? s : "");
    }

    /** Top-level scalar fields of a JSON object (strings as String, integers as Long); nested values skipped. */
    private static Map<String, Object> flatObject(byte[] payload, String what) {
        Map<String, Object> out = new HashMap<>();
        try (JsonParser p = JSON.createParser(payload)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new IllegalArgumentException(what + " is not a JSON object");
            }
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                switch (v) {
                    case VALUE_STRING -> out.put(name, p.getText());
                    case VALUE_NUMBER_INT -> {
                        if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                            throw new IllegalArgumentException(what + " field \"" + name + "\" is out of range");
                        }
                        out.put(name, p.getLongValue());
                    }
                    case START_OBJECT, START_ARRAY -> p.skipChildren();
                    default -> out.put(name, p.getText());
                }
            }
            if (t != JsonToken.END_OBJECT) {
                throw new IllegalArgumentException(what + " is not a complete JSON object");
            }
            if (p.nextToken() != null) {
                throw new IllegalArgumentException(what + " has content after its JSON object");
            }
        } catch (IOException e) {
            throw new IllegalArgumentException(what + " is not valid JSON: " + e.getMessage());
        }
        return out;
    }

    /** The retained status payload for state "online". */
    static byte[] onlineStatus(String version, long lastSeq, long ackedSeq, long oldestUnackedAgeMs, Instant now) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(200);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("state", "online");
            g.writeStringField("version", version);
            g.writeNumberField("last_seq", lastSeq);
            g.writeNumberField("acked_seq", ackedSeq);
            g.writeNumberField("backlog", Math.max(0, lastSeq - ackedSeq));
            g.writeNumberField("oldest_unacked_age_ms", oldestUnackedAgeMs);
            g.writeStringField("time", now.toString());
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** The last will (and the status a clean shutdown leaves): {@code {"state":"offline"}}. */
    static byte[] offlineStatus() {
        return "{\"state\":\"offline\"}".getBytes(StandardCharsets.US_ASCII);
    }
}
