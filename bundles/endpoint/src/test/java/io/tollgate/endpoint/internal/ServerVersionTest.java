package io.tollgate.endpoint.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;

import org.junit.Test;

/**
 * GET /v2's version is the Maven project version, spelt as Maven spells it (0.1.0-SNAPSHOT, not the
 * Bundle-Version's 0.1.0.SNAPSHOT): the string bin/tollgate version and tollgate-billing version print too.
 */
public class ServerVersionTest {
    @Test
    public void theEndpointReportsTheMavenProjectVersion() {
        String expected = System.getProperty("tollgate.project.version");
        assertNotNull("surefire passes tollgate.project.version", expected);
        assertEquals(expected, ServerVersion.of(HttpEndpoint.class));
    }
}
