package io.tollgate.cloud.billing;

import io.tollgate.cloud.ledger.Ledger;
import io.tollgate.cloud.ledger.LedgerException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Computes invoices on demand from the stored USAGE records (only those: quarantined records never reach an
 * invoice). A record belongs to the period its device wall time falls in. Line amount = quantity × unit price,
 * rounded half-up to 2 decimals; the total is the sum of the line amounts.
 */
public final class InvoiceCalculator {
    public static final int AMOUNT_SCALE = 2;

    private final Ledger ledger;

    public InvoiceCalculator(Ledger ledger) {
        this.ledger = ledger;
    }

    public Invoice invoice(String tenant, Period period) throws LedgerException {
        PriceList prices = PriceList.of(ledger.prices());
        List<Invoice.Line> lines = new ArrayList<>();
        BigDecimal total = BigDecimal.ZERO.setScale(AMOUNT_SCALE);
        for (Ledger.LineUsage u : ledger.invoiceUsage(tenant, period.startNanos(), period.endNanos())) {
            Optional<BigDecimal> unit = prices.unitPrice(u.model(), u.plugin(), u.meter());
            BigDecimal amount = unit.map(p -> p.multiply(BigDecimal.valueOf(u.quantity())))
                    .orElse(BigDecimal.ZERO).setScale(AMOUNT_SCALE, RoundingMode.HALF_UP);
            lines.add(new Invoice.Line(u.model(), u.plugin(), u.meter(), u.requests(), u.quantity(),
                    unit.map(BigDecimal::stripTrailingZeros).orElse(null), amount, unit.isPresent(), u.ranges()));
            total = total.add(amount);
        }
        return new Invoice(tenant, period.toString(), prices.currency(), period.start().toString(),
                period.end().toString(), lines, total);
    }
}
