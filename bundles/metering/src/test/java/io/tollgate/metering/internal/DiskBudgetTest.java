package io.tollgate.metering.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.metering.MeteringException;
import org.junit.Test;

public class DiskBudgetTest {
    @Test
    public void warnsAt80PercentRefusesAt100AndResumesBelow() throws Exception {
        DiskBudget b = new DiskBudget(1000);
        b.check(799);
        assertFalse(b.warning());
        b.check(800);
        assertTrue(b.warning());
        assertFalse(b.refusing());
        try {
            b.check(1000);
            fail("at the budget");
        } catch (MeteringException e) {
            assertEquals(MeteringException.Reason.DISK_BUDGET_EXCEEDED, e.reason());
            assertEquals("usage journal is at its disk budget (1000 of 1000 bytes); free space or raise "
                    + "disk.budget.bytes in configuration io.tollgate.metering.journal", e.getMessage());
        }
        assertTrue(b.refusing());
        b.recheck(1200); // still over: no exception, still refusing
        assertTrue(b.refusing());
        b.recheck(500);
        assertFalse(b.refusing());
        assertFalse(b.warning());
        b.check(999);
        assertTrue(b.warning());
    }
}
