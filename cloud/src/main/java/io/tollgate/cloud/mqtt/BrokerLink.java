package io.tollgate.cloud.mqtt;

import java.util.concurrent.CountDownLatch;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;

/**
 * One connection to the broker: its own Paho client (a new one per connection, see {@link ReconnectLoop}), a
 * generation number for logs, and {@code lost}, which opens when Paho reports the connection gone.
 *
 * <p>Threads: immutable; Paho's callback thread opens {@code lost}, any thread may ask {@link #up()}.
 */
record BrokerLink(MqttAsyncClient client, long generation, CountDownLatch lost) {
    boolean up() {
        return lost.getCount() > 0 && client.isConnected();
    }
}
