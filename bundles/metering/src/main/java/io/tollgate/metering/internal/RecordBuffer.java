package io.tollgate.metering.internal;

import io.tollgate.metering.UsageEvent;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A growable big-endian byte buffer that canonical records are encoded into. Not thread-safe: the journal
 * keeps one per appending thread, so the body of a record is encoded before the journal lock is taken.
 */
final class RecordBuffer {
    private byte[] buf;
    private int len;

    RecordBuffer(int capacity) {
        buf = new byte[capacity];
    }

    void reset() {
        len = 0;
    }

    int length() {
        return len;
    }

    byte[] array() {
        return buf;
    }

    byte[] toByteArray() {
        return Arrays.copyOf(buf, len);
    }

    private void ensure(int extra) {
        if (len + extra > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + extra));
        }
    }

    void putByte(int v) {
        ensure(1);
        buf[len++] = (byte) v;
    }

    void putShort(int v) {
        ensure(2);
        buf[len++] = (byte) (v >>> 8);
        buf[len++] = (byte) v;
    }

    void putLong(long v) {
        ensure(8);
        putLongAt(len, v);
        len += 8;
    }

    private void putLongAt(int at, long v) {
        for (int i = 7; i >= 0; i--) {
            buf[at + i] = (byte) v;
            v >>>= 8;
        }
    }

    void putBytes(byte[] b) {
        ensure(b.length);
        System.arraycopy(b, 0, buf, len, b.length);
        len += b.length;
    }

    /** u16 length + UTF-8; ASCII strings are copied without an intermediate array. */
    void putString(String s) {
        int n = s.length();
        boolean ascii = n <= UsageEvent.MAX_STRING_BYTES;
        for (int i = 0; i < n && ascii; i++) {
            ascii = s.charAt(i) < 0x80;
        }
        if (ascii) {
            ensure(2 + n);
            putShort(n);
            for (int i = 0; i < n; i++) {
                buf[len++] = (byte) s.charAt(i);
            }
            return;
        }
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        if (utf8.length > UsageEvent.MAX_STRING_BYTES) {
            throw new IllegalArgumentException("a usage record string may be at most " + UsageEvent.MAX_STRING_BYTES
                    + " bytes of UTF-8, but one has " + utf8.length + " (starts with \""
                    + s.substring(0, Math.min(40, s.length())) + "\")");
        }
        putShort(utf8.length);
        putBytes(utf8);
    }

    /** Fills in the header fields that are only known under the journal lock. */
    void patchHeader(long seq, long wallNanos, long monoNanos, byte[] prevHash) {
        putLongAt(RecordFormat.OFFSET_SEQ, seq);
        putLongAt(RecordFormat.OFFSET_WALL, wallNanos);
        putLongAt(RecordFormat.OFFSET_MONO, monoNanos);
        System.arraycopy(prevHash, 0, buf, RecordFormat.OFFSET_PREV_HASH, RecordFormat.HASH_BYTES);
    }
}
