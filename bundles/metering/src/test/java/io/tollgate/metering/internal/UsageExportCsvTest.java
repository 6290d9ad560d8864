package io.tollgate.metering.internal;

import static org.junit.Assert.assertEquals;

import org.junit.Test;

/** {@code tollgate usage export --format csv} cells: client text never starts a spreadsheet formula (OWASP). */
public class UsageExportCsvTest {
    @Test
    public void textThatAFormulaWouldStartGetsALeadingQuote() {
        assertEquals("'=HYPERLINK(\"\"http://evil\"\")", UsageExport.csv("=HYPERLINK(\"http://evil\")")
                .replaceAll("^\"|\"$", ""));
        assertEquals("'+1", UsageExport.csv("+1"));
        assertEquals("'-2+3", UsageExport.csv("-2+3"));
        assertEquals("'@SUM(A1)", UsageExport.csv("@SUM(A1)"));
        assertEquals("'\tx", UsageExport.csv("\tx"));
        assertEquals("\"'\rx\"", UsageExport.csv("\rx"));
        assertEquals("\"'=1,2\"", UsageExport.csv("=1,2"));
        assertEquals("req-0001", UsageExport.csv("req-0001"));
        assertEquals("", UsageExport.csv(""));
        assertEquals("numbers stay numbers", "-5000000000", UsageExport.csv(-5_000_000_000L));
    }
}
