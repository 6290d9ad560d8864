package io.tollgate.serving.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import io.tollgate.model.Tensor;
import io.tollgate.serving.InferenceException;
import io.tollgate.serving.InferenceException.Reason;
import io.tollgate.serving.InferenceRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.Test;

/** Route loops (probe 2026-12-03: a route to the box itself recursed 125 times): the Via entries and their check. */
public class RouteHopsTest {
    private static InferenceRequest request(List<String> via) {
        return new InferenceRequest("fm", null, "req-1", List.of(Tensor.ofFloats("x", new long[] {1}, new float[1])),
                List.of(), "acme", Map.of(), Map.of(), via);
    }

    /** A request sent on carries its entries and then this box's; back here it is refused 508 naming the loop. */
    @Test
    public void aRequestThatComesBackIsRefusedAsALoop() {
        RouteHops here = new RouteHops();
        assertTrue(here.pseudonym(), here.pseudonym().matches("tollgate-[0-9a-f]{16}"));
        assertNotEquals("a pseudonym per serving start", here.pseudonym(), new RouteHops().pseudonym());
        InferenceRequest fromClient = request(List.of("1.1 proxy-a"));
        assertTrue("a client's request passes", here.refusal(fromClient).isEmpty());
        InferenceRequest sent = here.forwarded(fromClient);
        assertEquals(List.of("1.1 proxy-a", "1.1 " + here.pseudonym()), sent.via());
        assertTrue("another box takes it", new RouteHops().refusal(sent).isEmpty());
        InferenceException loop = here.refusal(new RouteHops().forwarded(sent)).orElseThrow();
        assertEquals(Reason.LOOP_DETECTED, loop.reason());
        assertTrue(loop.getMessage(), loop.getMessage().startsWith("route loop: request req-1 for model 'fm' came"
                + " back to this box (Via: 1.1 proxy-a, 1.1 " + here.pseudonym() + ", 1.1 tollgate-"));
        assertTrue(loop.getMessage(), loop.getMessage().endsWith("check \"route\" in conf/models/fm.json on each"));
        // the received-by part is compared, with or without a protocol name or a comment
        assertTrue(here.refusal(request(List.of("HTTP/1.1 " + here.pseudonym() + " (Tollgate)"))).isPresent());
        assertTrue(here.refusal(request(List.of(here.pseudonym()))).isEmpty());
    }

    /** At most 8 Tollgate boxes are followed; entries of other intermediaries do not count. */
    @Test
    public void aRequestThatPassedThroughEightBoxesIsRefused() {
        List<String> via = new ArrayList<>(List.of("1.1 squid", "1.0 proxy-b (Apache)"));
        for (int i = 0; i < 7; i++) {
            via.add("1.1 tollgate-00000000000000" + i + "0");
        }
        RouteHops here = new RouteHops();
        assertTrue("7 boxes and 2 proxies", here.refusal(request(via)).isEmpty());
        via.add("1.1 tollgate-ffffffffffffffff");
        InferenceException far = here.refusal(request(via)).orElseThrow();
        assertEquals(Reason.LOOP_DETECTED, far.reason());
        assertTrue(far.getMessage(), far.getMessage().contains("passed through 8 Tollgate boxes")
                && far.getMessage().contains("at most 8 are followed"));
        via.add("1.1 tollgate-fffffffffffffff0");
        assertTrue(here.refusal(request(via)).orElseThrow().getMessage().contains("passed through more than 8"));
        // a proxy that merely names itself tollgate-something is another intermediary (probe 2026-12-03)
        assertTrue(here.refusal(request(java.util.Collections.nCopies(12, "1.1 tollgate-x"))).isEmpty());
        assertTrue(here.refusal(request(java.util.Collections.nCopies(12, "1.1 tollgate-0123456789ABCDEF")))
                .isEmpty());
    }
}
