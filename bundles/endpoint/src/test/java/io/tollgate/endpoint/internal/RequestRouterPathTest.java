package io.tollgate.endpoint.internal;

import static org.junit.Assert.assertEquals;

import java.util.List;
import org.junit.Test;

/** How the router cuts a path into segments: empty ones (leading, trailing, doubled slashes) do not count. */
public class RequestRouterPathTest {
    @Test
    public void segmentsSkipEmptyParts() {
        assertEquals(List.of("v2", "models", "m", "infer"), RequestRouter.segments("/v2/models/m/infer"));
        assertEquals(List.of("v2", "models", "m", "infer"), RequestRouter.segments("//v2//models/m/infer/"));
        assertEquals(List.of("v2"), RequestRouter.segments("v2"));
        assertEquals(List.of(), RequestRouter.segments("/"));
        assertEquals(List.of(), RequestRouter.segments(""));
        assertEquals(List.of("a b", "c"), RequestRouter.segments("/a b/c"));
    }
}
