package io.tollgate.it.pipeline;

/** A class a descriptor names as its pipeline that does not implement {@code io.tollgate.pipeline.Pipeline}. */
public class NotAPipeline {
}
