package io.tollgate.endpoint.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.serving.InferenceException;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.Test;

/** The token bucket and the concurrency limit of {@link TenantLimits}, on a clock the test moves. */
public class TenantLimitsTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000_000L);

    private TenantLimits limits(TenantLimits.Limit defaults, String overrides) {
        return new TenantLimits(defaults, TenantLimits.parse(overrides, defaults), now::get);
    }

    private static TenantLimits.Refused refused(TenantLimits l, String tenant) {
        try {
            l.admit(tenant).close();
        } catch (TenantLimits.Refused r) {
            assertEquals(InferenceException.Reason.RATE_LIMITED, r.reason());
            return r;
        }
        fail("tenant " + tenant + " was admitted");
        return null;
    }

    @Test
    public void burstThenOneTokenPerInterval() throws Exception {
        TenantLimits l = limits(new TenantLimits.Limit(2, 3, 0), "");   // 2/s, 3 saved up
        for (int i = 0; i < 3; i++) {
            l.admit("line7").close();
        }
        TenantLimits.Refused r = refused(l, "line7");
        assertEquals(1, r.retryAfterSeconds());   // 0.5 s to the next token, rounded up
        assertTrue(r.getMessage(), r.getMessage().contains("tenant 'line7' is over its request rate limit (2 requests "
                + "per second, burst 3)"));
        now.addAndGet(499_000_000L);
        refused(l, "line7");
        now.addAndGet(1_000_000L);       // 0.5 s: one token
        l.admit("line7").close();
        refused(l, "line7");
        now.addAndGet(10_000_000_000L);  // idle for long: the bucket fills to its burst, not beyond
        for (int i = 0; i < 3; i++) {
            l.admit("line7").close();
        }
        refused(l, "line7");
    }

    @Test
    public void retryAfterIsTheWaitForTheNextTokenRoundedUp() throws Exception {
        TenantLimits l = limits(new TenantLimits.Limit(0.2, 1, 0), "");   // one request per 5 s
        l.admit("t").close();
        assertEquals(5, refused(l, "t").retryAfterSeconds());
        now.addAndGet(3_500_000_000L);
        assertEquals(2, refused(l, "t").retryAfterSeconds());   // 1.5 s left: 2
        now.addAndGet(1_500_000_000L);
        l.admit("t").close();
    }

    @Test
    public void aRefusedRequestTakesNoToken() throws Exception {
        TenantLimits l = limits(new TenantLimits.Limit(1, 1, 0), "");
        l.admit("t").close();
        for (int i = 0; i < 100; i++) {
            refused(l, "t");
        }
        now.addAndGet(1_000_000_000L);
        l.admit("t").close();   // the refusals did not push the next token away
    }

    @Test
    public void tenantsHaveTheirOwnBuckets() throws Exception {
        TenantLimits l = limits(TenantLimits.Limit.NONE, "noisy: rate=1 burst=1");
        l.admit("noisy").close();
        refused(l, "noisy");
        for (int i = 0; i < 1000; i++) {
            l.admit("quiet").close();   // no limit: never refused
        }
        StringBuilder out = new StringBuilder();
        l.render(out);
        assertTrue(out.toString(), out.toString().contains(
                "tollgate_tenant_requests_refused_total{tenant=\"noisy\",limit=\"rate\"} 1\n"));
        assertFalse("an unlimited tenant keeps no state and gets no series", out.toString().contains("quiet"));
    }

    @Test
    public void concurrencyLimitCountsRequestsUntilTheirTicketCloses() throws Exception {
        TenantLimits l = limits(new TenantLimits.Limit(0, 0, 2), "");
        TenantLimits.Ticket a = l.admit("t");
        TenantLimits.Ticket b = l.admit("t");
        TenantLimits.Refused r = refused(l, "t");
        assertEquals(1, r.retryAfterSeconds());
        assertTrue(r.getMessage(), r.getMessage().contains("has 2 requests in flight, its concurrency limit"));
        a.close();
        TenantLimits.Ticket c = l.admit("t");
        StringBuilder out = new StringBuilder();
        l.render(out);
        assertTrue(out.toString(), out.toString().contains("tollgate_tenant_requests_in_flight{tenant=\"t\"} 2\n"));
        assertTrue(out.toString(), out.toString().contains(
                "tollgate_tenant_requests_refused_total{tenant=\"t\",limit=\"concurrency\"} 1\n"));
        b.close();
        c.close();
        l.admit("t").close();
    }

    @Test
    public void noLimitsMeansNoStateAndTheSameFreeTicket() throws Exception {
        TenantLimits l = TenantLimits.none();
        assertFalse(l.enabled());
        assertSame(l.admit("a"), l.admit("b"));
    }

    @Test
    public void overridesInheritTheDefaultsTheyDoNotSet() {
        TenantLimits.Limit defaults = new TenantLimits.Limit(10, 20, 4);
        Map<String, TenantLimits.Limit> m = TenantLimits.parse(" line7: rate=2 ; line8: concurrent=1, burst=5;", defaults);
        assertEquals(new TenantLimits.Limit(2, 2, 4), m.get("line7"));     // its own rate: burst follows it
        assertEquals(new TenantLimits.Limit(10, 5, 1), m.get("line8"));
        assertEquals(new TenantLimits.Limit(0.5, 1, 0), TenantLimits.parse("a: rate=0.5", TenantLimits.Limit.NONE)
                .get("a"));
    }

    @Test
    public void badEntriesSayWhatIsWrong() {
        String[][] cases = {
                {"line7 rate=2", "has no 'TENANT:'"},
                {"line7: speed=2", "unknown setting 'speed=2'"},
                {"line7: rate=fast", "'rate=fast' needs a number"},
                {"line7: rate=-1", "rate must be 0"},
                {"line7: concurrent=-3", "concurrent must be 0"},
                {"bad tenant!: rate=1", "is not a tenant"},
                {"a: rate=1; a: rate=2", "names tenant 'a' twice"},
        };
        for (String[] c : cases) {
            try {
                TenantLimits.parse(c[0], TenantLimits.Limit.NONE);
                fail("accepted: " + c[0]);
            } catch (IllegalArgumentException e) {
                assertTrue(c[0] + ": " + e.getMessage(), e.getMessage().contains(c[1]));
            }
        }
    }
}
