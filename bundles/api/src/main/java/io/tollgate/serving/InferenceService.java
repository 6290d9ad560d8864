package io.tollgate.serving;

import java.util.concurrent.CompletionStage;
import org.osgi.annotation.versioning.ProviderType;

/** Runs inferences on the models the serving layer holds. */
@ProviderType
public interface InferenceService {
    /**
     * Runs {@code request} off the caller's thread. The stage completes with the response, or
     * exceptionally with an {@link InferenceException} saying why the request was not served.
     * Never blocks the caller.
     */
    CompletionStage<InferenceResponse> infer(InferenceRequest request);
}
