package io.tollgate.metering.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.text.ParsePosition;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;

/**
 * Reads every record of a journal directory in order, read-only, without taking the appender's lock: safe
 * while the appliance is running (it then sees the records complete at the moment of reading).
 */
public final class JournalReader {
    /** Receives one record's canonical bytes; stop by returning false. */
    @FunctionalInterface
    public interface RecordSink {
        boolean accept(byte[] canonicalBytes) throws IOException;
    }

    private JournalReader() {
    }

    /**
     * The roll cycle the journal's files were written with, recognised from their names (Chronicle warns when
     * a reader's roll cycle differs from the one in the queue's metadata). FAST_HOURLY when there are none.
     */
    static RollCycle rollCycleOf(Path journalDir) throws IOException {
        List<String> names;
        try (Stream<Path> files = Files.list(journalDir)) {
            names = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(SingleChronicleQueue.SUFFIX))
                    .map(n -> n.substring(0, n.length() - SingleChronicleQueue.SUFFIX.length()))
                    .collect(Collectors.toList());
        }
        if (names.isEmpty()) {
            return RollCycles.FAST_HOURLY;
        }
        String name = names.get(0);
        for (RollCycle rc : RollCycles.all()) {
            ParsePosition pos = new ParsePosition(0);
            DateTimeFormatter.ofPattern(rc.format()).parseUnresolved(name, pos);
            if (pos.getErrorIndex() < 0 && pos.getIndex() == name.length()) {
                return rc;
            }
        }
        return RollCycles.FAST_HOURLY;
    }

    /** Throws unless {@code journalDir} holds a journal (checked before anything is written about it). */
    public static void requireJournal(Path journalDir) throws NoSuchFileException {
        if (!Files.isDirectory(journalDir) || !Files.exists(journalDir.resolve("metadata.cq4t"))) {
            throw new NoSuchFileException(journalDir.toString(), null, "no usage journal here (expected a Chronicle "
                    + "queue with metadata.cq4t; is --data the appliance's data directory?)");
        }
    }

    /** Calls {@code sink} for each record, oldest first; returns how many records it was given. */
    public static long forEach(Path journalDir, RecordSink sink) throws IOException {
        requireJournal(journalDir);
        long n = 0;
        try (SingleChronicleQueue q = SingleChronicleQueueBuilder.binary(journalDir).readOnly(true)
                .rollCycle(rollCycleOf(journalDir)).build();
             ExcerptTailer t = q.createTailer()) {
            while (true) {
                byte[] bytes;
                try (DocumentContext dc = t.readingDocument()) {
                    if (!dc.isPresent()) {
                        break;
                    }
                    bytes = dc.wire().bytes().toByteArray();
                }
                n++;
                if (!sink.accept(bytes)) {
                    break;
                }
            }
        }
        return n;
    }
}
