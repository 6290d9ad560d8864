package io.tollgate.licensing;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import org.junit.Test;

/** Every refusal LicenseRules gives, the precedence between candidates, and which usable license wins. */
public class LicenseRulesTest {
    private static final String VENDOR = "a".repeat(64);
    private static final String OTHER_VENDOR = "b".repeat(64);
    private static final String DEVICE_KEY = "c".repeat(64);
    private static final Instant NOW = Instant.parse("2026-11-30T12:00:00Z");
    private static final Set<String> TRUSTED = Set.of(VENDOR, OTHER_VENDOR);

    private static License license(String id) {
        return new License(id, "Acme", VENDOR, "factory-7", "box-1", DEVICE_KEY, "fashion-mnist", "[1.0.0,2.0.0)",
                NOW.minusSeconds(3600), NOW.plusSeconds(3600), "inference", 100, 7, false, NOW.minusSeconds(7200));
    }

    private static License with(License l, String field, Object v) {
        return new License(field.equals("id") ? (String) v : l.id(), l.vendor(),
                field.equals("vendorKey") ? (String) v : l.vendorKey(), l.tenant(),
                field.equals("deviceId") ? (String) v : l.deviceId(),
                field.equals("deviceKey") ? (String) v : l.deviceKey(),
                field.equals("plugin") ? (String) v : l.plugin(),
                field.equals("versions") ? (String) v : l.versions(),
                field.equals("notBefore") ? (Instant) v : l.notBefore(),
                field.equals("expires") ? (Instant) v : l.expires(), l.meter(), l.quota(), l.graceDays(),
                field.equals("allowCode") ? (Boolean) v : l.allowCode(),
                field.equals("issuedAt") ? (Instant) v : l.issuedAt());
    }

    private static Entitlement decide(boolean code, String signer, Set<String> revoked, License... licenses) {
        return LicenseRules.decide("fashion-mnist", "1.2.0", code, signer, TRUSTED, List.of(licenses), revoked,
                "box-1", DEVICE_KEY, NOW);
    }

    private static void refused(Refusal refusal, Entitlement e, String inReason) {
        assertFalse(e.reason(), e.entitled());
        assertEquals(e.reason(), refusal, e.refusal().orElseThrow());
        assertTrue(e.reason(), e.reason().startsWith(refusal.words() + ": "));
        assertTrue(e.reason() + " should contain " + inReason, e.reason().contains(inReason));
    }

    @Test
    public void aMatchingLicenseEntitles() {
        Entitlement e = decide(false, VENDOR, Set.of(), license("L"));
        assertTrue(e.entitled());
        assertEquals("L", e.license().orElseThrow().id());
        assertEquals("", e.reason());
        assertEquals("1.2.0", e.version());
    }

    @Test
    public void unsignedAndUnknownVendor() {
        refused(Refusal.UNSIGNED, decide(false, null, Set.of(), license("L")), "carries no vendor signature");
        refused(Refusal.UNKNOWN_VENDOR, decide(false, "d".repeat(64), Set.of(), license("L")), "d".repeat(64));
    }

    @Test
    public void noLicense() {
        refused(Refusal.NO_LICENSE, decide(false, VENDOR, Set.of()), "bin/tollgate license install");
        // another plugin's license, or this plugin's license from another vendor than the signer, do not count
        refused(Refusal.NO_LICENSE, decide(false, VENDOR, Set.of(), with(license("L"), "plugin", "other")), "");
        refused(Refusal.NO_LICENSE, decide(false, VENDOR, Set.of(), with(license("L"), "vendorKey", OTHER_VENDOR)), "");
    }

    @Test
    public void eachCandidateRefusal() {
        refused(Refusal.REVOKED, decide(false, VENDOR, Set.of("L"), license("L")), "license L");
        refused(Refusal.WRONG_DEVICE, decide(false, VENDOR, Set.of(), with(license("L"), "deviceId", "box-2")),
                "bound to device box-2");
        refused(Refusal.WRONG_DEVICE, decide(false, VENDOR, Set.of(), with(license("L"), "deviceKey", "e".repeat(64))),
                "e".repeat(64));
        refused(Refusal.VERSION_NOT_COVERED, decide(false, VENDOR, Set.of(),
                with(license("L"), "versions", "[2.0.0,3.0.0)")), "covers versions [2.0.0,3.0.0)");
        refused(Refusal.NOT_YET_VALID, decide(false, VENDOR, Set.of(), with(license("L"), "notBefore",
                NOW.plusSeconds(1))), "valid from 2026-11-30T12:00:01Z");
        refused(Refusal.EXPIRED, decide(false, VENDOR, Set.of(), with(license("L"), "expires", NOW)),
                "expired at 2026-11-30T12:00:00Z");
        refused(Refusal.CODE_NOT_ALLOWED, decide(true, VENDOR, Set.of(), license("L")), "carries code");
        assertTrue(decide(true, VENDOR, Set.of(), with(license("L"), "allowCode", true)).entitled());
    }

