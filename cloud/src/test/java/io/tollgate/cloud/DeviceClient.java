package io.tollgate.cloud;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

/** A test device on the broker: publishes batches, collects the acks and resend requests addressed to it. */
public final class DeviceClient implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    public final String deviceId;
    public final BlockingQueue<JsonNode> acks = new LinkedBlockingQueue<>();
    public final BlockingQueue<JsonNode> resends = new LinkedBlockingQueue<>();
    /** Commands on tollgate/v1/{device}/cmd (licenses, revocation lists). */
    public final BlockingQueue<JsonNode> commands = new LinkedBlockingQueue<>();
    private final MqttClient client;
    private boolean closed;

    public DeviceClient(String uri, String deviceId) throws MqttException {
        this.deviceId = deviceId;
        client = new MqttClient(uri, "tollgate-" + deviceId, new MemoryPersistence());
        client.setCallback(new MqttCallback() {
            @Override
            public void messageArrived(String topic, MqttMessage message) throws Exception {
                JsonNode json = JSON.readTree(message.getPayload());
                if (topic.endsWith("/ack")) {
                    acks.add(json);
                } else if (topic.endsWith("/resend")) {
                    resends.add(json);
                } else if (topic.endsWith("/cmd")) {
                    commands.add(json);
                }
            }

            @Override
            public void disconnected(MqttDisconnectResponse r) {
            }

            @Override
            public void mqttErrorOccurred(MqttException e) {
            }

            @Override
            public void deliveryComplete(IMqttToken token) {
            }

            @Override
            public void connectComplete(boolean reconnect, String serverURI) {
            }

            @Override
            public void authPacketArrived(int reasonCode, MqttProperties properties) {
            }
        });
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(true);
        client.connect(o);
        client.subscribe(new String[] {"tollgate/v1/" + deviceId + "/ack", "tollgate/v1/" + deviceId + "/resend",
            "tollgate/v1/" + deviceId + "/cmd"}, new int[] {1, 1, 1});
    }

    /** Paho's reason code for "Too many publishes in progress" (its in-flight window is full). */
    private static final int TOO_MANY_PUBLISHES_IN_PROGRESS = 32202;

    /** Publishes at QoS 1; waits (up to 10 s) while the client already has its maximum of publishes in flight. */
    public void publish(byte[] batch) throws MqttException {
        long deadline = System.currentTimeMillis() + 10_000;
        while (true) {
            try {
                client.publish("tollgate/v1/" + deviceId + "/usage", batch, 1, false);
                return;
            } catch (MqttException e) {
                if (e.getReasonCode() != TOO_MANY_PUBLISHES_IN_PROGRESS
                        || System.currentTimeMillis() > deadline) {
                    throw e;
                }
                try {
                    Thread.sleep(10);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /** Waits for an ack whose acked_seq reaches {@code seq}; returns it, or null after the timeout. */
    public JsonNode awaitAck(long seq, long timeoutMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (System.currentTimeMillis() < deadline) {
            JsonNode ack = acks.poll(deadline - System.currentTimeMillis(), TimeUnit.MILLISECONDS);
            if (ack != null && ack.path("acked_seq").asLong() >= seq) {
                return ack;
            }
        }
        return null;
    }

    @Override
    public void close() throws MqttException {
        if (closed) {
            return;
        }
        closed = true;
        if (client.isConnected()) {
            client.disconnect();
        }
        client.close();
    }
}
