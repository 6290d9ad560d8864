package io.tollgate.endpoint.internal;

import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.Attribute;
import io.netty.util.AttributeKey;
import io.tollgate.endpoint.keys.ApiKeyHash;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * The TLS client certificate of a connection, as the SHA-256 of its DER encoding (what a key file entry made with
 * {@code bin/tollgate keys add --cert FILE} is bound to). Only certificates the TLS layer has verified against
 * {@code tls.client.ca.file} get here. Computed once per connection, on its event loop, and kept on the channel.
 */
final class ClientCertificate {
    private static final AttributeKey<String> SHA256 = AttributeKey.valueOf("tollgate.client.certificate.sha256");

    private ClientCertificate() {
    }

    /** The fingerprint, or null when the connection is not TLS or presented no certificate. */
    static String sha256(Channel channel) {
        SslHandler tls = channel.pipeline().get(SslHandler.class);
        if (tls == null) {
            return null;
        }
        Attribute<String> cached = channel.attr(SHA256);
        String value = cached.get();
        if (value == null) {
            value = "";
            try {
                Certificate[] chain = tls.engine().getSession().getPeerCertificates();
                if (chain.length > 0) {
                    value = ApiKeyHash.ofCertificate(chain[0].getEncoded());
                }
            } catch (SSLPeerUnverifiedException | CertificateEncodingException e) {
                // no certificate (client.auth=optional), or one that cannot be encoded: none
            }
            cached.set(value);
        }
        return value.isEmpty() ? null : value;
    }
}
