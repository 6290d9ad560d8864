package io.tollgate.cloud.billing;

import io.tollgate.cloud.ledger.Ledger.Range;
import java.math.BigDecimal;
import java.util.List;

/**
 * A tenant's invoice for one period. Each line cites, per device, the seq range of the records it bills and the
 * chain hash of the last one, so the customer can check it against the device's own journal.
 * A line without a price has {@code unitPrice} null and amount 0 ({@code priced} false).
 */
public record Invoice(String tenant, String period, String currency, String from, String to, List<Line> lines,
                      BigDecimal total) {

    public record Line(String model, String plugin, String meter, long requests, long quantity, BigDecimal unitPrice,
                       BigDecimal amount, boolean priced, List<Range> ranges) {
    }
}
