package io.tollgate.licensing.vendor.cli;

import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** DATE on the command line: an ISO date (00:00 UTC that day), an instant, or a date-time with an offset. */
final class Dates implements ITypeConverter<Instant> {
    @Override
    public Instant convert(String value) {
        try {
            return LocalDate.parse(value).atStartOfDay(ZoneOffset.UTC).toInstant();
        } catch (DateTimeParseException e) {
            // not a date
        }
        try {
            return Instant.parse(value);
        } catch (DateTimeParseException e) {
            // not an instant
        }
        try {
            return OffsetDateTime.parse(value).toInstant();
        } catch (DateTimeParseException e) {
            throw new TypeConversionException("'" + value + "' is not a date (2027-01-31) or an instant "
                    + "(2027-01-31T12:00:00Z)");
        }
    }
}
