package io.tollgate.tools.usage;

import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** An instant ({@code 2026-11-23T10:00:00Z}), an offset date-time ({@code ...+01:00}) or a date (UTC midnight). */
public final class IsoInstantConverter implements ITypeConverter<Instant> {
    @Override
    public Instant convert(String s) {
        try {
            return Instant.parse(s);
        } catch (DateTimeParseException e) {
            try {
                return OffsetDateTime.parse(s).toInstant();
            } catch (DateTimeParseException e2) {
                try {
                    return LocalDate.parse(s).atStartOfDay(ZoneOffset.UTC).toInstant();
                } catch (DateTimeParseException e3) {
                    throw new TypeConversionException("'" + s + "' is not an ISO instant, offset date-time or date "
                            + "(e.g. 2026-11-23T10:00:00Z or 2026-11-23)");
                }
            }
        }
    }
}
