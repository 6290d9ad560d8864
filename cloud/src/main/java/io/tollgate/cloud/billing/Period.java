package io.tollgate.cloud.billing;

import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;

/** A billing period: one calendar month in UTC, written {@code 2026-11}. */
public record Period(YearMonth month) {
    /** The first month whose start the ledger's nanosecond times can hold (1677-09-21 is the earliest instant). */
    public static final YearMonth FIRST = YearMonth.of(1677, 10);
    /** The last month whose end the ledger's nanosecond times can hold (2262-04-11 is the latest instant). */
    public static final YearMonth LAST = YearMonth.of(2262, 3);

    /**
     * Parses {@code 2026-11}.
     *
     * @throws IllegalArgumentException (a 400 on the API) when it is not a month, or a month outside
     *                                  {@link #FIRST}..{@link #LAST}: record times are nanoseconds since 1970 in a
     *                                  signed 64-bit integer, so a month like {@code +10000-01} has no start in them
     */
    public static Period parse(String text) {
        YearMonth m;
        try {
            m = YearMonth.parse(text);
        } catch (DateTimeParseException | NullPointerException e) {
            throw new IllegalArgumentException("period '" + text + "' is not a month like 2026-11");
        }
        if (m.isBefore(FIRST) || m.isAfter(LAST)) {
            throw new IllegalArgumentException("period '" + text + "' is out of range: give a month from " + FIRST
                    + " to " + LAST + " (record times are nanoseconds since 1970 in 64 bits)");
        }
        return new Period(m);
    }

    public Instant start() {
        return month.atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC);
    }

    public Instant end() {
        return month.plusMonths(1).atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC);
    }

    public long startNanos() {
        return nanos(start());
    }

    public long endNanos() {
        return nanos(end());
    }

    public static long nanos(Instant t) {
        return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000_000L), t.getNano());
    }

    public static Instant instant(long nanos) {
        return Instant.ofEpochSecond(Math.floorDiv(nanos, 1_000_000_000L), Math.floorMod(nanos, 1_000_000_000L));
    }

    @Override
    public String toString() {
        return month.toString();
    }
}
