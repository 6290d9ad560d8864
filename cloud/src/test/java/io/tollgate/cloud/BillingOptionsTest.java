package io.tollgate.cloud;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Path;
import org.junit.Test;

public class BillingOptionsTest {
    @Test
    public void theDefaultClientIdIsStableAndDependsOnDataDirAndHttpPort() {
        BillingOptions a = BillingOptions.defaults(Path.of("/srv/billing/data"));
        String id = a.mqttClientId();
        assertTrue(id, id.matches("tollgate-billing-[a-z0-9._-]{1,32}-[0-9a-f]{8}"));
        assertEquals("same data dir and port, same id (the broker session resumes)", id,
                BillingOptions.defaults(Path.of("/srv/billing/../billing/data")).mqttClientId());
        assertNotEquals(id, BillingOptions.defaults(Path.of("/srv/other/data")).mqttClientId());
        assertNotEquals(id, a.withHttp("0.0.0.0", 8081).mqttClientId());
        assertEquals("explicit --client-id wins", "billing-a", a.withClientId("billing-a").mqttClientId());
    }
}
