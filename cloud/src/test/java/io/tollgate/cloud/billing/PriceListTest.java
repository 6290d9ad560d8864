package io.tollgate.cloud.billing;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The price list file: model, plugin and accelerator prices, and which wins. */
public class PriceListTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private PriceList read(String json) throws IOException {
        Path f = tmp.newFile().toPath();
        Files.writeString(f, json.replace('\'', '"'));
        return PriceList.read(f);
    }

    @Test
    public void anAcceleratorPriceWinsOverTheModelsForThatAcceleratorOnly() throws Exception {
        PriceList p = read("{'currency':'EUR','prices':[{'model':'fm','meter':'inference','unit_price':'0.25'},"
                + "{'plugin':'io.x','meter':'inference','unit_price':'0.5'},"
                + "{'accelerator':'remote:plant-b','meter':'inference','unit_price':'0'}]}");
        assertEquals(Set.of("remote:plant-b"), p.pricedAccelerators());
        assertEquals(Optional.of(BigDecimal.ZERO), p.unitPrice("fm", "io.x", "inference", "remote:plant-b"));
        assertEquals(Optional.of(new BigDecimal("0.25")), p.unitPrice("fm", "io.x", "inference", "cpu"));
        assertEquals(Optional.of(new BigDecimal("0.5")), p.unitPrice("other", "io.x", "inference", ""));
        assertEquals(Optional.empty(), p.unitPrice("fm", "io.x", "page", "remote:plant-b"));
    }

    /** Issue 13: the demo's price list prices the capability plugins in their own meters, each apart. */
    @Test
    public void theDemoPriceListPricesTheCapabilityMeters() throws Exception {
        PriceList p = PriceList.read(Path.of("src/dist/conf/prices.json"));
        assertEquals(Optional.of(new BigDecimal("0.002")), p.unitPrice("ocr", "tollgate.plugin.ocr", "images", "cpu"));
        assertEquals(Optional.of(new BigDecimal("0.000002")), p.unitPrice("text-embedding",
                "tollgate.plugin.text-embedding", "tokens", "cpu"));
        assertEquals(Optional.of(new BigDecimal("0.0001")), p.unitPrice("voice-activity",
                "tollgate.plugin.voice-activity", "audio_seconds", "cpu"));
        assertEquals("a meter the model does not bill has no price", Optional.empty(),
                p.unitPrice("ocr", "tollgate.plugin.ocr", "inference", "cpu"));
        assertEquals(Optional.of(new BigDecimal("0.05")), p.unitPrice("fashion-mnist", "x", "inference", "cpu"));
    }

    @Test
    public void anEntryNamesExactlyOneSelector() throws Exception {
        try {
            read("{'currency':'EUR','prices':[{'model':'fm','accelerator':'remote:b','meter':'inference',"
                    + "'unit_price':'0'}]}");
            fail("two selectors accepted");
        } catch (IOException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("exactly one of \"model\", \"plugin\" or"
                    + " \"accelerator\""));
        }
    }

    /**
     * Guards that a price list is one JSON document: a second object or text after it is "not readable JSON", never
     * the first object's prices used while the rest is ignored.
     */
    @Test
    public void aPriceListWithContentAfterItsJsonIsRefused() throws Exception {
        String doc = "{'currency':'EUR','prices':[{'model':'fm','meter':'inference','unit_price':'0.25'}]}";
        assertEquals("the document alone is read", Optional.of(new BigDecimal("0.25")),
                read(doc).unitPrice("fm", "io.x", "inference"));
        String[][] cases = {
            {doc + "{'currency':'USD','prices':[]}", "Trailing token (of type START_OBJECT) found after value"},
            {doc + " x", "Unrecognized token 'x'"},
        };
        for (String[] c : cases) {
            Path f = tmp.newFile().toPath();
            Files.writeString(f, c[0].replace('\'', '"'));
            try {
                PriceList p = PriceList.read(f);
                fail("read " + c[0] + " as " + p.rows());
            } catch (IOException e) {
                assertTrue(e.getMessage(), e.getMessage().startsWith("price list " + f + " is not readable JSON: "
                        + c[1]));
            }
        }
    }
}
