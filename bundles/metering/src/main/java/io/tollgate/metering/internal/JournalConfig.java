package io.tollgate.metering.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Configuration of the usage journal (PID {@code io.tollgate.metering.journal}). Following the DS
 * rules, a method name's "_" is a "." in the property key: {@code disk_budget_bytes} is the key
 * {@code disk.budget.bytes}.
 */
@ObjectClassDefinition(name = "Tollgate usage journal",
        description = "Hash-chained, sealed usage records in a Chronicle Queue")
public @interface JournalConfig {
    @AttributeDefinition(name = "Directory",
            description = "Journal directory; empty = <tollgate.data>/usage, or data/usage when tollgate.data is not set")
    String directory() default "";

    @AttributeDefinition(name = "Disk budget (bytes)",
            description = "Warn at 80%, refuse new usage records at 100% until released records are deleted")
    long disk_budget_bytes() default 2L << 30;

    @AttributeDefinition(name = "Disk reserve (bytes)",
            description = "Refuse new usage records while the journal's file system has less free space than this "
                    + "(at least 2 MiB); accepted again within 250 ms of space being freed")
    long disk_reserve_bytes() default 16L << 20;

    @AttributeDefinition(name = "Seal every N records", description = "A seal is requested after this many records")
    int seal_every_records() default 256;

    @AttributeDefinition(name = "Seal every T milliseconds",
            description = "Unsealed records are sealed at the latest after this long")
    long seal_every_ms() default 1000;

    @AttributeDefinition(name = "Sync mode",
            description = "NONE: page cache only (survives a killed JVM, not a power cut); BATCH: fsync on the "
                    + "sealer thread after every seal (power cut loses at most one seal interval); EVERY_RECORD: "
                    + "msync before append returns (power-cut safe, costs a disk flush per request)")
    String sync_mode() default "BATCH";

    @AttributeDefinition(name = "Roll cycle",
            description = "Chronicle roll cycle: one journal file per cycle; retention deletes whole files")
    String roll_cycle() default "FAST_HOURLY";
}
