package io.tollgate.cloud.mqtt;

import org.eclipse.paho.mqttv5.common.MqttMessage;

/** A batch as Paho handed it over, with the connection it must be PUBACKed on. Immutable. */
record Delivery(BrokerLink link, String topic, MqttMessage message) {
}
