package io.tollgate.cloud.billing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tollgate.cloud.ledger.Ledger.Range;
import io.tollgate.cloud.ledger.StoredUsage;
import java.util.List;
import java.util.stream.Collectors;

/** Text forms of invoices and usage: invoice CSV and CloudEvents JSON lines (what OpenMeter ingests). */
public final class UsageExport {
    private static final ObjectMapper JSON = new ObjectMapper();

    private UsageExport() {
    }

    public static final String INVOICE_CSV_HEADER = "tenant,period,currency,model,plugin,meter,requests,quantity,"
            + "unit_price,amount,ranges,prepaid,billed_quantity";

    /**
     * RFC 4180 (CRLF); {@code ranges} is "device:from-to@last_hash" joined by ';'; {@code prepaid} the units license
     * quotas covered, {@code billed_quantity} what {@code amount} prices (both added for issue 10, at the end).
     */
    public static String invoiceCsv(Invoice invoice) {
        StringBuilder out = new StringBuilder(INVOICE_CSV_HEADER).append("\r\n");
        for (Invoice.Line l : invoice.lines()) {
            out.append(csv(invoice.tenant())).append(',').append(csv(invoice.period())).append(',')
                    .append(csv(invoice.currency())).append(',').append(csv(l.model())).append(',')
                    .append(csv(l.plugin())).append(',').append(csv(l.meter())).append(',')
                    .append(l.requests()).append(',').append(l.quantity()).append(',')
                    .append(l.unitPrice() == null ? "" : l.unitPrice().toPlainString()).append(',')
                    .append(l.amount().toPlainString()).append(',').append(csv(ranges(l.ranges()))).append(',')
                    .append(l.prepaid()).append(',').append(l.billed()).append("\r\n");
        }
        return out.toString();
    }

    static String ranges(List<Range> ranges) {
        return ranges.stream().map(r -> r.device() + ":" + r.fromSeq() + "-" + r.toSeq() + "@" + r.lastHash())
                .collect(Collectors.joining(";"));
    }

    /**
     * One RFC 4180 cell. Text that a spreadsheet would run as a formula (starting with {@code = + - @}, a tab or a
     * CR — OWASP "CSV injection") gets a leading single quote: model, plugin, meter and tenant names come from
     * devices and their clients, and an invoice CSV is opened in spreadsheets.
     */
    static String csv(String value) {
        if (value == null) {
            return "";
        }
        if (!value.isEmpty() && "=+-@\t\r".indexOf(value.charAt(0)) >= 0) {
            value = "'" + value;
        }
        if (value.contains(",") || value.contains("\"") || value.contains("\n") || value.contains("\r")) {
            return '"' + value.replace("\"", "\"\"") + '"';
        }
        return value;
    }

    /** One CloudEvents 1.0 structured-mode event (a single JSON line, no newline) for a stored USAGE record. */
    public static String cloudEvent(StoredUsage u) {
        ObjectNode e = JSON.createObjectNode();
        e.put("specversion", "1.0");
        e.put("type", "tollgate.usage");
        e.put("id", u.deviceId() + ":" + u.seq());
        e.put("source", u.deviceId());
        e.put("subject", u.tenant());
        e.put("time", Period.instant(u.wallTimeNanos()).toString());
        e.put("datacontenttype", "application/json");
        ObjectNode d = e.putObject("data");
        d.put("model", u.model());
        d.put("model_version", u.modelVersion());
        d.put("plugin", u.plugin());
        d.put("plugin_version", u.pluginVersion());
        d.put("license_id", u.licenseId());
        d.put("meter", u.meter());
        d.put("quantity", u.quantity());
        d.put("compute_nanos", u.computeNanos());
        d.put("accelerator", u.accelerator());
        d.put("request_id", u.requestId());
        d.put("status", u.status());
        d.put("seq", u.seq());
        d.put("hash", u.hash());
        return e.toString();
    }

    /** The usage record as JSON, with the field names of `tollgate usage export --format jsonl`. */
    public static ObjectNode usageJson(StoredUsage u) {
        ObjectNode o = JSON.createObjectNode();
        o.put("device_id", u.deviceId());
        o.put("seq", u.seq());
        o.put("kind", "usage");
        o.put("time", Period.instant(u.wallTimeNanos()).toString());
        o.put("wall_time_nanos", u.wallTimeNanos());
        o.put("tenant", u.tenant());
        o.put("model", u.model());
        o.put("model_version", u.modelVersion());
        o.put("plugin", u.plugin());
        o.put("plugin_version", u.pluginVersion());
        o.put("license_id", u.licenseId());
        o.put("meter", u.meter());
        o.put("quantity", u.quantity());
        o.put("compute_nanos", u.computeNanos());
        o.put("accelerator", u.accelerator());
        o.put("request_id", u.requestId());
        o.put("status", u.status());
        o.put("hash", u.hash());
        return o;
    }

    public static ObjectNode invoiceJson(Invoice inv) {
        ObjectNode o = JSON.createObjectNode();
        o.put("tenant", inv.tenant());
        o.put("period", inv.period());
        o.put("currency", inv.currency());
        o.put("from", inv.from());
        o.put("to", inv.to());
        var lines = o.putArray("lines");
        for (Invoice.Line l : inv.lines()) {
            ObjectNode n = lines.addObject();
            n.put("model", l.model());
            n.put("plugin", l.plugin());
            n.put("meter", l.meter());
            if (!l.accelerator().isEmpty()) {
                n.put("accelerator", l.accelerator());   // a line of one accelerator's usage, priced on its own
            }
            n.put("requests", l.requests());
            n.put("quantity", l.quantity());
            if (l.unitPrice() == null) {
                n.putNull("unit_price");
            } else {
                n.put("unit_price", l.unitPrice().toPlainString());
            }
            n.put("prepaid", l.prepaid());
            n.put("billed_quantity", l.billed());
            n.put("amount", l.amount().toPlainString());
            n.put("priced", l.priced());
            var rs = n.putArray("ranges");
            for (Range r : l.ranges()) {
                rangeJson(rs.addObject(), r);
            }
        }
        o.put("total", inv.total().toPlainString());
        var licenses = o.putArray("licenses");
        for (Invoice.LicenseUse u : inv.licenses()) {
            ObjectNode n = licenses.addObject();
            n.put("license_id", u.licenseId());
            n.put("device", u.device());
            n.put("plugin", u.plugin());
            n.put("meter", u.meter());
            n.put("known", u.known());
            if (u.quota() == null) {
                n.putNull("quota");
            } else {
                n.put("quota", u.quota());
            }
            n.put("used_before", u.usedBefore());
            n.put("used", u.used());
            n.put("prepaid", u.prepaid());
            n.put("overage", u.overage());
        }
        return o;
    }

    public static void rangeJson(ObjectNode n, Range r) {
        n.put("device", r.device());
        n.put("from_seq", r.fromSeq());
        n.put("to_seq", r.toSeq());
        n.put("records", r.records());
        n.put("last_hash", r.lastHash());
    }
}
