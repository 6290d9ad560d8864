package io.tollgate.cloud.billing;

import io.tollgate.cloud.ledger.Ledger;
import io.tollgate.cloud.ledger.LedgerException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import io.tollgate.cloud.ledger.Licenses;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.List;
import java.util.Optional;

/**
 * Computes invoices on demand from the stored USAGE records (only those: quarantined records never reach an
 * invoice). A record belongs to the period its device wall time falls in. Line amount = billed quantity × unit
 * price, rounded half-up to 2 decimals; the total is the sum of the line amounts. The billed quantity is the line's
 * quantity less what license quotas prepaid (see {@link Invoice}; without licenses, the whole quantity).
 */
public final class InvoiceCalculator {
    public static final int AMOUNT_SCALE = 2;

    private final Ledger ledger;

    public InvoiceCalculator(Ledger ledger) {
        this.ledger = ledger;
    }

    public Invoice invoice(String tenant, Period period) throws LedgerException {
        PriceList prices = PriceList.of(ledger.prices());
        Map<String, Long> prepaidByLine = new HashMap<>();
        List<Invoice.LicenseUse> licenseUses = licenseUses(tenant, period, prepaidByLine);
        List<Invoice.Line> lines = new ArrayList<>();
        BigDecimal total = BigDecimal.ZERO.setScale(AMOUNT_SCALE);
        for (Ledger.LineUsage u : ledger.invoiceUsage(tenant, period.startNanos(), period.endNanos(),
                prices.pricedAccelerators())) {
            // a (model, plugin, meter) may have several lines (an accelerator priced on its own): its prepaid units
            // are spread over them in line order
            String key = lineKey(u.model(), u.plugin(), u.meter());
            long prepaid = Math.min(u.quantity(), prepaidByLine.getOrDefault(key, 0L));
            prepaidByLine.merge(key, -prepaid, Long::sum);
            long billed = u.quantity() - prepaid;
            Optional<BigDecimal> unit = prices.unitPrice(u.model(), u.plugin(), u.meter(), u.accelerator());
            BigDecimal amount = unit.map(p -> p.multiply(BigDecimal.valueOf(billed)))
                    .orElse(BigDecimal.ZERO).setScale(AMOUNT_SCALE, RoundingMode.HALF_UP);
            lines.add(new Invoice.Line(u.model(), u.plugin(), u.meter(), u.requests(), u.quantity(),
                    unit.map(BigDecimal::stripTrailingZeros).orElse(null), amount, unit.isPresent(), u.ranges(),
                    prepaid, billed, u.accelerator()));
            total = total.add(amount);
        }
        return new Invoice(tenant, period.toString(), prices.currency(), period.start().toString(),
                period.end().toString(), lines, total, licenseUses);
    }

    private static String lineKey(String model, String plugin, String meter) {
        return model + "\u0000" + plugin + "\u0000" + meter;
    }

    /**
     * Per (license, device): the quota (of the license's meter, per device, over the license's life), the quantity
     * used before the period and in it; the prepaid part = min(before + used, quota) - min(before, quota), the rest
     * overage. The prepaid units are spread over the invoice lines the license's records fall on, in line order,
     * into {@code prepaidByLine}.
     */
    private List<Invoice.LicenseUse> licenseUses(String tenant, Period period, Map<String, Long> prepaidByLine)
            throws LedgerException {
        Map<String, Licenses.LicenseRow> known = new HashMap<>();
        for (Licenses.LicenseRow r : new Licenses(ledger.database()).list(null)) {
            known.put(r.licenseId(), r);
        }
        Map<List<String>, List<Ledger.LicenseLineUsage>> groups = new LinkedHashMap<>();
        for (Ledger.LicenseLineUsage u : ledger.licenseUsage(tenant, period.startNanos(), period.endNanos())) {
            groups.computeIfAbsent(List.of(u.licenseId(), u.device(), u.meter()), k -> new ArrayList<>()).add(u);
        }
        List<Invoice.LicenseUse> out = new ArrayList<>();
        for (Map.Entry<List<String>, List<Ledger.LicenseLineUsage>> g : groups.entrySet()) {
            String id = g.getKey().get(0);
            String device = g.getKey().get(1);
            String meter = g.getKey().get(2);
            Licenses.LicenseRow license = known.get(id);
            // the quota counts the license's own meter; usage of another meter under it is metered
            Long quota = license == null || !license.meter().equals(meter) ? null : license.quota();
            long used = g.getValue().stream().mapToLong(Ledger.LicenseLineUsage::quantity).sum();
            long before = ledger.licenseUsedBefore(id, device, meter, period.startNanos());
            long prepaid = quota == null ? 0 : Math.max(0, Math.min(before + used, quota) - Math.min(before, quota));
            long left = prepaid;
            for (Ledger.LicenseLineUsage u : g.getValue()) {
                long take = Math.min(left, u.quantity());
                left -= take;
                prepaidByLine.merge(lineKey(u.model(), u.plugin(), u.meter()), take, Long::sum);
            }
            out.add(new Invoice.LicenseUse(id, device, license == null ? g.getValue().get(0).plugin()
                    : license.plugin(), meter, license != null, quota, before, used, prepaid, used - prepaid));
        }
        return out;
    }
}
