package io.tollgate.metering.files;

/** How {@link JournalFiles#export} writes records: docs/usage-records.md, "Export". */
public enum ExportFormat {
    /** One JSON object per line; numbers stay numbers, absent fields are left out. */
    JSONL,
    /** A header line, then one row per record; CRLF line ends (RFC 4180). */
    CSV
}
