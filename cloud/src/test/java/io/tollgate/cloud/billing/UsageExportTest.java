package io.tollgate.cloud.billing;

import static org.junit.Assert.assertEquals;

import org.junit.Test;

/** Invoice CSV cells: client-supplied text never starts a spreadsheet formula (OWASP CSV injection). */
public class UsageExportTest {
    @Test
    public void textThatAFormulaWouldStartGetsALeadingQuote() {
        assertEquals("'=cmd|' /C calc'!A0", UsageExport.csv("=cmd|' /C calc'!A0"));
        assertEquals("'+1", UsageExport.csv("+1"));
        assertEquals("'-1", UsageExport.csv("-1"));
        assertEquals("'@SUM(A1)", UsageExport.csv("@SUM(A1)"));
        assertEquals("'\tx", UsageExport.csv("\tx"));
        assertEquals("\"'\rx\"", UsageExport.csv("\rx"));
        assertEquals("\"'=A1,B1\"", UsageExport.csv("=A1,B1"));
        assertEquals("fashion-mnist", UsageExport.csv("fashion-mnist"));
        assertEquals("", UsageExport.csv(""));
        assertEquals("", UsageExport.csv(null));
    }
}
