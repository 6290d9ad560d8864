package io.tollgate.cloud.billing;

import io.tollgate.cloud.ledger.Ledger.Range;
import java.math.BigDecimal;
import java.util.List;

/**
 * A tenant's invoice for one period. Each line cites, per device, the seq range of the records it bills and the
 * chain hash of the last one, so the customer can check it against the device's own journal.
 * A line without a price has {@code unitPrice} null and amount 0 ({@code priced} false).
 *
 * <p>Licenses (issue 10): {@code prepaid} of a line is the part of its quantity covered by the prepaid quota of the
 * licenses its records name; only the rest ({@code billed} = quantity - prepaid, the metered overage and usage under
 * unlimited or unknown licenses) is priced. {@code licenses} says, per license and device, the quota, what was used
 * before and in the period, and how much of it was prepaid or overage (docs/billing.md, "Invoices").
 */
public record Invoice(String tenant, String period, String currency, String from, String to, List<Line> lines,
                      BigDecimal total, List<LicenseUse> licenses) {

    /** Without license usage (no record names a license). */
    public Invoice(String tenant, String period, String currency, String from, String to, List<Line> lines,
                   BigDecimal total) {
        this(tenant, period, currency, from, to, lines, total, List.of());
    }

    /**
     * @param prepaid units of {@code quantity} covered by license quotas (not priced)
     * @param billed  {@code quantity - prepaid}: what {@code amount} prices
     */
    public record Line(String model, String plugin, String meter, long requests, long quantity, BigDecimal unitPrice,
                       BigDecimal amount, boolean priced, List<Range> ranges, long prepaid, long billed,
                       String accelerator) {
        /** A line of every accelerator's usage ({@code accelerator} ""). */
        public Line(String model, String plugin, String meter, long requests, long quantity, BigDecimal unitPrice,
                    BigDecimal amount, boolean priced, List<Range> ranges, long prepaid, long billed) {
            this(model, plugin, meter, requests, quantity, unitPrice, amount, priced, ranges, prepaid, billed, "");
        }
    }

    /**
     * One license's use on one device in the period.
     *
     * @param known         whether the ledger knows the license (license import); an unknown one has no quota here
     * @param quota         its prepaid quantity of {@code meter} (per device), null = unlimited (everything metered)
     * @param usedBefore    quantity used under it on the device before the period
     * @param used          quantity used under it on the device in the period
     * @param prepaid       the part of {@code used} within the quota
     * @param overage       {@code used - prepaid}: metered beyond the quota (or everything, when unlimited)
     */
    public record LicenseUse(String licenseId, String device, String plugin, String meter, boolean known, Long quota,
                             long usedBefore, long used, long prepaid, long overage) {
    }
}
