package io.tollgate.licensing.vendor.cli;

import io.tollgate.licensing.vendor.ModelKeyFile;

import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "encrypt-model", mixinStandardHelpOptions = true,
        description = {"Encrypt a model file (AES-256-GCM, docs/licensing.md \"Encrypted models\") with a new random "
                + "key, written to --key-out (mode 0600, keep it secret). Put the encrypted file in the plugin (its "
                + "descriptor names the key id: \"encryption\": {\"scheme\": \"AES-256-GCM\", \"key_id\": ID}), and "
                + "give the key file to `issue --model-key` with the device's wrap key.",
                "bin/tollgate plugin pack --encrypt-key KEY does both steps while packing."})
final class EncryptModelCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--in", required = true, paramLabel = "MODEL", description = "the model file in clear")
    Path in;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "the encrypted model file to write")
    Path out;

    @Option(names = "--key-out", required = true, paramLabel = "KEY", description = "the key file to write (0600, never overwritten)")
    Path keyOut;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(in)) {
            throw new NoSuchFileException(in.toString(), null, "no such model file");
        }
        if (Files.exists(keyOut)) {
            throw new VendorTool.Failure(VendorTool.FAILED, keyOut + " already exists (a key file is never overwritten;"
                    + " choose another --key-out)");
        }
        SecureRandom random = new SecureRandom();
        ModelKeyFile key = ModelKeyFile.generate(random);
        byte[] encrypted = key.encrypt(Files.readAllBytes(in), random);
        try {
            key.write(keyOut);
        } catch (FileAlreadyExistsException e) {
            throw new VendorTool.Failure(VendorTool.FAILED, keyOut + " already exists");
        }
        Keys.write(out, encrypted);
        var o = spec.commandLine().getOut();
        o.println("encrypted model: " + out + " (" + encrypted.length + " bytes)");
        o.println("key file:        " + keyOut + " (0600, keep it secret)");
        o.println("key id:          " + key.keyId());
        o.println("descriptor:      \"encryption\": {\"scheme\": \"AES-256-GCM\", \"key_id\": \"" + key.keyId() + "\"}");
        return VendorTool.OK;
    }
}
