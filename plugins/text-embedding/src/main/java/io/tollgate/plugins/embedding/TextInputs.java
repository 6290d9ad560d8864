package io.tollgate.plugins.embedding;

import io.tollgate.model.DataType;
import io.tollgate.model.Tensor;
import io.tollgate.pipeline.PipelineException;
import io.tollgate.pipeline.PipelineRequest;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** The texts of a request: input {@code text}, BYTES, one UTF-8 string per element, checked against the limits. */
final class TextInputs {
    /** Input name, as the descriptor declares it. */
    static final String INPUT = "text";
    /** Most texts in one request. */
    static final int MAX_TEXTS = 64;
    /** Longest text, in UTF-8 bytes. */
    static final int MAX_TEXT_BYTES = 8192;

    private TextInputs() {
    }

    /**
     * The request's texts, in order.
     *
     * @throws PipelineException {@code INVALID_INPUT} naming the element: no input {@code text}, not BYTES, no element,
     *                           more than {@value #MAX_TEXTS}, an element over {@value #MAX_TEXT_BYTES} bytes, not
     *                           UTF-8, or empty / only whitespace
     */
    static List<String> of(PipelineRequest request) throws PipelineException {
        Tensor t = request.input(INPUT).orElseThrow(() -> PipelineException.invalidInput(
                "input '" + INPUT + "' is missing; send the texts as a BYTES tensor named '" + INPUT + "'"));
        if (t.type() != DataType.BYTES) {
            throw PipelineException.invalidInput("input '" + INPUT + "' is " + t.type()
                    + "; send the texts as BYTES (JSON strings)");
        }
        List<byte[]> elements = t.strings();
        if (elements.isEmpty()) {
            throw PipelineException.invalidInput("input '" + INPUT + "' has no element; send 1 to " + MAX_TEXTS
                    + " texts");
        }
        if (elements.size() > MAX_TEXTS) {
            throw PipelineException.invalidInput("input '" + INPUT + "' has " + elements.size()
                    + " texts; at most " + MAX_TEXTS + " per request: split it into several requests");
        }
        List<String> texts = new ArrayList<>(elements.size());
        for (int i = 0; i < elements.size(); i++) {
            byte[] b = elements.get(i);
            if (b.length > MAX_TEXT_BYTES) {
                throw PipelineException.invalidInput("input '" + INPUT + "' element " + i + " has " + b.length
                        + " bytes; at most " + MAX_TEXT_BYTES + " UTF-8 bytes per text (the model reads only its"
                        + " first " + TextEmbeddingPipeline.DEFAULT_MAX_TOKENS + " word pieces anyway)");
            }
            String s = decode(b, i);
            if (s.isBlank()) {
                throw PipelineException.invalidInput("input '" + INPUT + "' element " + i
                        + " is empty or only whitespace; there is nothing to embed");
            }
            texts.add(s);
        }
        return texts;
    }

    private static String decode(byte[] b, int index) throws PipelineException {
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(b);
        try {
            return d.decode(in).toString();
        } catch (CharacterCodingException e) {
            throw PipelineException.invalidInput("input '" + INPUT + "' element " + index
                    + " is not valid UTF-8 (bad byte near offset " + in.position() + "); send UTF-8 text");
        }
    }
}
