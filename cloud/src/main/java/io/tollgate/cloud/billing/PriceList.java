package io.tollgate.cloud.billing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tollgate.cloud.ledger.Ledger.PriceRow;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Prices per unit, per (model, plugin or accelerator, meter), in one currency. An accelerator price wins over a model
 * price, which wins over a plugin price; the accelerator price is for the usage records of that accelerator only, e.g.
 * {@code remote:plant-b} for the requests a box's hybrid route sent to another box (docs/scheduling.md, "Hybrid
 * overflow"), which that box meters too. The file form (JSON):
 * <pre>{"currency": "EUR", "prices": [
 *   {"model": "fashion-mnist", "meter": "inference", "unit_price": "0.0010"},
 *   {"plugin": "io.tollgate.plugin.ocr", "meter": "page", "unit_price": "0.02"},
 *   {"accelerator": "remote:plant-b", "meter": "inference", "unit_price": "0"}]}</pre>
 */
public final class PriceList {
    /**
     * The {@code selector_kind} of an accelerator price in the ledger's {@code prices} table, whose column holds 8
     * characters (so no schema change was needed).
     */
    public static final String ACCELERATOR = "accel";

    private final String currency;
    private final List<PriceRow> rows;

    public PriceList(String currency, List<PriceRow> rows) {
        this.currency = currency;
        this.rows = List.copyOf(rows);
    }

    public static PriceList empty() {
        return new PriceList("EUR", List.of());
    }

    /** Rebuilds the list from the ledger's prices table. */
    public static PriceList of(List<PriceRow> rows) {
        return new PriceList(rows.isEmpty() ? "EUR" : rows.get(0).currency(), rows);
    }

    public static PriceList read(Path file) throws IOException {
        JsonNode root;
        try {
            root = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).readTree(file.toFile());
        } catch (IOException e) {
            throw new IOException("price list " + file + " is not readable JSON: " + e.getMessage(), e);
        }
        String currency = root.path("currency").asText("");
        if (!currency.matches("[A-Z]{3}")) {
            throw new IOException("price list " + file + ": \"currency\" must be an ISO 4217 code like \"EUR\", got '"
                    + currency + "'");
        }
        List<PriceRow> rows = new ArrayList<>();
        JsonNode prices = root.path("prices");
        if (!prices.isArray()) {
            throw new IOException("price list " + file + ": \"prices\" must be an array of "
                    + "{\"model\"|\"plugin\", \"meter\", \"unit_price\"}");
        }
        int i = 0;
        for (JsonNode p : prices) {
            i++;
            boolean model = p.hasNonNull("model");
            boolean plugin = p.hasNonNull("plugin");
            boolean accelerator = p.hasNonNull("accelerator");
            String meter = p.path("meter").asText("");
            String price = p.path("unit_price").asText("");
            if ((model ? 1 : 0) + (plugin ? 1 : 0) + (accelerator ? 1 : 0) != 1 || meter.isEmpty() || price.isEmpty()) {
                throw new IOException("price list " + file + ": entry " + i + " needs exactly one of \"model\", "
                        + "\"plugin\" or \"accelerator\", a \"meter\" and a \"unit_price\"");
            }
            BigDecimal unit;
            try {
                unit = new BigDecimal(price);
            } catch (NumberFormatException e) {
                throw new IOException("price list " + file + ": entry " + i + " unit_price '" + price
                        + "' is not a decimal number");
            }
            if (unit.signum() < 0) {
                throw new IOException("price list " + file + ": entry " + i + " has a negative unit_price");
            }
            String field = model ? "model" : plugin ? "plugin" : "accelerator";
            rows.add(new PriceRow(model ? "model" : plugin ? "plugin" : ACCELERATOR, p.path(field).asText(), meter,
                    unit, currency));
        }
        return new PriceList(currency, rows);
    }

    public String currency() {
        return currency;
    }

    public List<PriceRow> rows() {
        return rows;
    }

    /**
     * The unit price of usage of {@code accelerator} (e.g. {@code remote:plant-b}): the accelerator's price for the
     * meter when there is one, else as {@link #unitPrice(String, String, String)}.
     */
    public Optional<BigDecimal> unitPrice(String model, String plugin, String meter, String accelerator) {
        Optional<BigDecimal> byAccelerator = accelerator == null || accelerator.isEmpty() ? Optional.empty()
                : find(ACCELERATOR, accelerator, meter);
        return byAccelerator.isPresent() ? byAccelerator : unitPrice(model, plugin, meter);
    }

    /** The accelerators the list prices: their usage gets invoice lines of its own. */
    public java.util.Set<String> pricedAccelerators() {
        java.util.Set<String> out = new java.util.TreeSet<>();
        for (PriceRow r : rows) {
            if (r.selectorKind().equals(ACCELERATOR)) {
                out.add(r.selector());
            }
        }
        return out;
    }

    public Optional<BigDecimal> unitPrice(String model, String plugin, String meter) {
        Optional<BigDecimal> byModel = find("model", model, meter);
        return byModel.isPresent() ? byModel : find("plugin", plugin, meter);
    }

    private Optional<BigDecimal> find(String kind, String selector, String meter) {
        return rows.stream().filter(r -> r.selectorKind().equals(kind) && r.selector().equals(selector)
                && r.meter().equals(meter)).map(PriceRow::unitPrice).findFirst();
    }
}
