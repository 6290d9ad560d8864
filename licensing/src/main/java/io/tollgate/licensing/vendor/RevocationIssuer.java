package io.tollgate.licensing.vendor;

import io.tollgate.licensing.LicenseFiles;
import io.tollgate.licensing.Pem;

import java.security.PrivateKey;
import java.security.PublicKey;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;

/**
 * Issues revocation lists (docs/licensing.md, "Revocation lists"): the ids of licenses a vendor revokes, signed
 * with its key. A list revokes only licenses of the same vendor key; a later list does not undo an earlier one
 * (the appliance merges all lists). Vendor side only.
 */
public final class RevocationIssuer {
    private RevocationIssuer() {
    }

    /**
     * The revocation list file's bytes.
     *
     * @param licenseIds the revoked license ids (non-empty strings; duplicates dropped)
     * @param issuedAt   issue time (truncated to seconds); null = now
     */
    public static byte[] issue(PrivateKey privateKey, PublicKey publicKey, Collection<String> licenseIds,
                               Instant issuedAt) {
        LinkedHashSet<String> ids = new LinkedHashSet<>();
        for (String id : licenseIds) {
            if (id == null || id.isBlank()) {
                throw new IllegalArgumentException("a license id is empty");
            }
            ids.add(id);
        }
        LinkedHashMap<String, Object> p = new LinkedHashMap<>();
        p.put("vendor_key", Pem.fingerprint(publicKey));
        p.put("issued_at", (issuedAt == null ? Instant.now() : issuedAt).truncatedTo(ChronoUnit.SECONDS).toString());
        p.put("revoked", ids);
        return Envelopes.seal(LicenseFiles.REVOCATIONS_FORMAT, JsonText.object(p), privateKey);
    }
}
