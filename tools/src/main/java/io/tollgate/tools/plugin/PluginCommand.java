package io.tollgate.tools.plugin;

import io.tollgate.tools.ExitCodes;
import io.tollgate.tools.PathValues;
import io.tollgate.tools.ToolCommand;
import io.tollgate.tools.ToolException;
import io.tollgate.licensing.Pem;
import io.tollgate.licensing.vendor.PluginSigner;
import io.tollgate.licensing.vendor.VendorKeys;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code tollgate plugin pack|inspect}: make and look into model plugin bundles (docs/plugins.md). */
@Command(name = "plugin", description = "Make and look into model plugin bundles.",
        subcommands = {PluginCommand.Pack.class, PluginCommand.Inspect.class})
public final class PluginCommand {

    /** {@code plugin pack}. */
    @Command(name = "pack", description = {
        "Package an ONNX model as an installable plugin bundle.",
        "Inputs and outputs are read from the model; labels from --labels, else from the model's 'labels' metadata.",
        "Install: copy the jar into the appliance's plugins/ folder."})
    public static final class Pack extends ToolCommand {
        @Spec
        private CommandSpec spec;

        private Path model;
        private Path output;
        private Path labels;

        @Option(names = "--model", required = true, paramLabel = "FILE.onnx", description = "The ONNX model.")
        private void model(String value) {
            model = PathValues.nonEmpty(spec, "--model", value);
        }

        @Option(names = "--name", required = true, paramLabel = "NAME",
                description = "Model name, as a Triton model directory is named: 1-128 printable characters,"
                        + " case-sensitive (e.g. ResNet50), without a slash, backslash or double quote.")
        private String name;

        @Option(names = "--version", required = true, paramLabel = "X.Y.Z", description = "Plugin version.")
        private String version;

        @Option(names = "--output", required = true, paramLabel = "FILE.jar", description = "The plugin jar to write.")
        private void output(String value) {
            output = PathValues.nonEmpty(spec, "--output", value);
        }

        @Option(names = "--labels", paramLabel = "FILE", description = "Class labels, one per line.")
        private void labels(String value) {
            labels = PathValues.nonEmpty(spec, "--labels", value);
        }

        @Option(names = "--max-batch", paramLabel = "N",
                description = "Items per request (default: 256 when every input's first dimension is dynamic, else 0 = "
                        + "no batch dimension).")
        private Integer maxBatch;

        @Option(names = "--dynamic-batching",
                description = "Merge concurrent requests into one engine run (Triton's dynamic_batching; needs a batch"
                        + " dimension). The box owner may change it in conf/models/{model}.json.")
        private boolean dynamicBatching;

        @Option(names = "--preferred-batch", paramLabel = "N[,N...]", split = ",",
                description = "Batch sizes the batcher tries to form, e.g. 8,16 (with --dynamic-batching).")
        private List<Integer> preferredBatch;

        @Option(names = "--max-queue-delay-us", paramLabel = "US",
                description = "Longest a request waits for others to join its batch, in microseconds (with"
                        + " --dynamic-batching; default 0).")
        private Long maxQueueDelayUs;

        @Option(names = "--instances", paramLabel = "N",
                description = "Concurrent engine runs of the model (Triton's instance_group count; default 1).")
        private Integer instances;

        @Option(names = "--meter", paramLabel = "NAME", defaultValue = "inference",
                description = "The meter usage is billed on: 1-64 characters of a-z, 0-9, '.', '_', '-' "
                        + "(default: ${DEFAULT-VALUE}).")
        private String meter;

        @Option(names = "--license-feature", paramLabel = "F", defaultValue = "",
                description = "The license feature the plugin needs (default: none).")
        private String licenseFeature;

        private Path signKey;

        @Option(names = "--engine", paramLabel = "NAME", defaultValue = "onnx",
                description = "Engine the descriptor names: onnx (default) or tensorrt (builds a TensorRT engine from"
                        + " the ONNX model on a box with an NVIDIA GPU, else runs on onnx; docs/hardware.md).")
        private String engine;

        @Option(names = "--precision", paramLabel = "P", defaultValue = "fp32",
                description = "fp32 (default), fp16 or int8: the precision an accelerator engine builds in (TensorRT"
                        + " 11 takes it from the model's own types: ship a converted or quantized ONNX model).")
        private String precision;

        @Option(names = "--sign", paramLabel = "KEY",
                description = "Sign the jar with this vendor private key (vendor-private.pem from tollgate-vendor keygen;"
                        + " the appliance serves only plugins signed by a vendor it trusts, docs/licensing.md).")
        private void sign(String value) {
            signKey = PathValues.nonEmpty(spec, "--sign", value);
        }

        @Option(names = "--vendor", paramLabel = "NAME",
                description = "Vendor name in the signing certificate (with --sign; default: vendor and the key's"
                        + " fingerprint).")
        private String vendor;

