package io.tollgate.cloud.billing;

import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;

/** A billing period: one calendar month in UTC, written {@code 2026-11}. */
public record Period(YearMonth month) {
    public static Period parse(String text) {
        try {
            return new Period(YearMonth.parse(text));
        } catch (DateTimeParseException | NullPointerException e) {
            throw new IllegalArgumentException("period '" + text + "' is not a month like 2026-11");
        }
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
