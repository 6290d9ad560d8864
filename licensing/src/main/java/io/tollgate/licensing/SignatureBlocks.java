package io.tollgate.licensing;

import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The strict shape of a plugin's signature block file ({@code META-INF/*.EC}): the PKCS#7 SignedData that the JDK's
 * JarSigner (and {@code jarsigner}) writes for an Ed25519 key, checked byte by byte in DER, because the JDK's own
 * reader accepts changes to bytes the signature does not cover (container tags, the digest algorithm set, the
 * content type). Shape (RFC 2315 / RFC 5652, tags in hex):
 * <pre>
 * 30 { 06 pkcs7-signedData, A0 { 30 { 02 1, 31 { AlgId(d) }, 30 { 06 pkcs7-data },
 *      A0 { the signer's certificate, exactly },
 *      31 { 30 { 02 1, 30 { issuer name, 02 serial } of that certificate, AlgId(d), A0 signed attributes,
 *                30 { 06 Ed25519 }, 04 64-byte signature } } } } }
 * </pre>
 * where every length is minimal definite DER, nothing follows any element, and AlgId(d) is
 * {@code 30 { 06 oid [05 00] }} spelled the same in both places.
 */
final class SignatureBlocks {
    private static final byte[] SIGNED_DATA = HexFormat.of().parseHex("2a864886f70d010702");
    private static final byte[] DATA = HexFormat.of().parseHex("2a864886f70d010701");
    private static final byte[] ED25519 = HexFormat.of().parseHex("2b6570");

    private SignatureBlocks() {
    }

    /** @throws IllegalArgumentException the block is not exactly that shape for this certificate */
    static void check(byte[] block, X509Certificate cert) {
        byte[] certDer;
        try {
            certDer = cert.getEncoded();
        } catch (CertificateEncodingException e) {
            throw new IllegalArgumentException("the certificate cannot be encoded", e);
        }
        Der top = new Der(block, 0, block.length);
        Der contentInfo = top.next(0x30);
        top.end();
        contentInfo.next(0x06).expect(SIGNED_DATA, "content type");
        Der explicit = contentInfo.next(0xA0);
        contentInfo.end();
        Der signedData = explicit.next(0x30);
        explicit.end();
        signedData.next(0x02).expect(new byte[] {1}, "SignedData version");
        Der digestAlgorithms = signedData.next(0x31);
        Der digestAlgorithm = digestAlgorithms.next(0x30);
        digestAlgorithms.end();
        algorithm(digestAlgorithm);
        Der data = signedData.next(0x30);
        data.next(0x06).expect(DATA, "encapsulated content type");
        data.end();
        Der certificates = signedData.next(0xA0);
        Der certificate = certificates.next(0x30);
        certificates.end();
        certificate.next(0x30); // tbsCertificate: covered by the self-signature the caller verified
        Der certAlgorithm = certificate.next(0x30);
        certAlgorithm.next(0x06).expect(ED25519, "certificate signature algorithm");
        certAlgorithm.end();
        Der certSignature = certificate.next(0x03);
        certificate.end();
        byte[] bits = certSignature.contents();
        if (bits.length != 65 || bits[0] != 0) {
            throw new IllegalArgumentException("the certificate's signature is not a 64-byte bit string");
        }
        if (!Arrays.equals(certificate.whole(), certDer)) {
            throw new IllegalArgumentException("the certificate in the block differs from the signer's");
        }
        Der signerInfos = signedData.next(0x31);
        signedData.end();
        Der signerInfo = signerInfos.next(0x30);
        signerInfos.end();
        signerInfo.next(0x02).expect(new byte[] {1}, "SignerInfo version");
        Der issuerAndSerial = signerInfo.next(0x30);
        Der issuer = issuerAndSerial.next(0x30);
        if (!Arrays.equals(issuer.whole(), cert.getIssuerX500Principal().getEncoded())) {
            throw new IllegalArgumentException("the signer's issuer differs from the certificate's");
        }
        issuerAndSerial.next(0x02).expect(cert.getSerialNumber().toByteArray(), "serial number");
        issuerAndSerial.end();
        Der signerDigest = signerInfo.next(0x30);
        if (!Arrays.equals(signerDigest.whole(), digestAlgorithm.whole())) {
            throw new IllegalArgumentException("the digest algorithm differs between the set and the signer");
        }
        Der attributes = signerInfo.next(0xA0);
        while (attributes.more()) {
            Der attribute = attributes.next(0x30);
            attribute.next(0x06);
            attribute.next(0x31);
            attribute.end();
        }
        Der signatureAlgorithm = signerInfo.next(0x30);
        signatureAlgorithm.next(0x06).expect(ED25519, "signature algorithm");
        signatureAlgorithm.end();
        if (signerInfo.next(0x04).length() != 64) {
            throw new IllegalArgumentException("the signature is not 64 bytes");
        }
        signerInfo.end();
    }

    private static void algorithm(Der alg) {
        alg.next(0x06);
        if (alg.more()) {
            alg.next(0x05).expect(new byte[0], "parameters");
        }
        alg.end();
    }

    /** A cursor over the elements inside [start, end) of a DER buffer. */
    private static final class Der {
        private final byte[] buf;
        private final int headerStart;
        private final int start;
        private final int end;
        private int pos;

        Der(byte[] buf, int start, int end) {
            this(buf, start, start, end);
        }

        private Der(byte[] buf, int headerStart, int start, int end) {
            this.buf = buf;
            this.headerStart = headerStart;
            this.start = start;
            this.end = end;
            this.pos = start;
        }

        boolean more() {
            return pos < end;
        }

        Der next(int tag) {
            if (pos >= end) {
                throw new IllegalArgumentException("element missing at byte " + pos);
            }
            int at = pos;
            int t = buf[pos++] & 0xFF;
            if (t != tag) {
                throw new IllegalArgumentException(String.format("tag %02x at byte %d, expected %02x", t, at, tag));
            }
            if (pos >= end) {
                throw new IllegalArgumentException("length missing at byte " + pos);
            }
            int first = buf[pos++] & 0xFF;
            long length;
            if (first < 0x80) {
                length = first;
            } else {
                int n = first & 0x7F;
                if (n == 0 || n > 3 || pos + n > end) {
                    throw new IllegalArgumentException("bad length at byte " + (pos - 1));
                }
                if ((buf[pos] & 0xFF) == 0) {
                    throw new IllegalArgumentException("non-minimal length at byte " + (pos - 1));
                }
                length = 0;
                for (int i = 0; i < n; i++) {
                    length = (length << 8) | (buf[pos++] & 0xFF);
                }
                if (length < 0x80) {
                    throw new IllegalArgumentException("non-minimal length at byte " + at);
                }
            }
            if (pos + length > end) {
                throw new IllegalArgumentException("element at byte " + at + " runs past its container");
            }
            Der inner = new Der(buf, at, pos, (int) (pos + length));
            pos = (int) (pos + length);
            return inner;
        }

        void end() {
            if (pos != end) {
                throw new IllegalArgumentException("unexpected bytes at " + pos);
            }
        }

        int length() {
            return end - start;
        }

        byte[] contents() {
            return Arrays.copyOfRange(buf, start, end);
        }

        byte[] whole() {
            return Arrays.copyOfRange(buf, headerStart, end);
        }

        void expect(byte[] value, String what) {
            if (!Arrays.equals(contents(), value)) {
                throw new IllegalArgumentException(what + " is " + HexFormat.of().formatHex(contents()) + ", expected "
                        + HexFormat.of().formatHex(value));
            }
        }
    }
}
