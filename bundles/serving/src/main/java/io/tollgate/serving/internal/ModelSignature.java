package io.tollgate.serving.internal;

import io.tollgate.engine.spi.LoadedModel;
import io.tollgate.model.ModelDescriptor;
import io.tollgate.model.TensorSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reconciles what a plugin's descriptor declares with what the loaded model file declares. A
 * declared list must name exactly the model's tensors, each with the same datatype and rank; a
 * fixed model dimension must equal the declared one, a dynamic ({@code -1}) model dimension accepts
 * any declared value (so a descriptor may pin what the model leaves open). Lists the descriptor
 * leaves out are taken from the model.
 */
final class ModelSignature {
    private ModelSignature() {
    }

    /**
     * The descriptor requests are checked against: the declared signature where there is one, the
     * model's otherwise.
     *
     * @throws PluginException naming the plugin, the tensor and both specs when they disagree
     */
    static ModelDescriptor reconcile(PluginInfo plugin, String descriptorPath, ModelDescriptor declared,
                                     LoadedModel model) throws PluginException {
        List<TensorSpec> inputs = reconcile(plugin, descriptorPath, "input", declared.inputs(), model.inputs());
        List<TensorSpec> outputs = reconcile(plugin, descriptorPath, "output", declared.outputs(), model.outputs());
        return declared.withSignature(inputs, outputs);
    }

    private static List<TensorSpec> reconcile(PluginInfo plugin, String descriptorPath, String kind,
                                              List<TensorSpec> declared, List<TensorSpec> actual)
            throws PluginException {
        if (declared.isEmpty()) {
            return List.copyOf(actual);
        }
        Map<String, TensorSpec> byName = new LinkedHashMap<>();
        for (TensorSpec s : actual) {
            byName.put(s.name(), s);
        }
        for (TensorSpec d : declared) {
            TensorSpec m = byName.remove(d.name());
            if (m == null) {
                throw new PluginException(plugin.label() + ": " + kind + " '" + d.name() + "' is declared in "
                        + descriptorPath + " but the model file has no such " + kind + "; its " + kind + "s are "
                        + TensorText.specs(actual));
            }
            if (m.type() != d.type() || !fits(m.shape(), d.shape())) {
                throw new PluginException(plugin.label() + ": " + kind + " '" + d.name() + "' is declared as "
                        + d.type() + TensorText.shape(d.shape()) + " in " + descriptorPath + " but the model file has "
                        + m.type() + TensorText.shape(m.shape()) + "; fix the descriptor (or omit '" + kind
                        + "s' to take them from the model)");
            }
        }
        if (!byName.isEmpty()) {
            throw new PluginException(plugin.label() + ": the model file has " + kind + "s " + TensorText.specs(
                    new ArrayList<>(byName.values())) + " that " + descriptorPath + " does not declare; declare every "
                    + kind + " (or omit '" + kind + "s' to take them from the model)");
        }
        return List.copyOf(declared);
    }

    /** A model dimension of -1 accepts anything; a fixed one must be declared identically. */
    private static boolean fits(long[] model, long[] declared) {
        if (model.length != declared.length) {
            return false;
        }
        for (int i = 0; i < model.length; i++) {
            if (model[i] >= 0 && model[i] != declared[i]) {
                return false;
            }
        }
        return true;
    }
}