        @Option(names = "--encrypt-key", paramLabel = "KEY",
                description = "Encrypt the model file (AES-256-GCM) with the model key in KEY, made (mode 0600) when"
                        + " KEY does not exist; the license carries the key wrapped for one device (tollgate-vendor"
                        + " issue --model-key KEY --device-wrap-key PEM; docs/licensing.md, \"Encrypted models\").")
        private Path encryptKey;

        @Override
        public Integer call() throws Exception {
            if (vendor != null && signKey == null) {
                throw new ToolException(ExitCodes.USAGE, "--vendor goes with --sign");
            }
            KeyPair key = signKey == null ? null : signingKey(signKey); // before packing: a bad key leaves no jar
            io.tollgate.licensing.vendor.ModelKeyFile modelKey = null;
            if (encryptKey != null) {
                if (Files.exists(encryptKey)) {
                    try {
                        modelKey = io.tollgate.licensing.vendor.ModelKeyFile.read(encryptKey);
                    } catch (IOException e) {
                        throw new ToolException(ExitCodes.FAILED, "--encrypt-key: " + e.getMessage());
                    }
                } else {
                    modelKey = io.tollgate.licensing.vendor.ModelKeyFile.generate(new java.security.SecureRandom());
                    modelKey.write(encryptKey);
                    out().println("made model key " + encryptKey + " (0600, keep it secret), key id "
                            + modelKey.keyId());
                }
            }
            PluginPacker.pack(new PackSpec(model, name, version, output, labels, maxBatch, meter, licenseFeature,
                    new Scheduling(dynamicBatching, preferredBatch == null ? List.of() : preferredBatch,
                            maxQueueDelayUs, instances), new EngineChoice(engine, precision)), modelKey, out());
            if (key != null) {
                String fingerprint = Pem.fingerprint(key.getPublic());
                PluginSigner.sign(output, output, key.getPrivate(), key.getPublic(),
                        vendor == null ? "vendor " + fingerprint.substring(0, 12) : vendor);
                out().println("  signed   vendor key " + fingerprint);
            }
            return ExitCodes.OK;
        }

        private static KeyPair signingKey(Path file) throws IOException, ToolException {
            PrivateKey privateKey;
            try {
                privateKey = Pem.readPrivateKey(file);
            } catch (NoSuchFileException | AccessDeniedException e) {
                throw e;
            } catch (IOException e) {
                throw new ToolException(ExitCodes.FAILED, "--sign: " + e.getMessage());
            }
            return new KeyPair(VendorKeys.publicKey(privateKey), privateKey);
        }
    }

    /** {@code plugin inspect}. */
    @Command(name = "inspect", description = "Show a plugin's bundle headers, capabilities and descriptor.")
    public static final class Inspect extends ToolCommand {
        @Spec
        private CommandSpec spec;

        private Path jar;

        @Parameters(paramLabel = "FILE.jar", description = "The plugin jar.")
        private void jar(String value) {
            jar = PathValues.nonEmpty(spec, "FILE.jar", value);
        }

        @Override
        public Integer call() throws Exception {
            PluginPacker.inspect(jar, out());
            return ExitCodes.OK;
        }
    }

    /**
     * What {@code plugin pack} was asked to do.
     *
     * @param maxBatch null for the default
     */
    record PackSpec(Path model, String name, String version, Path output, Path labels, Integer maxBatch, String meter,
                    String licenseFeature, Scheduling scheduling, EngineChoice engine) {
        PackSpec(Path model, String name, String version, Path output, Path labels, Integer maxBatch, String meter,
                 String licenseFeature) {
            this(model, name, version, output, labels, maxBatch, meter, licenseFeature, Scheduling.NONE);
        }

        PackSpec(Path model, String name, String version, Path output, Path labels, Integer maxBatch, String meter,
                 String licenseFeature, Scheduling scheduling) {
            this(model, name, version, output, labels, maxBatch, meter, licenseFeature, scheduling, EngineChoice.ONNX);
        }
    }

    /**
     * {@code --engine} and {@code --precision} (issue 12): which engine the descriptor names and the precision an
     * accelerator engine builds in. A {@code tensorrt} plugin still ships its ONNX model and also resolves where only
     * the onnx engine is installed (the appliance then runs it on the CPU and says why).
     */
    record EngineChoice(String engine, String precision) {
        static final EngineChoice ONNX = new EngineChoice("onnx", "fp32");
        static final List<String> ENGINES = List.of("onnx", "tensorrt");
    }

    /**
     * The descriptor's scheduling fields ({@code --dynamic-batching}, {@code --preferred-batch},
     * {@code --max-queue-delay-us}, {@code --instances}).
     *
     * @param maxQueueDelayUs null for the default
     * @param instances       null for the default
     */
    record Scheduling(boolean dynamicBatching, List<Integer> preferredBatch, Long maxQueueDelayUs, Integer instances) {
        static final Scheduling NONE = new Scheduling(false, List.of(), null, null);
    }
}