    @Test
    public void unboundLicensesServeAnyDevice() {
        License unbound = with(with(license("L"), "deviceId", ""), "deviceKey", "");
        assertTrue(decide(false, VENDOR, Set.of(), unbound).entitled());
        assertTrue(LicenseRules.decide("fashion-mnist", "1.0.0", false, VENDOR, TRUSTED, List.of(unbound), Set.of(),
                "any-box", "f".repeat(64), NOW).entitled());
    }

    @Test
    public void versionRanges() {
        License l = license("L");
        for (String[] c : new String[][] {{"1.0.0", "y"}, {"1.9.9", "y"}, {"2.0.0", "n"}, {"0.9", "n"}, {"1", "y"},
                {"1.0.0.beta", "y"}, {"x", "n"}}) {
            Entitlement e = LicenseRules.decide("fashion-mnist", c[0], false, VENDOR, TRUSTED, List.of(l), Set.of(),
                    "box-1", DEVICE_KEY, NOW);
            assertEquals(c[0], c[1].equals("y"), e.entitled());
        }
        assertTrue(Versions.covers("[1.0.0,2.0.0]", "2.0.0"));
        assertFalse(Versions.covers("(1.0.0,2.0.0]", "1.0.0"));
        assertTrue(Versions.covers("1.5", "7.0.0"));
        assertFalse(Versions.covers("1.5", "1.4.9"));
    }

    @Test
    public void theClosestCandidateSaysWhy() {
        License revoked = license("R");
        License wrongDevice = with(license("W"), "deviceId", "box-9");
        License oldVersion = with(license("V"), "versions", "[0.1.0,1.0.0)");
        License future = with(license("F"), "notBefore", NOW.plusSeconds(60));
        License expired = with(license("E"), "expires", NOW.minusSeconds(60));
        License noCode = license("C");
        List<License> all = List.of(revoked, wrongDevice, oldVersion, future, expired, noCode);
        Refusal[] order = {Refusal.REVOKED, Refusal.WRONG_DEVICE, Refusal.VERSION_NOT_COVERED, Refusal.NOT_YET_VALID,
                Refusal.EXPIRED, Refusal.CODE_NOT_ALLOWED};
        assertEquals(List.of(order), LicenseRules.PRECEDENCE);
        // with candidates failing at each step, the one that got furthest is reported
        for (int n = 1; n <= all.size(); n++) {
            Entitlement e = LicenseRules.decide("fashion-mnist", "1.2.0", true, VENDOR, TRUSTED, all.subList(0, n),
                    Set.of("R"), "box-1", DEVICE_KEY, NOW);
            refused(order[n - 1], e, "license " + all.get(n - 1).id());
        }
        // and in any order
        Entitlement e = LicenseRules.decide("fashion-mnist", "1.2.0", true, VENDOR, TRUSTED,
                List.of(noCode, expired, revoked), Set.of("R"), "box-1", DEVICE_KEY, NOW);
        refused(Refusal.CODE_NOT_ALLOWED, e, "license C");
        // any usable license wins over all refused ones
        e = LicenseRules.decide("fashion-mnist", "1.2.0", false, VENDOR, TRUSTED, List.of(revoked, expired, noCode),
                Set.of("R"), "box-1", DEVICE_KEY, NOW);
        assertEquals("C", e.license().orElseThrow().id());
    }

    @Test
    public void theBestUsableLicenseWins() {
        License shortOne = with(license("S"), "expires", NOW.plusSeconds(100));
        License longOne = with(license("L"), "expires", NOW.plusSeconds(10_000));
        License never = with(license("N"), "expires", Instant.MAX);
        License newer = with(with(license("B"), "expires", Instant.MAX), "issuedAt", NOW);
        assertEquals("L", decide(false, VENDOR, Set.of(), shortOne, longOne).license().orElseThrow().id());
        assertEquals("N", decide(false, VENDOR, Set.of(), shortOne, never, longOne).license().orElseThrow().id());
        assertEquals("B", decide(false, VENDOR, Set.of(), never, newer, shortOne).license().orElseThrow().id());
        assertEquals("B", decide(false, VENDOR, Set.of(), newer, never).license().orElseThrow().id());
        // revoking the best falls back to the next one
        assertEquals("N", decide(false, VENDOR, Set.of("B"), never, newer).license().orElseThrow().id());
    }

    @Test
    public void validityIsTheTimeOnlyPart() {
        License l = license("L");
        assertEquals(Optional.empty(), LicenseRules.validity(l, NOW));
        assertEquals(Optional.empty(), LicenseRules.validity(l, l.notBefore()));
        assertEquals(Optional.of(Refusal.NOT_YET_VALID), LicenseRules.validity(l, l.notBefore().minusMillis(1)));
        assertEquals(Optional.of(Refusal.EXPIRED), LicenseRules.validity(l, l.expires()));
        assertEquals(Optional.empty(), LicenseRules.validity(l, l.expires().minusMillis(1)));
        assertEquals(Optional.empty(), LicenseRules.validity(with(l, "expires", Instant.MAX), Instant.MAX.minusSeconds(1)));
        assertTrue(LicenseRules.reason(Refusal.EXPIRED, l).startsWith("expired: license L"));
    }
}
